"""The outbox drained over the bus: each message one signed call, point to point.

``BusSink`` delivers a letter as a ``mail.deposit`` call to the recipient's office (its signed
``Acknowledgement`` comes back, and ``MailOffice.drain`` links the two registrations) and a status change
as a ``mail.status`` call to the system that deposited the letter (its ``StatusReceipt`` must name the
same step). ``OutboxPump`` drains on its own thread, woken after every change and every ``interval``
seconds, backing off from a destination that keeps failing while the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from sdk import Client
from sdk.backoff import RecipientBackoff
from sdk.periodic import Periodic
from teleservices.mail_office.contract import DEPOSIT, STATUS
from teleservices.mail_office.models import Acknowledgement, Deposit, StatusChange
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink

log = structlog.get_logger(__name__)

DELIVERY_PURPOSE = "delivery of official correspondence to its recipient"
STATUS_PURPOSE = "processing status of a letter, for the system that deposited it"


class StatusNotAcknowledged(Exception):
    """The depositing system answered a status change with a receipt for another step."""


class BusSink:
    """A ``Sink`` that sends outbox messages with ``client``; returns once the recipient answered."""

    def __init__(self, client: Client, *, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    def __call__(self, message: OutboxMessage) -> Acknowledgement | None:
        payload = message.payload
        if message.kind is OutboxKind.LETTER and isinstance(payload, Deposit):
            return self.client.call(
                message.destination,
                DEPOSIT,
                payload,
                purpose=DELIVERY_PURPOSE,
                timeout=self.timeout,
                retries=1,
            )
        if message.kind is OutboxKind.STATUS_CHANGE and isinstance(payload, StatusChange):
            receipt = self.client.call(
                message.destination,
                STATUS,
                payload,
                purpose=STATUS_PURPOSE,
                timeout=self.timeout,
                retries=1,
            )
            if (receipt.registration_number, receipt.sequence) != (
                payload.registration_number,
                payload.sequence,
            ):
                raise StatusNotAcknowledged(
                    f"{message.destination} acknowledged step {receipt.sequence} of "
                    f"{receipt.registration_number}, not step {payload.sequence} of "
                    f"{payload.registration_number}"
                )
            return None
        raise TypeError(f"outbox message {message.id}: {message.kind} with a {type(payload).__name__}")


class OutboxPump:
    """Drains ``office``'s outbox through ``sink`` on its own thread, so no handler waits for a recipient."""

    def __init__(
        self,
        office: MailOffice,
        sink: Sink,
        *,
        interval: float = 5.0,
        max_backoff: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.office = office
        self.sink = sink
        self.backoff = RecipientBackoff(
            base=interval, maximum=max_backoff, event="mail_office.destination_backoff", monotonic=monotonic
        )
        self._periodic = Periodic("mail-office-outbox", self.drain, interval=interval)

    def start(self) -> OutboxPump:
        self._periodic.start()
        return self

    def wake(self) -> None:
        """Drain soon (after a change); never blocks."""
        self._periodic.wake()

    def stop(self, timeout: float = 15.0) -> None:
        self._periodic.stop(timeout)

    def drain(self) -> DrainReport:
        """One pass over the outbox, skipping destinations in backoff."""
        report = self.office.drain(self._send, to=self.backoff.ready)
        for message_id, reason in report.failed:
            log.warning(
                "mail_office.outbox_failed", office=self.office.participant, id=message_id, error=reason
            )
        if report.sent:
            log.info("mail_office.outbox_sent", office=self.office.participant, count=len(report.sent))
        return report

    def _send(self, message: OutboxMessage) -> Acknowledgement | None:
        try:
            result = self.sink(message)
        except Exception as error:
            self.backoff.failed(message.destination, error)
            raise
        self.backoff.succeeded(message.destination)
        return result


__all__ = ["DELIVERY_PURPOSE", "STATUS_PURPOSE", "BusSink", "OutboxPump", "StatusNotAcknowledged"]
