"""What every part of an office shares: its store, configuration, clock and attachments, and the two
steps that write a letter's history, registering it and moving it through the desk's state machine.

Both steps run inside the caller's write transaction. A move of an incoming letter deposited over the
bus queues a ``StatusChange`` for its depositor in the same transaction (the outbox), so the depositor
learns every step once the transaction commits, and only then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from teleservices.mail_office.attachments import AttachmentStore
from teleservices.mail_office.clock import Clock, utc_millis
from teleservices.mail_office.config import OfficeConfig
from teleservices.mail_office.models import StatusChange
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.store import MailRow, NewMail, OfficeStore, Step, Tx
from teleservices.mail_office.workflow import Action, Direction, Status, next_status

Handler = tuple[str | None, str | None]
"""The service and agent a letter is handed to."""


@dataclass(frozen=True, slots=True)
class Ledger:
    """One office's shared state; its parts (intake, desk, outgoing, registers, handover) hold one each."""

    store: OfficeStore
    config: OfficeConfig
    attachments: AttachmentStore
    clock: Clock

    @property
    def participant(self) -> str:
        return self.config.participant

    def now(self) -> datetime:
        """The office clock, in UTC, to the millisecond."""
        return utc_millis(self.clock())

    def local_date(self, moment: datetime | None = None) -> date:
        """The office's local date at ``moment`` (default: now)."""
        return (moment or self.now()).astimezone(self.config.zone).date()

    def number(self, tx: Tx, direction: Direction, on: date) -> tuple[int, str]:
        """Take the next counter of ``direction``'s register for ``on``'s year; the counter and its number."""
        counter = tx.mails.next_counter(direction.register, on.year)
        return counter, self.config.numbers.render(self.config.code, on.year, direction.register, counter)

    def register(self, tx: Tx, mail: NewMail, *, actor: str) -> int:
        """Insert ``mail`` and the first entry of its history; returns its row id."""
        mail_id = tx.mails.insert(mail)
        tx.mails.append_history(
            mail_id,
            Step(
                Action.REGISTER,
                None,
                Status.REGISTERED,
                actor=actor,
                at=mail.registered_at,
                service=mail.service,
                agent=None,
            ),
        )
        return mail_id

    def move(
        self,
        tx: Tx,
        row: MailRow,
        action: Action,
        *,
        actor: str,
        comment: str | None = None,
        at: datetime | None = None,
        to: Handler | None = None,
    ) -> Status:
        """Move a letter by ``action`` (or raise ``InvalidTransition``), record it, and tell its depositor.

        ``to`` hands the letter to another service and agent; by default they stay as they are.
        """
        new = next_status(row.number, row.direction, row.status, action)
        at = at or self.now()
        service, agent = to if to is not None else (row.service, row.agent)
        tx.mails.move(row.id, new, service=service, agent=agent)
        step = Step(
            action, row.status, new, actor=actor, at=at, service=service, agent=agent, comment=comment
        )
        sequence = tx.mails.append_history(row.id, step)
        if row.direction is Direction.INCOMING and row.channel:
            change = StatusChange(
                registration_number=row.number,
                sequence=sequence,
                action=action,
                old_status=row.status,
                new_status=new,
                actor=actor,
                time=at,
                service=service,
                comment=comment,
            )
            tx.outbox.enqueue(
                OutboxKind.STATUS_CHANGE, destination=row.channel, mail_id=row.id, at=at, payload=change
            )
        return new
