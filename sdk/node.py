"""A running participant: identity, trust, catalogue, message log, idempotency store and transport.

One ``Node`` per participant per process, shared by its handlers (thread-safe) and its clients.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import lxml.etree as etree
import structlog

from bus.envelope import EnvelopeVerifier, Header, MessageKind, VerifiedEnvelope, sign_envelope
from bus.envelope.replay import MemoryReplayCache
from bus.faults import Fault
from bus.ids import ParticipantId, ServiceId
from bus.metrics import FAULTS, MESSAGES
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.registry.catalogue import Catalogue
from bus.registry.store import CatalogueView
from bus.transport import connect
from bus.transport.base import Transport
from sdk.fault_message import fault_payload
from sdk.idempotency import SqliteIdempotencyStore
from sdk.messagelog import LogSettings, open_message_log

if TYPE_CHECKING:
    from sdk.anchoring import AnchorSender

log = structlog.get_logger("govbus.messages")

ANSWER_TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One message for the participant's log: ``Node.record``'s arguments."""

    direction: str
    raw: bytes
    header: Header | None
    outcome: str
    fault: Fault | None = None
    started: float | None = None
    service: str | None = None

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


class Node:
    """Everything a participant process needs to send and receive signed messages."""

    def __init__(
        self,
        participant: ParticipantId | str,
        *,
        home: BusHome | str | Path,
        broker: str | Transport = "memory://",
        prefix: str = "govbus",
        recorder: MessageRecorder | None = None,
        checkpoint_interval: float | None = None,
        service_modes: Mapping[str, str] | None = None,
        synchronous: str | None = None,
    ) -> None:
        """``checkpoint_interval``, ``service_modes`` and ``synchronous`` set the message log (see
        ``sdk.messagelog``: arguments, else the environment, else defaults); ignored with ``recorder``."""
        self.participant = (
            participant if isinstance(participant, ParticipantId) else ParticipantId.parse(participant)
        )
        self.home = home if isinstance(home, BusHome) else BusHome.at(home)
        self.identity = SigningIdentity.from_home(self.home, self.participant)
        self.trust = TrustStore.from_home(self.home)
        self.verifier = EnvelopeVerifier(self.trust)
        self.answer_verifier = EnvelopeVerifier(self.trust, replay_cache=MemoryReplayCache())
        self.catalogue_view = CatalogueView(self.home)
        self.data_dir = self.home.participant_dir(self.participant)
        self.handled = SqliteIdempotencyStore(self.data_dir / "state.sqlite")
        self.anchor_sender: AnchorSender | None = None
        self.recorder = (
            recorder
            if recorder is not None
            else _open_default_recorder(
                self,
                LogSettings.resolve(
                    checkpoint_interval=checkpoint_interval,
                    service_modes=service_modes,
                    synchronous=synchronous,
                ),
            )
        )
        self._owns_transport = isinstance(broker, str)
        self.transport = connect(broker, prefix=prefix) if isinstance(broker, str) else broker
        self.log = log.bind(participant=str(self.participant))
        self._inbox: Any = None
        if self.anchor_sender is not None:
            latest = getattr(self.recorder, "latest_checkpoint", lambda: None)()
            if latest is not None:
                self.anchor_sender.submit(latest)  # the final checkpoint of the last run, if not yet anchored
            self.anchor_sender.start()

    @property
    def catalogue(self) -> Catalogue:
        return self.catalogue_view.current

    def sign(self, header: Header, payload: etree._Element) -> bytes:
        return sign_envelope(header, payload, self.identity)

    def answer(
        self,
        kind: MessageKind,
        request: VerifiedEnvelope,
        payload: etree._Element,
    ) -> tuple[Header, bytes]:
        """Sign a response or receipt to ``request``, carrying its id and the digest of its bytes."""
        header = Header.new(
            kind,
            self.participant,
            request.header.service,
            ttl=ANSWER_TTL,
            correlation_id=request.header.id,
            request_hash=request.digest,
            user_id=request.header.user_id,
            purpose=request.header.purpose,
        )
        return header, self.sign(header, payload)

    def fault_answer(
        self, fault: Fault, *, service: ServiceId, correlation_id: str | None
    ) -> tuple[Header, bytes]:
        """Sign a fault message about a refused or failed message."""
        header = Header.new(
            MessageKind.FAULT, self.participant, service, ttl=ANSWER_TTL, correlation_id=correlation_id
        )
        return header, self.sign(header, fault_payload(fault))

    def record(
        self,
        direction: str,
        raw: bytes,
        *,
        header: Header | None,
        outcome: str,
        fault: Fault | None = None,
        started: float | None = None,
        service: str | None = None,
    ) -> None:
        """Write the message log entry (before any acknowledgement), count it and log one line."""
        self.record_many([LogEntry(direction, raw, header, outcome, fault, started, service)])

    def record_many(self, entries: Sequence[LogEntry]) -> None:
        """Write several message log entries in one log transaction, then count and log each."""
        recorder = self.recorder
        if recorder is not None:
            many = getattr(recorder, "record_many", None)
            if many is not None and len(entries) > 1:
                from bus.audit.log import RecordEntry

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

    def record_sent(self, sent: list[tuple[Header, bytes]]) -> None:
        """Log several signed outgoing messages in one log transaction (before any of them is sent)."""
        self.record_many([LogEntry("out", raw, header, "sent") for header, raw in sent])

    def _announce(self, entry: LogEntry) -> None:
        """Count a logged message and write its JSON log line."""
        header, fault = entry.header, entry.fault
        service_text = str(header.service) if header is not None else (entry.service or "?")
        kind = str(header.kind) if header is not None else "?"
        MESSAGES.labels(service_text, kind, entry.direction, entry.outcome).inc()
        if fault is not None:
            FAULTS.labels(entry.fault_code).inc()
        self.log.info(
            "message",
            id=header.id if header is not None else None,
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

    def inbox(self) -> Any:
        """This participant's receipt inbox consumer, started on first use."""
        if self._inbox is None:
            from sdk.receipts import ReceiptInbox

            self._inbox = ReceiptInbox(self)
        return self._inbox

    def close(self) -> None:
        if self._inbox is not None:
            self._inbox.close()
        if self.anchor_sender is not None:
            self.anchor_sender.close()
        if self._owns_transport:
            self.transport.close()
        self.handled.close()
        closer = getattr(self.recorder, "close", None)
        if closer is not None:
            closer()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_default_recorder(node: Node, settings: LogSettings) -> MessageRecorder | None:
    """The participant's message log in its directory, anchored when the catalogue grants an anchor."""
    return open_message_log(node, settings)  # type: ignore[no-any-return]
