"""Signed receipts coming back to a notifier's durable inbox, matched to the notifications it sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from bus.envelope import EnvelopeVerifier, MessageKind
from bus.envelope.model import Header
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import Right
from bus.transport.base import ConsumerHandle, Delivery, Transport
from sdk.context import Context, Scope
from sdk.contract import Notification, Payload, decode
from sdk.fault_message import fault_from_payload
from sdk.journal import Journal, LogEntry
from sdk.sealing import Sealing
from sdk.state import ParticipantState

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    """One subscriber's signed answer to a notification: a receipt payload, or the fault it refused with."""

    subscriber: ParticipantId
    header: Header
    payload: Payload | None = None
    fault: Fault | None = None


@dataclass(slots=True)
class NotifyResult:
    """What came back for one notification within the wait."""

    notification_id: str
    service: ServiceId
    expected: list[ParticipantId]
    receipts: list[Receipt] = field(default_factory=list)

    @property
    def missing(self) -> list[ParticipantId]:
        """Subscribers granted the service whose receipt has not arrived (yet)."""
        answered = {r.subscriber for r in self.receipts}
        return [p for p in self.expected if p not in answered]


ReceiptHandler = Callable[[Receipt, Context], None]


class _Waiter:
    def __init__(self, expected: set[ParticipantId]) -> None:
        self.expected = expected
        self.receipts: list[Receipt] = []
        self.condition = threading.Condition()

    def add(self, receipt: Receipt) -> None:
        with self.condition:
            if all(r.subscriber != receipt.subscriber for r in self.receipts):
                self.receipts.append(receipt)
            self.condition.notify_all()

    def wait(self, timeout: float) -> list[Receipt]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while not self.expected <= {r.subscriber for r in self.receipts}:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.condition.wait(remaining)
            return list(self.receipts)


class SentNotifications(ParticipantState):
    """Digest of every notification sent, so a receipt's ``requestHash`` can be checked at any later time.

    Its table lives in the participant's state store (``sdk.state``), whose schema versions it shares.
    """

    def add(self, message_id: str, digest: str, service: ServiceId) -> None:
        self.add_many([(message_id, digest, service)])

    def add_many(self, sent: list[tuple[str, str, ServiceId]]) -> None:
        """Keep the digests of several notifications, in one transaction."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO sent_notifications VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " digest = excluded.digest, service = excluded.service, sent_at = excluded.sent_at",
                [(message_id, digest, str(service), now) for message_id, digest, service in sent],
            )

    def digest(self, message_id: str) -> str | None:
        row = self.fetchone("SELECT digest FROM sent_notifications WHERE id = ?", (message_id,))
        return str(row[0]) if row else None


class ReceiptInbox:
    """Consumes the participant's inbox: verifies each receipt, logs it, hands it to waiters and handlers.

    Built with its node and idle: its store opens and its consumer starts on first use (a participant
    that never notifies never consumes an inbox).
    """

    def __init__(
        self,
        *,
        scope: Scope,
        transport: Transport,
        verifier: EnvelopeVerifier,
        journal: Journal,
        concurrency: int = 2,
        sealing: Sealing | None = None,
    ) -> None:
        """``sealing`` opens the receipts of confidential services (sealed for this participant)."""
        self.sealing = sealing
        self.scope = scope
        self.transport = transport
        self.verifier = verifier
        self.journal = journal
        self.concurrency = concurrency
        self._waiters: dict[str, _Waiter] = {}
        self._handlers: dict[tuple[str, int], tuple[Notification[Any, Any], ReceiptHandler | None]] = {}
        self._lock = threading.Lock()
        self._sent: SentNotifications | None = None
        self._consumer: ConsumerHandle | None = None

    @property
    def sent(self) -> SentNotifications:
        """The digests of the notifications sent (the inbox starts consuming on first use)."""
        with self._lock:
            if self._sent is None:
                self._sent = SentNotifications.open(self.scope.storage)
                queue, _ = self.transport.declare_inbox(str(self.scope.participant))
                self._consumer = self.transport.consume(
                    queue, self._on_delivery, concurrency=self.concurrency
                )
            return self._sent

    def register(self, contract: Notification[Any, Any], handler: ReceiptHandler | None = None) -> None:
        """Decode receipts of ``contract`` with its model; pass each to ``handler`` (kept if None is given)."""
        self.sent  # noqa: B018 - start consuming
        key = (contract.code, contract.version)
        with self._lock:
            _, current = self._handlers.get(key, (contract, None))
            self._handlers[key] = (contract, handler or current)

    def expect(
        self, message_id: str, digest: str, service: ServiceId, expected: list[ParticipantId]
    ) -> _Waiter:
        self.sent.add(message_id, digest, service)
        waiter = _Waiter(set(expected))
        with self._lock:
            self._waiters[message_id] = waiter
        return waiter

    def forget(self, message_id: str) -> None:
        with self._lock:
            self._waiters.pop(message_id, None)

    def _on_delivery(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        raw = delivery.body
        try:
            if delivery.refusal is not None:  # refused by its AMQP properties (bus.transport.properties)
                raise delivery.refusal
            verified = self.verifier.verify(raw)
            header = verified.header
            if header.kind not in (MessageKind.RECEIPT, MessageKind.FAULT):
                raise Fault(FaultCode.WRONG_RECIPIENT, f"a {header.kind} message does not belong in an inbox")
            if header.kind is MessageKind.RECEIPT:
                expected = self.sent.digest(header.correlation_id or "")
                if expected is None or header.request_hash != expected:
                    raise Fault(
                        FaultCode.RESPONSE_MISMATCH, "receipt does not answer a notification sent from here"
                    )
            if not self.scope.catalogue_view.current.allows(header.client, header.service, Right.SUBSCRIBE):
                raise Fault(
                    FaultCode.ACCESS_DENIED, f"{header.client} is not a subscriber of {header.service}"
                )
            if self.sealing is not None:
                verified = self.sealing.open(verified)
        except Fault as fault:
            self.journal.record(LogEntry("in", raw, None, "rejected", fault, started, "inbox"))
            delivery.reject()
            return
        self.journal.record(LogEntry("in", raw, header, "accepted", started=started))
        with self._lock:
            contract, handler = self._handlers.get(
                (header.service.code, header.service.version), (None, None)
            )
            waiter = self._waiters.get(header.correlation_id or "")
        receipt = self._receipt(verified.payload, header, contract)
        if waiter is not None:
            waiter.add(receipt)
        if handler is not None:
            handler(receipt, Context(header, self.scope, delivery.redelivered))

    @staticmethod
    def _receipt(payload: Any, header: Header, contract: Notification[Any, Any] | None) -> Receipt:
        if header.kind is MessageKind.FAULT:
            return Receipt(header.client, header, fault=fault_from_payload(payload))
        if contract is None:
            return Receipt(header.client, header)
        try:
            return Receipt(header.client, header, payload=decode(payload, contract.receipt, contract.schema))
        except Fault as fault:
            return Receipt(header.client, header, fault=fault)

    def close(self) -> None:
        with self._lock:
            consumer, sent = self._consumer, self._sent
            self._consumer = self._sent = None
        if consumer is not None:
            consumer.cancel()
        if sent is not None:
            sent.close()
