"""The values the store hands out and takes in: a letter's row, a letter to register, a history step."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from teleservices.mail_office.models import Acknowledgement, Attachment, Party, PartyKind
from teleservices.mail_office.workflow import Action, Direction, Status


def party(row: sqlite3.Row, side: str) -> Party:
    """The ``sender`` or ``recipient`` columns of a ``mails`` row."""
    return Party(kind=PartyKind(row[f"{side}_kind"]), identifier=row[f"{side}_id"], name=row[f"{side}_name"])


def date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def time_or_none(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class MailRow:
    """A registered letter as the office's parts work with it (its history and attachments aside)."""

    id: int
    direction: Direction
    number: str
    status: Status
    subject: str
    body: str | None
    sender: Party
    recipient: Party
    mail_type: str
    deadline: date | None
    service: str | None
    agent: str | None
    digest: str  # deposit digest (for outgoing mail: of the deposit that delivers it)
    channel: str | None  # incoming: the system that deposited it; outgoing: where it goes
    linked_number: str | None  # the other side's registration of the same letter
    linked_sequence: int | None  # outgoing: the last step the recipient reported
    answers: str | None  # the registration number, as the recipient knows it, this letter answers

    @classmethod
    def of(cls, row: sqlite3.Row) -> MailRow:
        return cls(
            id=int(row["id"]),
            direction=Direction(row["direction"]),
            number=row["number"],
            status=Status(row["status"]),
            subject=row["subject"],
            body=row["body"],
            sender=party(row, "sender"),
            recipient=party(row, "recipient"),
            mail_type=row["mail_type"],
            deadline=date_or_none(row["deadline"]),
            service=row["service"],
            agent=row["agent"],
            digest=row["digest"],
            channel=row["channel"],
            linked_number=row["linked_number"],
            linked_sequence=row["linked_sequence"],
            answers=row["answers"],
        )


@dataclass(frozen=True, slots=True)
class NewMail:
    """A letter to register: everything its row holds when it is inserted (status ``registered``)."""

    direction: Direction
    year: int
    counter: int
    number: str
    subject: str
    body: str | None
    sender: Party
    recipient: Party
    mail_type: str
    registered_at: datetime
    registered_on: date  # the office's local date
    deadline: date | None
    service: str | None
    digest: str
    channel: str | None
    linked_number: str | None
    in_reply_to: int | None  # the local letter this one answers
    answers: str | None
    acknowledgement: Acknowledgement | None  # incoming: the one issued
    attachments: Sequence[Attachment]


@dataclass(frozen=True, slots=True)
class Step:
    """One history entry to append."""

    action: Action
    old: Status | None
    new: Status
    actor: str
    at: datetime
    service: str | None
    agent: str | None
    comment: str | None = None
