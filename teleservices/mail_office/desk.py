"""The mail desk: what officials do to an incoming letter, each action one move of ``workflow``'s machine.

Every action is checked against the contract first (the same rules as over the bus), then runs in one
write transaction: the move, its history entry and the depositor's status change commit together. A
reply is registered as outgoing mail (``Outgoing``) in the transaction that moves the letter it answers.
The Python and CLI entry points go through here as well as the bus handlers (``perform``).
"""

from __future__ import annotations

from collections.abc import Sequence

from teleservices.mail_office import consultation
from teleservices.mail_office.checks import ACTOR, check, checked
from teleservices.mail_office.errors import UnknownAttachment
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import (
    Assign,
    Attachment,
    AttachmentInfo,
    Close,
    DeskOperation,
    GiveOpinion,
    MailPayload,
    MailRecord,
    PartyKind,
    Redirect,
    Reply,
    RequestOpinion,
    Send,
    Show,
    SignatureStep,
    Validate,
)
from teleservices.mail_office.outgoing import Outgoing
from teleservices.mail_office.signing import hold_for_signature
from teleservices.mail_office.workflow import Action, next_status

REPLY_MAIL_TYPE = "reply"


class MailDesk:
    """Moves letters through the desk; ``outgoing`` registers replies."""

    def __init__(self, ledger: Ledger, outgoing: Outgoing) -> None:
        self._ledger = ledger
        self._outgoing = outgoing

    def assign(
        self, number: str, *, service: str, actor: str, agent: str | None = None, comment: str | None = None
    ) -> MailRecord:
        """Give a letter to a service (and optionally one of its agents)."""
        checked(Assign, registration_number=number, service=service, agent=agent, comment=comment)
        return self._route(number, Action.ASSIGN, service=service, agent=agent, comment=comment, actor=actor)

    def redirect(self, number: str, *, service: str, reason: str, actor: str) -> MailRecord:
        """Send a letter on to the competent service; its agent, if any, is unassigned."""
        checked(Redirect, registration_number=number, service=service, reason=reason)
        return self._route(number, Action.REDIRECT, service=service, agent=None, comment=reason, actor=actor)

    def _route(
        self, number: str, action: Action, *, service: str, agent: str | None, comment: str | None, actor: str
    ) -> MailRecord:
        """Assign or redirect: hand the letter to ``service`` (and ``agent``)."""
        check(ACTOR, actor, "actor")
        self._ledger.config.check_service(service)
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            self._ledger.move(tx, row, action, actor=actor, comment=comment, to=(service, agent))
            return tx.mails.record(row.id)

    def request_opinion(self, number: str, *, consulted: str, question: str, actor: str) -> MailRecord:
        """Ask ``consulted`` (a service, an official or an administration) for an opinion.

        Another administration's office is consulted over the bus (``consultation``): the question is
        queued for it in the same transaction and its opinion comes back to this letter."""
        checked(RequestOpinion, registration_number=number, consulted=consulted, question=question)
        check(ACTOR, actor, "actor")
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            at = self._ledger.now()
            self._ledger.move(tx, row, Action.REQUEST_OPINION, actor=actor, at=at)
            tx.mails.ask_opinion(row.id, consulted=consulted, question=question, actor=actor, at=at)
            if consultation.external(consulted, self._ledger.participant):
                consultation.ask(tx, row, consulted=consulted, question=question, actor=actor, at=at)
            return tx.mails.record(row.id)

    def give_opinion(self, number: str, *, opinion: str, actor: str) -> MailRecord:
        """Record the opinion asked for; the letter returns to its service."""
        checked(GiveOpinion, registration_number=number, opinion=opinion)
        check(ACTOR, actor, "actor")
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            at = self._ledger.now()
            self._ledger.move(tx, row, Action.GIVE_OPINION, actor=actor, at=at)
            tx.mails.give_opinion(row.id, opinion=opinion, actor=actor, at=at)
            return tx.mails.record(row.id)

    def validate(self, number: str, *, actor: str, comment: str | None = None) -> MailRecord:
        """Approve the processing of a letter: it may then be answered or closed."""
        return self._simple_action(Validate, Action.VALIDATE, number, actor=actor, comment=comment)

    def close(self, number: str, *, actor: str, comment: str | None = None) -> MailRecord:
        """File a letter whose processing is over."""
        return self._simple_action(Close, Action.CLOSE, number, actor=actor, comment=comment)

    def _simple_action(
        self, model: type[MailPayload], action: Action, number: str, *, actor: str, comment: str | None
    ) -> MailRecord:
        """A desk action that only moves the letter's status (validate, close)."""
        checked(model, registration_number=number, comment=comment)
        check(ACTOR, actor, "actor")
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            self._ledger.move(tx, row, action, actor=actor, comment=comment)
            return tx.mails.record(row.id)

    def reply(
        self,
        number: str,
        *,
        subject: str,
        actor: str,
        body: str | None = None,
        attachments: Sequence[Attachment] = (),
        mail_type: str | None = None,
        comment: str | None = None,
        signature: Sequence[SignatureStep] = (),
    ) -> MailRecord:
        """Answer a validated letter: register the reply as outgoing mail, to be delivered to its sender.

        With ``signature`` steps the reply is held until that circuit completes (``signing``).

        Returns the reply's record. The reply goes to the sender's mail office when the sender is an
        administration, otherwise to the system that deposited the letter (if it came over the bus).
        """
        checked(
            Reply,
            registration_number=number,
            subject=subject,
            mail_type=mail_type,
            body=body,
            attachments=list(attachments),
            comment=comment,
            signature=list(signature),
        )
        check(ACTOR, actor, "actor")
        self._outgoing.keep_attachments(attachments)
        with self._ledger.store.write() as tx:
            row = tx.mails.get(number)
            at = self._ledger.now()
            next_status(row.number, row.direction, row.status, Action.REPLY)
            recipient = row.sender
            reply_id, reply_number = self._outgoing.register(
                tx,
                subject=subject,
                recipient=recipient,
                mail_type=mail_type or REPLY_MAIL_TYPE,
                body=body,
                attachments=attachments,
                actor=actor,
                at=at,
                service=row.service,
                destination=recipient.identifier
                if recipient.kind is PartyKind.ADMINISTRATION
                else row.channel,
                in_reply_to=row.id,
                answers=row.linked_number or row.number,
                hold=bool(signature),
            )
            if signature:
                hold_for_signature(tx, reply_number, signature, at=at)
            self._ledger.move(
                tx, row, Action.REPLY, actor=actor, comment=comment or f"reply {reply_number}", at=at
            )
            return tx.mails.record(reply_id)

    def show(self, number: str) -> MailRecord:
        """Everything about one letter."""
        with self._ledger.store.read() as tx:
            return tx.mails.record(tx.mails.get(number).id)

    def attachment(self, number: str, sha256: str) -> tuple[AttachmentInfo, bytes]:
        """An attachment of a letter with its content, checked against its digest."""
        with self._ledger.store.read() as tx:
            info = tx.mails.attachment(tx.mails.get(number).id, sha256)
        if info is None:
            raise UnknownAttachment(f"{number} has no attachment with SHA-256 {sha256}")
        return info, self._ledger.attachments.get(sha256)

    def perform(self, operation: DeskOperation, *, actor: str) -> MailRecord:
        """Run a desk operation received as a contract payload (what the bus handlers call)."""
        match operation:
            case Assign():
                return self.assign(
                    operation.registration_number,
                    service=operation.service,
                    agent=operation.agent,
                    comment=operation.comment,
                    actor=actor,
                )
            case Redirect():
                return self.redirect(
                    operation.registration_number,
                    service=operation.service,
                    reason=operation.reason,
                    actor=actor,
                )
            case RequestOpinion():
                return self.request_opinion(
                    operation.registration_number,
                    consulted=operation.consulted,
                    question=operation.question,
                    actor=actor,
                )
            case GiveOpinion():
                return self.give_opinion(
                    operation.registration_number, opinion=operation.opinion, actor=actor
                )
            case Validate():
                return self.validate(operation.registration_number, comment=operation.comment, actor=actor)
            case Reply():
                return self.reply(
                    operation.registration_number,
                    subject=operation.subject,
                    body=operation.body,
                    attachments=operation.attachments,
                    mail_type=operation.mail_type,
                    comment=operation.comment,
                    signature=operation.signature,
                    actor=actor,
                )
            case Close():
                return self.close(operation.registration_number, comment=operation.comment, actor=actor)
            case Send():
                return self._outgoing.send(
                    subject=operation.subject,
                    recipient=operation.recipient,
                    mail_type=operation.mail_type,
                    body=operation.body,
                    attachments=operation.attachments,
                    actor=actor,
                )
            case Show():
                return self.show(operation.registration_number)
        raise TypeError(f"not a desk operation: {type(operation).__name__}")
