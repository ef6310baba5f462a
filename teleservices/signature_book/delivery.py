"""Events over the bus: the outbox drained into signed calls to each recipient's event service.

``BusSink`` turns one event into one request/reply call, point to point: a folder event goes to the
folder's ``notifyService`` or to the submitter's ``signature-book.event``, a delegation event to the
substitute's ``signature-book.delegation-event``. The recipient's signed ``EventAck`` (naming the
event) is the proof of delivery. ``EventPump`` is the thread that drains the outbox: woken after every
state change and every ``interval`` seconds, backing off from a recipient that keeps failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from sdk import Client, RequestReply
from sdk.backoff import RecipientBackoff
from sdk.periodic import Periodic
from teleservices.signature_book._bus import Fault, ParticipantId, ServiceId
from teleservices.signature_book.book import SignatureBook
from teleservices.signature_book.contract import DELEGATION_EVENT, FOLDER_EVENT, folder_event_contract
from teleservices.signature_book.events import BookEvent, EventSink
from teleservices.signature_book.models import DelegationEvent

log = structlog.get_logger(__name__)


def event_target(recipient: str, event: BookEvent) -> tuple[ParticipantId, RequestReply[Any, Any]]:
    """The participant and contract an event is delivered to.

    A folder event's recipient is a service id (the folder's ``notifyService``) or a participant (its
    ``signature-book.event``); a delegation event's is the substitute.
    """
    if isinstance(event, DelegationEvent):
        return ParticipantId.parse(recipient), DELEGATION_EVENT
    try:
        service = ServiceId.parse(recipient)
    except Fault:
        return ParticipantId.parse(recipient), FOLDER_EVENT
    return service.provider, folder_event_contract(service.code, service.version)


class EventNotAcknowledged(Exception):
    """The recipient answered with an acknowledgement of another event."""


class BusSink:
    """Delivers each event as a signed call to its recipient; returns once the recipient acknowledged it."""

    def __init__(self, client: Client, *, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    def deliver(self, recipient: str, event: BookEvent) -> None:
        provider, contract = event_target(recipient, event)
        ack = self.client.call(provider, contract, event, timeout=self.timeout, retries=1)
        if ack.event_id != event.event_id:
            raise EventNotAcknowledged(f"{provider} acknowledged {ack.event_id}, not {event.event_id}")


class _Watched:
    """A sink that tells the pump which recipients failed and which took their events."""

    def __init__(self, sink: EventSink, pump: EventPump) -> None:
        self.sink = sink
        self.pump = pump

    def deliver(self, recipient: str, event: BookEvent) -> None:
        try:
            self.sink.deliver(recipient, event)
        except Exception as error:
            self.pump.failed(recipient, error)
            raise
        self.pump.succeeded(recipient)


class EventPump:
    """Drains ``book``'s outbox through ``sink`` on its own thread, so no handler waits for a recipient."""

    def __init__(
        self,
        book: SignatureBook,
        sink: EventSink,
        *,
        interval: float = 5.0,
        max_backoff: float = 300.0,
        batch: int = 100,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self.sink = _Watched(sink, self)
        self.batch = batch
        self.backoff = RecipientBackoff(
            base=interval, maximum=max_backoff, event="signature_book.recipient_backoff", monotonic=monotonic
        )
        self._periodic = Periodic("signature-book-events", self.drain, interval=interval)

    def start(self) -> EventPump:
        self._periodic.start()
        return self

    def wake(self) -> None:
        """Drain soon (after a state change); never blocks."""
        self._periodic.wake()

    def stop(self, timeout: float = 15.0) -> None:
        self._periodic.stop(timeout)

    def drain(self) -> int:
        """One pass over the outbox, skipping recipients in backoff; return how many events went."""
        total = 0
        while not self._periodic.stopping:
            delivered = self.book.deliver_events(self.sink, limit=self.batch, exclude=self.backoff.held())
            total += delivered
            if delivered < self.batch:
                return total
        return total

    def failed(self, recipient: str, error: Exception) -> None:
        self.backoff.failed(recipient, error)

    def succeeded(self, recipient: str) -> None:
        self.backoff.succeeded(recipient)


__all__ = ["BusSink", "EventNotAcknowledged", "EventPump", "event_target"]
