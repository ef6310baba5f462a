"""Outgoing mail (register ``D``): letters sent and replies, their delivery, and news of them from recipients.

A letter to an administration is queued in the outbox in the transaction that registers it; delivering
it deposits it with the recipient's office, whose acknowledgement is recorded here and links the two
registrations (``registered --deliver--> delivered``). The recipient then reports its own steps, kept as
the letter's ``linked_status`` (older or repeated steps are ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from teleservices.mail_office.checks import ACTOR, check, check_digests, checked
from teleservices.mail_office.errors import NotDeliverable, UnknownRegistration
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import (
    Acknowledgement,
    Attachment,
    Deposit,
    MailRecord,
    Party,
    PartyKind,
    Send,
    StatusChange,
    deposit_digest,
    format_utc_millis,
)
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.parties import check_party, same_administration
from teleservices.mail_office.store import MailRow, NewMail, Tx
from teleservices.mail_office.workflow import Action, Direction, Status


class Outgoing:
    """Registers, delivers and follows outgoing letters."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def send(
        self,
        *,
        subject: str,
        recipient: Party,
        mail_type: str,
        actor: str,
        body: str | None = None,
        attachments: Sequence[Attachment] = (),
        service: str | None = None,
    ) -> MailRecord:
        """Register a new outgoing letter; an administration's letter is queued for delivery to it."""
        checked(
            Send,
            subject=subject,
            recipient=recipient,
            mail_type=mail_type,
            body=body,
            attachments=list(attachments),
        )
        check(ACTOR, actor, "actor")
        check_party(recipient, "recipient")
        if service is not None:
            self._ledger.config.check_service(service)
        self.keep_attachments(attachments)
        with self._ledger.store.write() as tx:
            mail_id, _ = self.register(
                tx,
                subject=subject,
                recipient=recipient,
                mail_type=mail_type,
                body=body,
                attachments=attachments,
                actor=actor,
                at=self._ledger.now(),
                service=service,
                destination=recipient.identifier if recipient.kind is PartyKind.ADMINISTRATION else None,
            )
            return tx.mails.record(mail_id)

    def keep_attachments(self, attachments: Sequence[Attachment]) -> None:
        """Check and store a letter's attachments, before the transaction that registers it."""
        check_digests(attachments)
        for attachment in attachments:
            self._ledger.attachments.put(attachment.content)

    def register(
        self,
        tx: Tx,
        *,
        subject: str,
        recipient: Party,
        mail_type: str,
        body: str | None,
        attachments: Sequence[Attachment],
        actor: str,
        at: datetime,
        service: str | None,
        destination: str | None,
        in_reply_to: int | None = None,
        answers: str | None = None,
        hold: bool = False,
    ) -> tuple[int, str]:
        """Register an outgoing letter, queued for ``destination`` if any; its row id and number.

        A ``hold`` letter keeps its destination but is not queued: ``signing`` queues it once signed.
        """
        ledger = self._ledger
        registered_on = ledger.local_date(at)
        counter, number = ledger.number(tx, Direction.OUTGOING, registered_on)
        sender = Party(kind=PartyKind.ADMINISTRATION, identifier=ledger.participant, name=ledger.config.name)
        letter = Deposit(
            subject=subject,
            sender=sender,
            recipient=recipient,
            mail_type=mail_type,
            sender_registration=number,
            in_reply_to=answers,
            body=body,
            attachments=list(attachments),
        )
        mail = NewMail(
            direction=Direction.OUTGOING,
            year=registered_on.year,
            counter=counter,
            number=number,
            subject=subject,
            body=body,
            sender=sender,
            recipient=recipient,
            mail_type=mail_type,
            registered_at=at,
            registered_on=registered_on,
            deadline=None,
            service=service,
            digest=deposit_digest(letter),
            channel=destination,
            linked_number=None,
            in_reply_to=in_reply_to,
            answers=answers,
            acknowledgement=None,
            attachments=attachments,
        )
        mail_id = ledger.register(tx, mail, actor=actor)
        if destination is not None and not hold:
            tx.outbox.enqueue(OutboxKind.LETTER, destination=destination, mail_id=mail_id, at=at)
        return mail_id, number

    def letter(self, number: str) -> Deposit:
        """The deposit that delivers outgoing letter ``number``, its attachments read back and checked."""
        with self._ledger.store.read() as tx:
            return self.deposit_of(tx, _outgoing(tx.mails.get(number)))

    def deposit_of(self, tx: Tx, row: MailRow) -> Deposit:
        """The deposit that delivers outgoing letter ``row``, attachments read back and checked."""
        attachments = [
            Attachment(
                name=a.name,
                media_type=a.media_type,
                sha256=a.sha256,
                content=self._ledger.attachments.get(a.sha256),
            )
            for a in tx.mails.attachments(row.id)
        ]
        letter = Deposit(
            subject=row.subject,
            sender=row.sender,
            recipient=row.recipient,
            mail_type=row.mail_type,
            sender_registration=row.number,
            in_reply_to=row.answers,
            body=row.body,
            attachments=attachments,
        )
        if deposit_digest(letter) != row.digest:
            raise NotDeliverable(f"{row.number}: the stored letter no longer matches its registration digest")
        return letter

    def record_delivery(self, number: str, acknowledgement: Acknowledgement) -> MailRecord:
        """Record the recipient's acknowledgement of outgoing letter ``number``: the two are linked."""
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            self.delivered(tx, row, acknowledgement)
            return tx.mails.record(row.id)

    def delivered(self, tx: Tx, row: MailRow, ack: Acknowledgement) -> None:
        """Link ``row`` to its registration by the recipient (idempotent for the same acknowledgement)."""
        number = _outgoing(row).number
        if ack.deposit_digest != row.digest:
            raise NotDeliverable(
                f"{number}: the acknowledgement is for another deposit (digest {ack.deposit_digest})"
            )
        if row.channel is None or not same_administration(ack.office, row.channel):
            raise NotDeliverable(f"{number} was sent to {row.channel}, not acknowledged by {ack.office}")
        if row.status is Status.DELIVERED:
            if row.linked_number == ack.registration_number:
                return
            raise NotDeliverable(f"{number} was already registered by the recipient as {row.linked_number}")
        tx.mails.link(row.id, ack)
        self._ledger.move(
            tx,
            row,
            Action.DELIVER,
            actor=ack.office,
            comment=f"registered as {ack.registration_number} on {format_utc_millis(ack.received_at)}",
        )

    def record_status_change(self, change: StatusChange, *, sender: str) -> bool:
        """Note the status another office (``sender``) reports for the letter we delivered to it.

        Returns False for a step already known (or older than the one known).
        """
        with self._ledger.store.write() as tx:
            rows = tx.mails.delivered_as(change.registration_number)
            row = next((r for r in rows if same_administration(r.channel or "", sender)), None)
            if row is None:
                raise UnknownRegistration(change.registration_number)
            if row.linked_sequence is not None and change.sequence <= row.linked_sequence:
                return False
            tx.mails.note_linked_status(row.id, change.new_status, change.sequence)
            return True


def _outgoing(row: MailRow) -> MailRow:
    if row.direction is not Direction.OUTGOING:
        raise NotDeliverable(f"{row.number} is incoming mail: only outgoing letters are delivered")
    return row
