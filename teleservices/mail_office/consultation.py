"""Consulting another administration over the bus: the question goes to its office, the opinion comes back.

Office A asks (``mail.request-opinion`` whose ``consulted`` is another administration's office participant
id): besides recording the pending opinion on its letter, A queues a ``Consultation`` for that office in
its outbox, in the same transaction. The pump calls B's ``mail.consult``: B registers the consultation as
an incoming letter of type ``consultation`` (sender A, linked to A's number) and acknowledges it, so it
reaches B's queues, deadlines and registers like any letter. B's agent answers it
(``mail.answer-consultation``: the letter moves to ``replied``) and B's outbox calls A's
``mail.opinion`` with the ``ConsultationOpinion``; A records it on the asking letter as the opinion given,
which returns that letter to its service. Only the office that was asked may answer (``NotConsulted``);
an opinion delivered twice is applied once. Delivery both ways is the outbox's: at least once, in order.
"""

from __future__ import annotations

from datetime import datetime

from teleservices.mail_office.checks import ACTOR, check
from teleservices.mail_office.errors import NotAConsultation, NotConsulted
from teleservices.mail_office.intake import Intake
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import (
    Acknowledgement,
    Consultation,
    ConsultationOpinion,
    Deposit,
    MailRecord,
    OpinionReceipt,
    Party,
    PartyKind,
)
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.parties import is_participant, same_administration
from teleservices.mail_office.store import MailRow, Tx
from teleservices.mail_office.workflow import Action, Direction

CONSULTATION_TYPE = "consultation"
"""The mail type under which a consulted office registers a consultation."""
MAX_ACTOR = 200


def external(consulted: str, office: str) -> bool:
    """Whether ``consulted`` names another administration's office (else: a service or official here)."""
    return is_participant(consulted) and not same_administration(consulted, office)


def ask(tx: Tx, row: MailRow, *, consulted: str, question: str, actor: str, at: datetime) -> None:
    """Queue the consultation of ``consulted`` about ``row`` (inside the transaction that asks it)."""
    consultation = Consultation(
        registration_number=row.number,
        subject=row.subject,
        question=question,
        requested_by=actor,
        requested_at=at,
    )
    tx.outbox.enqueue(
        OutboxKind.CONSULTATION, destination=consulted, mail_id=row.id, at=at, payload=consultation
    )


class Consultations:
    """Both sides: registering a consultation received, answering it, recording the opinion received."""

    def __init__(self, ledger: Ledger, intake: Intake) -> None:
        self._ledger = ledger
        self._intake = intake

    def receive(self, consultation: Consultation, *, sender: str) -> Acknowledgement:
        """Register a consultation from the office ``sender`` (the verified caller) as an incoming letter."""
        config = self._ledger.config
        letter = Deposit(
            subject=consultation.subject,
            sender=Party(kind=PartyKind.ADMINISTRATION, identifier=sender, name=sender),
            recipient=Party(kind=PartyKind.ADMINISTRATION, identifier=config.participant, name=config.name),
            mail_type=CONSULTATION_TYPE,
            sender_registration=consultation.registration_number,
            body=f"{consultation.question}\n\n— {consultation.requested_by}",
        )
        return self._intake.record(letter, channel=None, actor=sender)

    def answer(self, number: str, *, opinion: str, actor: str) -> MailRecord:
        """Give the opinion a consultation asks for; it is queued for the asking office."""
        check(ACTOR, actor, "actor")
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            if (
                row.direction is not Direction.INCOMING
                or row.mail_type != CONSULTATION_TYPE
                or row.sender.kind is not PartyKind.ADMINISTRATION
                or row.linked_number is None
            ):
                raise NotAConsultation(f"{number} is not a consultation from another administration")
            at = self._ledger.now()
            self._ledger.move(tx, row, Action.ANSWER_CONSULTATION, actor=actor, comment=opinion, at=at)
            answer = ConsultationOpinion(
                registration_number=row.linked_number,
                opinion=opinion,
                given_by=actor,
                given_at=at,
                consultation_number=row.number,
            )
            tx.outbox.enqueue(
                OutboxKind.OPINION, destination=row.sender.identifier, mail_id=row.id, at=at, payload=answer
            )
            return tx.mails.record(row.id)

    def record_opinion(self, answer: ConsultationOpinion, *, sender: str) -> OpinionReceipt:
        """Record on the asking letter the opinion of the office ``sender`` (the verified caller).

        Applied when ``sender``'s administration is the one asked and the opinion is still pending; the
        same opinion received again answers ``applied: false``; any other office is ``NotConsulted``.
        """
        number = answer.registration_number
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            opinions = tx.mails.record(row.id).opinions
            pending = next((o for o in reversed(opinions) if o.given_by is None), None)
            if pending is not None and same_administration(pending.consulted, sender):
                at = self._ledger.now()
                actor = f"{answer.given_by}, {sender}"[:MAX_ACTOR]
                self._ledger.move(tx, row, Action.GIVE_OPINION, actor=actor, at=at)
                tx.mails.give_opinion(row.id, opinion=answer.opinion, actor=actor, at=at)
                return OpinionReceipt(registration_number=number, applied=True)
            if any(
                o.opinion == answer.opinion and same_administration(o.consulted, sender) for o in opinions
            ):
                return OpinionReceipt(registration_number=number, applied=False)
        raise NotConsulted(f"{sender} was not asked for an opinion on {number}")
