"""Replies that need a signature: held in the office until a signature book completes their circuit.

A ``mail.reply`` with ``signature`` steps registers the reply in register ``D`` as usual but does not
queue it for delivery (``Outgoing.register(hold=True)``); in the same transaction ``hold_for_signature``
records its circuit in ``signature_circuits`` (state ``to-submit``). Then, over the bus:

1. ``SignaturePump`` (the SDK's ``OutboxPump`` over that table) submits a folder to the signature book
   (``signature-book.submit``): the document to sign is the reply's deposit in canonical form, the very
   bytes whose SHA-256 is the reply's ``depositDigest`` (the recipient's acknowledgement binds the same
   digest), plus the reply's attachments; the circuit is the reply's steps. State ``in-circuit``.
2. The book reports the folder's changes to the office's ``signature-book.event`` (``on_folder_event``,
   behind the book's ``EventReceiver``, which drops repeated events): only the configured book is
   believed; a completed folder queues the reply for delivery in the transaction that records it
   (``signed``), a rejected one keeps it in the office for good (``rejected``, with the reason).
3. ``mail.signatures`` answers where the circuits of a letter's replies stand (the desk shows it).

A reply is delivered only from state ``signed``. The table is created when missing (an additive
migration of the office database, version unchanged). The signature book's package is imported only
when a circuit is submitted or an event handled, so an office without it installed still runs.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from sdk import CallFailed, Client
from teleservices.mail_office.errors import MailOfficeError
from teleservices.mail_office.models import (
    SignatureCircuit,
    SignatureCircuits,
    SignatureState,
    SignatureStep,
    canonical_bytes,
    format_utc_millis,
)
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.store import Tx
from teleservices.signature_book.models import unique_document_name

if TYPE_CHECKING:
    from sdk.outbox import OutboxPump
    from teleservices.mail_office.office import MailOffice

log = structlog.get_logger("govbus.mail_office.signing")

SUBMIT_PURPOSE = "signature of an official reply before it leaves the office"
PUMP_NAME = "mail_office.signatures"
BUSINESS_TYPE = "internal-communication"


class SignatureEventRefused(MailOfficeError):
    """A signature book event the office does not accept (another book, or a folder not yet recorded)."""

    code = "MailOffice.SignatureEventRefused"


def hold_for_signature(tx: Tx, number: str, steps: Sequence[SignatureStep], *, at: datetime) -> None:
    """Record the circuit reply ``number`` must pass (in the transaction that registers it, held)."""
    tx.signatures.hold(number, _steps_json(steps), SignatureState.TO_SUBMIT.value, format_utc_millis(at))


def _steps_json(steps: Sequence[SignatureStep]) -> str:
    return json.dumps(
        [{"kind": s.kind.value, "quorum": s.quorum.value, "signatories": list(s.signatories)} for s in steps]
    )


def _steps(text: str) -> list[SignatureStep]:
    return [SignatureStep.model_validate(step) for step in json.loads(text)]


@dataclass(frozen=True, slots=True)
class Submission:
    """A held reply whose folder is still to be submitted to ``recipient`` (the book)."""

    number: str
    recipient: str


class OfficeSigning:
    """One office's side of its signature circuits: submissions, the book's events, the desk's view."""

    def __init__(self, office: MailOffice, book: str) -> None:
        self.office = office
        self.book = book

    # The submissions, as the SDK pump's ``OutboxSource``

    def pending(self, limit: int, exclude: Collection[str]) -> list[Submission]:
        if self.book in exclude:
            return []
        with self.office.ledger.store.read() as tx:
            numbers = tx.signatures.numbers_in(SignatureState.TO_SUBMIT.value, limit)
        return [Submission(number, self.book) for number in numbers]

    def submit(self, client: Client, submission: Submission, *, timeout: float = 30.0) -> None:
        """Submit the reply's folder; a refusal by the book closes the circuit as rejected."""
        from teleservices.signature_book.contract import SUBMIT

        request = self._folder(submission.number)
        try:
            view = client.call(self.book, SUBMIT, request, purpose=SUBMIT_PURPOSE, timeout=timeout)
        except CallFailed as failure:
            if not (failure.service_code or "").startswith("SignatureBook."):
                raise  # the bus or the book is unavailable: try again later
            self._set(
                submission.number,
                SignatureState.TO_SUBMIT,
                state=SignatureState.REJECTED,
                reason=f"{failure.service_code}: {failure}"[:4000],
            )
            log.warning("mail_office.signature_refused", number=submission.number, code=failure.service_code)
            return
        self._set(
            submission.number,
            SignatureState.TO_SUBMIT,
            state=SignatureState.IN_CIRCUIT,
            book=self.book,
            folder_id=view.folder_id,
            current_step=view.current_step,
        )
        log.info("mail_office.signature_submitted", number=submission.number, folder=view.folder_id)

    def delivered(self, message: Submission, result: object) -> None:
        """Recorded by ``submit`` already."""

    def failed(self, message: Submission, error: Exception) -> None:
        with self.office.ledger.store.write() as tx:
            tx.signatures.failed(message.number, str(error)[:1000])

    def _folder(self, number: str) -> Any:
        from teleservices.signature_book.models import (
            CircuitStep,
            DocumentUpload,
            MetadataEntry,
            QuorumName,
            StepKindName,
            SubmitFolder,
        )

        with self.office.ledger.store.read() as tx:
            row = tx.mails.get(number)
            deposit = self.office.outgoing.deposit_of(tx, row)
            steps = tx.signatures.steps(number)
        names: set[str] = set()
        documents = [
            DocumentUpload(
                name=unique_document_name(f"reponse-{number}.xml", names),
                mime_type="application/xml",
                description=row.subject[:200],
                content=canonical_bytes(deposit),
            )
        ]
        for attachment in deposit.attachments:
            documents.append(
                DocumentUpload(
                    name=unique_document_name(attachment.name, names),
                    mime_type=attachment.media_type,
                    content=attachment.content,
                )
            )
        return SubmitFolder(
            title=f"Réponse {number} : {row.subject}"[:200],
            business_type=BUSINESS_TYPE,
            metadata=[
                MetadataEntry(key="registrationNumber", value=number),
                MetadataEntry(key="recipient", value=row.recipient.name[:1000]),
            ],
            documents=documents,
            circuit=[
                CircuitStep(
                    kind=StepKindName(s.kind.value),
                    quorum=QuorumName(s.quorum.value),
                    signatories=list(s.signatories),
                )
                for s in _steps(steps)
            ],
        )

    # The book's events

    def on_folder_event(self, event: Any, sender: str) -> None:
        """Record a ``FolderEvent`` of ``sender``; a completed folder releases its reply for delivery."""
        if sender != self.book:
            raise SignatureEventRefused(f"{sender} is not this office's signature book ({self.book})")
        with self.office.ledger.store.write() as tx:
            row = tx.signatures.of_folder(event.folder_id, sender)
            if row is None:  # the submission's answer is not recorded yet: the book delivers it again
                raise SignatureEventRefused(f"no reply is in signature folder {event.folder_id} yet")
            if event.seq <= row["last_seq"] or row["state"] != SignatureState.IN_CIRCUIT.value:
                return
            state = {"completed": SignatureState.SIGNED, "rejected": SignatureState.REJECTED}.get(
                str(event.status), SignatureState.IN_CIRCUIT
            )
            tx.signatures.record_event(
                row["number"],
                state=state.value,
                current_step=event.current_step,
                seq=event.seq,
                actor=event.actor,
                on_behalf_of=event.on_behalf_of,
                reason=event.reason if state is SignatureState.REJECTED else None,
                at=format_utc_millis(self.office.now()),
            )
            if state is SignatureState.SIGNED:
                reply = tx.mails.get(row["number"])
                if reply.channel is not None:
                    tx.outbox.enqueue(
                        OutboxKind.LETTER, destination=reply.channel, mail_id=reply.id, at=self.office.now()
                    )
        log.info("mail_office.signature_event", number=row["number"], state=state.value, seq=event.seq)

    # The desk's view

    def circuits(self, number: str) -> SignatureCircuits:
        """The circuits of letter ``number`` itself (a held reply) and of its replies."""
        with self.office.ledger.store.read() as tx:
            record = tx.mails.record(tx.mails.get(number).id)
            numbers = [number, *record.replies]
            rows = tx.signatures.of_numbers(numbers)
        return SignatureCircuits(
            registration_number=number,
            circuits=[
                SignatureCircuit(
                    reply=row["number"],
                    state=SignatureState(row["state"]),
                    book=row["book"],
                    folder_id=row["folder_id"],
                    current_step=row["current_step"],
                    updated_at=row["updated_at"],
                    steps=_steps(row["steps"]),
                    last_actor=row["last_actor"],
                    on_behalf_of=row["on_behalf_of"],
                    reason=row["reason"] or (row["last_error"] if row["state"] == "to-submit" else None),
                )
                for row in rows
            ],
        )

    def _set(self, number: str, expected: SignatureState, **values: Any) -> None:
        values = {k: v.value if isinstance(v, SignatureState) else v for k, v in values.items()}
        values["updated_at"] = format_utc_millis(self.office.now())
        with self.office.ledger.store.write() as tx:
            tx.signatures.set(number, expected.value, values)


def signature_pump(
    signing: OfficeSigning, client: Client, *, interval: float = 5.0, max_backoff: float = 300.0
) -> OutboxPump[Submission]:
    """The SDK's outbox pump over the held replies still to submit (not started)."""
    from sdk.outbox import OutboxPump

    return OutboxPump(
        PUMP_NAME,
        signing,
        lambda submission: signing.submit(client, submission),
        interval=interval,
        max_backoff=max_backoff,
    )


__all__ = [
    "OfficeSigning",
    "SignatureEventRefused",
    "Submission",
    "hold_for_signature",
    "signature_pump",
]
