"""The bureau d'ordre: incoming letters registered in register ``A`` and acknowledged.

A deposit is checked in this order: who deposits it (before anything, a duplicate included), then
whether the same letter was registered already (the original acknowledgement comes back, byte for
byte), then the letter itself (recipient, mail type, attachment digests). Attachments are stored before
the registering transaction, so a registered letter never lacks one.
"""

from __future__ import annotations

from teleservices.mail_office.checks import PARTICIPANT, check, check_digests
from teleservices.mail_office.deadlines import deadline
from teleservices.mail_office.errors import InvalidSender, WrongRecipient
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import Acknowledgement, Deposit, Party, PartyKind, deposit_digest
from teleservices.mail_office.parties import check_party, member, same_administration
from teleservices.mail_office.store import NewMail, Tx
from teleservices.mail_office.workflow import Direction


class Intake:
    """Registers deposited letters."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def deposit(self, deposit: Deposit, *, channel: str | None = None) -> Acknowledgement:
        """Register an incoming letter and return its acknowledgement of receipt.

        ``channel`` is the participant that carried the deposit (the envelope's client): status changes
        are sent to it. The same letter deposited again by the same sender (same deposit digest) is not
        registered twice: the original acknowledgement is returned, byte for byte.
        """
        self._check_sender(deposit.sender, channel)
        return self.record(deposit, channel=channel, actor=channel or deposit.sender.identifier)

    def record(self, deposit: Deposit, *, channel: str | None, actor: str) -> Acknowledgement:
        """Register a letter whose sender was checked; ``actor`` is the registering entry's actor.

        The same letter from the same sender (same deposit digest) returns the original acknowledgement.
        """
        ledger = self._ledger
        digest = deposit_digest(deposit)
        with ledger.store.read() as tx:
            original = tx.mails.acknowledgement(deposit.sender, digest)
        if original is not None:
            return original
        self._check_letter(deposit)
        for attachment in deposit.attachments:
            ledger.attachments.put(attachment.content)
        now = ledger.now()
        config = ledger.config
        with ledger.store.write() as tx:
            original = tx.mails.acknowledgement(deposit.sender, digest)
            if original is not None:
                return original
            received_on = ledger.local_date(now)
            rule = config.mail_type(deposit.mail_type)
            service = rule.service or config.default_service
            due = deadline(received_on, rule.days, rule.count, config.calendar)
            counter, number = ledger.number(tx, Direction.INCOMING, received_on)
            acknowledgement = Acknowledgement(
                registration_number=number,
                office=ledger.participant,
                received_at=now,
                service_in_charge=service,
                deadline=due,
                deposit_digest=digest,
                linked_registration=deposit.sender_registration,
            )
            mail = NewMail(
                direction=Direction.INCOMING,
                year=received_on.year,
                counter=counter,
                number=number,
                subject=deposit.subject,
                body=deposit.body,
                sender=deposit.sender,
                recipient=deposit.recipient,
                mail_type=deposit.mail_type,
                registered_at=now,
                registered_on=received_on,
                deadline=due,
                service=service,
                digest=digest,
                channel=channel,
                linked_number=deposit.sender_registration,
                in_reply_to=self._answered(tx, deposit),
                answers=deposit.in_reply_to,
                acknowledgement=acknowledgement,
                attachments=deposit.attachments,
            )
            ledger.register(tx, mail, actor=actor)
        return acknowledgement

    def _check_sender(self, sender: Party, channel: str | None) -> None:
        """Who may deposit in ``sender``'s name: checked before anything, a duplicate included."""
        if channel is not None:
            check(PARTICIPANT, channel, "channel")
        check_party(sender, "sender")
        if sender.kind is PartyKind.VISITOR:
            raise InvalidSender("a visitor without CIN or ICE hands a letter in at the counter only")
        if (
            sender.kind is PartyKind.ADMINISTRATION
            and channel is not None
            and not same_administration(channel, sender.identifier)
        ):
            raise InvalidSender(
                f"{channel} cannot deposit a letter in the name of the administration {sender.identifier}"
            )

    def _check_letter(self, deposit: Deposit) -> None:
        office = self._ledger.participant
        recipient = deposit.recipient
        if recipient.kind is not PartyKind.ADMINISTRATION or recipient.identifier not in (
            office,
            member(office),
        ):
            raise WrongRecipient(
                f"this is the mail office of {office}; the letter is addressed to "
                f"{recipient.kind.value} {recipient.identifier}"
            )
        self._ledger.config.mail_type(deposit.mail_type)
        check_digests(deposit.attachments)

    @staticmethod
    def _answered(tx: Tx, deposit: Deposit) -> int | None:
        """The local outgoing letter that ``deposit`` answers, when it was addressed to its sender."""
        if deposit.in_reply_to is None:
            return None
        answered = tx.mails.outgoing(deposit.in_reply_to)
        if answered is None or answered.recipient.kind is not deposit.sender.kind:
            return None
        if deposit.sender.kind is PartyKind.ADMINISTRATION:
            same = same_administration(answered.recipient.identifier, deposit.sender.identifier)
        else:
            same = answered.recipient.identifier == deposit.sender.identifier
        return answered.id if same else None
