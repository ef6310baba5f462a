"""The outbox drained over the bus: each message one signed call, point to point, by the SDK's pump.

``BusSink`` delivers a letter as a ``mail.deposit`` call to the recipient's office (its signed
``Acknowledgement`` comes back, and the handover links the two registrations) and a status change as a
``mail.status`` call to the system that deposited the letter (its ``StatusReceipt`` must name the same
step); a consultation as a ``mail.consult`` call to the consulted office, and its opinion as a
``mail.opinion`` call back to the asking office (the handover checks both answers). ``outbox_pump`` runs ``sdk.outbox.OutboxPump`` over the office's outbox (``OfficeOutbox``): on its
own thread, woken after every change and every ``interval`` seconds, backing off from a destination that
keeps failing while the others go on.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sdk import Client, RequestReply
from sdk.outbox import OutboxPump
from teleservices.mail_office.contract import CONSULT, DEPOSIT, OPINION, STATUS
from teleservices.mail_office.models import (
    Acknowledgement,
    Consultation,
    ConsultationOpinion,
    Deposit,
    OpinionReceipt,
    StatusChange,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxKind, OutboxMessage, Sink

DELIVERY_PURPOSE = "delivery of official correspondence to its recipient"
STATUS_PURPOSE = "processing status of a letter, for the system that deposited it"
CONSULTATION_PURPOSE = "opinion of another administration on a letter in processing"
PUMP_NAME = "mail_office.outbox"


class StatusNotAcknowledged(Exception):
    """The depositing system answered a status change with a receipt for another step."""


_CALLS: dict[OutboxKind, tuple[type, RequestReply[Any, Any], str]] = {
    OutboxKind.LETTER: (Deposit, DEPOSIT, DELIVERY_PURPOSE),
    OutboxKind.STATUS_CHANGE: (StatusChange, STATUS, STATUS_PURPOSE),
    OutboxKind.CONSULTATION: (Consultation, CONSULT, CONSULTATION_PURPOSE),
    OutboxKind.OPINION: (ConsultationOpinion, OPINION, CONSULTATION_PURPOSE),
}
"""Each kind of outbox message: the payload it carries, the contract it is sent with, the stated purpose."""


class BusSink:
    """A ``Sink`` that sends outbox messages with ``client``; returns once the recipient answered."""

    def __init__(self, client: Client, *, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    def __call__(self, message: OutboxMessage) -> Acknowledgement | OpinionReceipt | None:
        payload = message.payload
        call = _CALLS.get(message.kind)
        if call is None or not isinstance(payload, call[0]):
            raise TypeError(f"outbox message {message.id}: {message.kind} with a {type(payload).__name__}")
        _, contract, purpose = call
        answer = self.client.call(
            message.destination, contract, payload, purpose=purpose, timeout=self.timeout, retries=1
        )
        if isinstance(payload, StatusChange):
            if (answer.registration_number, answer.sequence) != (
                payload.registration_number,
                payload.sequence,
            ):
                raise StatusNotAcknowledged(
                    f"{message.destination} acknowledged step {answer.sequence} of "
                    f"{answer.registration_number}, not step {payload.sequence} of "
                    f"{payload.registration_number}"
                )
            return None
        return cast(Acknowledgement | OpinionReceipt, answer)


class OfficeOutbox:
    """An office's outbox as the SDK pump's ``OutboxSource``; ``send`` hands one message over with ``sink``."""

    def __init__(self, office: MailOffice, sink: Sink) -> None:
        self.office = office
        self.sink = sink

    def pending(self, limit: int, exclude: Collection[str]) -> list[OutboxMessage]:
        return self.office.handover.pending(limit, exclude)

    def send(self, message: OutboxMessage) -> None:
        """Send and mark sent in one step, so a letter's acknowledgement that does not fit is a failure."""
        self.office.handover.hand_over(message, self.sink)

    def delivered(self, message: OutboxMessage, result: object) -> None:
        """Already recorded by ``send``, in the transaction that marked the message sent."""

    def failed(self, message: OutboxMessage, error: Exception) -> None:
        self.office.handover.failed(message, error)


def outbox_pump(
    office: MailOffice, sink: Sink, *, interval: float = 5.0, max_backoff: float = 300.0
) -> OutboxPump[OutboxMessage]:
    """The SDK's outbox pump over ``office``'s outbox, sending with ``sink`` (not started)."""
    source = OfficeOutbox(office, sink)
    return OutboxPump(PUMP_NAME, source, source.send, interval=interval, max_backoff=max_backoff)


__all__ = [
    "DELIVERY_PURPOSE",
    "PUMP_NAME",
    "STATUS_PURPOSE",
    "BusSink",
    "OfficeOutbox",
    "StatusNotAcknowledged",
    "outbox_pump",
]
