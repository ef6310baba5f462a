"""What the demo's participants logged: every message sent, verified, refused or answered, in order.

The trace sits in front of each node's message recorder (which it still feeds), so what it shows is what
the participants themselves recorded, not what the demo assumed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sdk import Node

SENT = "sent"
ACCEPTED = "accepted"
SHORT_ID = 8


@dataclass(frozen=True, slots=True)
class Event:
    """One message as ``participant`` recorded it."""

    participant: str
    direction: str  # in | out
    outcome: str  # sent, accepted, refused, rejected, fault, duplicate, ...
    kind: str | None = None
    message_id: str | None = None
    signer: str | None = None
    service: str | None = None
    correlation_id: str | None = None
    fault_code: str | None = None

    @property
    def short_id(self) -> str:
        return (self.message_id or "?")[:SHORT_ID]

    @property
    def short_correlation(self) -> str:
        return (self.correlation_id or "?")[:SHORT_ID]


class Trace:
    """Events of every watched node, taken step by step."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._taken = 0
        self._lock = threading.Lock()

    def watch(self, node: Node) -> None:
        """Record what ``node`` logs (its own message log keeps working)."""
        node.recorder = _TracingRecorder(self, str(node.participant), node.recorder)

    def add(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def take(self) -> list[Event]:
        """Events since the last ``take``, in a stable order (see ``stage``)."""
        with self._lock:
            events = self._events[self._taken :]
            self._taken = len(self._events)
        return sorted(events, key=lambda e: (stage(e), e.participant, e.signer or ""))

    def all(self) -> list[Event]:
        with self._lock:
            return list(self._events)


def stage(event: Event) -> int:
    """Causal order of an exchange: sent, received, answered, answer received."""
    if event.kind in ("request", "notification", None):
        return 0 if event.direction == "out" else 1
    return 2 if event.direction == "out" else 3


class _TracingRecorder:
    """A message recorder that adds each record to the trace and passes it on."""

    def __init__(self, trace: Trace, participant: str, inner: Any) -> None:
        self._trace = trace
        self._participant = participant
        self._inner = inner

    def record(
        self,
        direction: str,
        raw: bytes,
        *,
        header: Any,
        outcome: str,
        fault_code: str | None = None,
        **details: Any,
    ) -> Any:
        if header is None:
            event = Event(self._participant, direction, outcome, fault_code=fault_code)
        else:
            event = Event(
                self._participant,
                direction,
                outcome,
                kind=str(header.kind),
                message_id=header.id,
                signer=str(header.client),
                service=str(header.service),
                correlation_id=header.correlation_id,
                fault_code=fault_code,
            )
        self._trace.add(event)
        if self._inner is not None:
            return self._inner.record(
                direction, raw, header=header, outcome=outcome, fault_code=fault_code, **details
            )
        return None

    def close(self) -> None:
        closer = getattr(self._inner, "close", None)
        if closer is not None:
            closer()
