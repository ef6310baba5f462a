"""Events over the bus: the outbox drained into signed calls to each recipient's event service.

``BusSink`` turns one event into one request/reply call, point to point: a folder event goes to the
folder's ``notifyService`` or to the submitter's ``signature-book.event``, a delegation event to the
substitute's ``signature-book.delegation-event``. The recipient's signed ``EventAck`` (naming the
event) is the proof of delivery. The SDK's ``OutboxPump`` drains the outbox through it (see ``service``).
"""

from __future__ import annotations

from typing import Any

from sdk import Client, RequestReply
from teleservices.signature_book._bus import Fault, ParticipantId, ServiceId
from teleservices.signature_book.contract import DELEGATION_EVENT, FOLDER_EVENT, folder_event_contract
from teleservices.signature_book.events import BookEvent
from teleservices.signature_book.models import DelegationEvent


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


__all__ = ["BusSink", "EventNotAcknowledged", "event_target"]
