"""A participant's record of every message it sends and receives: the log entry, a metric, a JSON line.

Every entry is written to the tamper-evident message log (before any acknowledgement), counted, and
announced as one ``message`` log line carrying the message id, its correlation id and the peer (the
other participant: the sender of what came in, the recipient service's provider of what went out).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from bus.audit.log import RecordEntry
from bus.envelope import Header
from bus.faults import Fault
from bus.ids import ParticipantId
from bus.metrics import FAULTS, MESSAGES

log = structlog.get_logger("govbus.messages")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One message for the participant's log."""

    direction: str
    raw: bytes
    header: Header | None
    outcome: str
    fault: Fault | None = None
    started: float | None = None
    service: str | None = None
    peer: str | None = None
    """The other participant, when the header does not tell (the requester of an answer we send)."""

    @property
    def fault_code(self) -> str | None:
        return str(self.fault.code) if self.fault is not None else None

    @property
    def fault_reason(self) -> str | None:
        return self.fault.reason if self.fault is not None else None


class MessageRecorder(Protocol):
    """The participant's tamper-evident message log (see bus.audit)."""

    def record(
        self,
        direction: str,
        raw: bytes,
        *,
        header: Header | None,
        outcome: str,
        fault_code: str | None = None,
        fault_reason: str | None = None,
    ) -> Any: ...


class Journal:
    """Writes, counts and announces the messages of one participant; thread-safe as its recorder is."""

    def __init__(self, participant: ParticipantId, recorder: MessageRecorder | None) -> None:
        self.participant = participant
        self.recorder = recorder

    def record(self, entry: LogEntry) -> None:
        self.record_many([entry])

    def record_many(self, entries: Sequence[LogEntry]) -> None:
        """Write several entries in one log transaction (when the log can), then count and announce each."""
        recorder = self.recorder
        if recorder is not None:
            many = getattr(recorder, "record_many", None)
            if many is not None and len(entries) > 1:
                many(
                    [
                        RecordEntry(e.direction, e.raw, e.header, e.outcome, e.fault_code, e.fault_reason)
                        for e in entries
                    ]
                )
            else:
                for e in entries:
                    recorder.record(
                        e.direction,
                        e.raw,
                        header=e.header,
                        outcome=e.outcome,
                        fault_code=e.fault_code,
                        fault_reason=e.fault_reason,
                    )
        for entry in entries:
            self._announce(entry)

    def _announce(self, entry: LogEntry) -> None:
        header, fault = entry.header, entry.fault
        service_text = str(header.service) if header is not None else (entry.service or "?")
        kind = str(header.kind) if header is not None else "?"
        MESSAGES.labels(service_text, kind, entry.direction, entry.outcome).inc()
        if fault is not None:
            FAULTS.labels(entry.fault_code).inc()
        if not _info_enabled():
            return  # the line's fields are not even built: the message path at WARNING and above
        log.info(  # the module's lazy logger: a logging configuration made later applies
            "message",
            participant=str(self.participant),
            id=header.id if header is not None else None,
            correlation_id=header.correlation_id if header is not None else None,
            peer=_peer(entry, self.participant),
            client=str(header.client) if header is not None else None,
            service=service_text,
            kind=kind,
            direction=entry.direction,
            outcome=entry.outcome,
            fault=entry.fault_code,
            reason=entry.fault_reason,
            duration_ms=(
                round((time.perf_counter() - entry.started) * 1000, 3) if entry.started is not None else None
            ),
            size=len(entry.raw),
            sha256=hashlib.sha256(entry.raw).hexdigest() if fault is not None else None,
        )


def _info_enabled() -> bool:
    """Whether the current logging configuration writes INFO lines (asked at each call: it may change)."""
    wrapper = structlog.get_config()["wrapper_class"]
    enabled = getattr(wrapper, "is_enabled_for", None)
    return enabled is None or bool(enabled(None, logging.INFO))


def _peer(entry: LogEntry, participant: ParticipantId) -> str | None:
    """The other participant of a message: who signed what came in, whom what goes out is for."""
    header = entry.header
    if entry.peer is not None or header is None:
        return entry.peer
    if entry.direction == "in":
        return str(header.client)
    provider = header.service.provider
    return None if provider == participant else str(provider)


__all__ = ["Journal", "LogEntry", "MessageRecorder"]
