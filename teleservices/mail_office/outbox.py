"""The outbox: messages the office owes other participants, kept until they have been handed over.

A message is written in the same transaction as the change it reports, so none is lost when the office
stops or the bus is down (the statements are in ``store.outbox``); ``MailOffice.drain`` (``handover``) hands
pending messages to a sink (the bus, or another office in-process) and marks them sent only when the sink
returns. Four kinds:

- ``status-change``: a ``StatusChange`` for the system that deposited an incoming letter.
- ``letter``: an outgoing letter to deliver as a ``Deposit``; the sink returns the recipient's
  ``Acknowledgement``, which links the two registrations.
- ``consultation``: a ``Consultation`` asking another administration's office for an opinion on a letter.
- ``opinion``: the ``ConsultationOpinion`` answering a consultation, for the office that asked.

Delivery is at least once: a message handed over just before a crash is handed over again, and
receivers deduplicate (a deposit by its digest, a status change by its sequence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from teleservices.mail_office.models import (
    Acknowledgement,
    Consultation,
    ConsultationOpinion,
    Deposit,
    OpinionReceipt,
    StatusChange,
)


class OutboxKind(StrEnum):
    """What an outbox message carries."""

    STATUS_CHANGE = "status-change"
    LETTER = "letter"
    CONSULTATION = "consultation"
    OPINION = "opinion"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One pending message: where it goes and what it says."""

    id: int
    kind: OutboxKind
    destination: str  # the participant id to send it to
    registration_number: str  # the letter it is about, in this office
    payload: StatusChange | Deposit | Consultation | ConsultationOpinion | None
    """A letter's deposit is built when it is sent (None in listings)."""
    created_at: str
    attempts: int
    last_error: str | None

    @property
    def recipient(self) -> str:
        """The destination, as the SDK's outbox pump names it."""
        return self.destination


Sink = Callable[[OutboxMessage], Acknowledgement | OpinionReceipt | None]
"""Sends one message; returns the recipient's acknowledgement for a letter; raises when sending failed."""


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one drain did: messages sent, failed (with the reason), and held back behind a failure."""

    sent: tuple[int, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()
    held: tuple[int, ...] = ()
