"""Replies held for a signature circuit (``signing.py``), on a real office without the bus: nothing is
queued until the book reports a completed folder, only the configured book is believed, repeated and
older events change nothing, and the folder submitted is the reply's own deposit."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from teleservices.mail_office import MailOffice
from teleservices.mail_office.models import SignatureState, SignatureStep
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.signing import OfficeSigning, SignatureEventRefused
from teleservices.signature_book.models import FolderEvent

BOOK = "MA/GOV/SGG/parapheur"
STEPS = [
    SignatureStep(kind="visa", signatories=["MA/GOV/MEF/dg"]),
    SignatureStep(kind="signature", quorum="all", signatories=["MA/GOV/MEF/sg", "MA/GOV/MEF/sga"]),
]


def event(folder: str, seq: int, status: str, **fields: object) -> FolderEvent:
    return FolderEvent(
        event_id=str(uuid.uuid4()),
        kind={"completed": "completed", "rejected": "rejected"}.get(status, "approved"),
        folder_id=folder,
        seq=seq,
        status=status,
        actor=str(fields.pop("actor", "MA/GOV/MEF/sg")),
        at=datetime.now(UTC),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def held(office: MailOffice, deposited: Callable[..., str]) -> tuple[str, str]:
    """A validated letter answered with a reply that needs the circuit ``STEPS``: (letter, reply)."""
    number = deposited()
    office.assign(number, service="rh", actor="clerc")
    office.validate(number, actor="chef")
    reply = office.reply(number, subject="Votre mutation", body="Accordée.", actor="chef", signature=STEPS)
    return number, reply.registration_number


def letters_queued(office: MailOffice, number: str) -> list[object]:
    return [m for m in office.pending() if m.kind is OutboxKind.LETTER and m.registration_number == number]


def test_a_held_reply_is_queued_only_when_the_book_completes_its_folder(office: MailOffice, held) -> None:
    letter, reply = held
    assert letters_queued(office, reply) == []
    signing = OfficeSigning(office, BOOK)
    [submission] = signing.pending(10, ())
    assert (submission.number, submission.recipient) == (reply, BOOK)
    assert signing.pending(10, (BOOK,)) == []  # the book is backing off

    folder = signing._folder(reply)  # what is submitted: the reply's deposit, whose digest it carries
    [document] = folder.documents
    assert hashlib.sha256(document.content).hexdigest() == office.show(reply).deposit_digest
    assert [(s.kind, s.quorum, s.signatories) for s in folder.circuit] == [
        ("visa", "all", ["MA/GOV/MEF/dg"]),
        ("signature", "all", ["MA/GOV/MEF/sg", "MA/GOV/MEF/sga"]),
    ]

    folder_id = str(uuid.uuid4())
    signing._set(
        reply, SignatureState.TO_SUBMIT, state=SignatureState.IN_CIRCUIT, book=BOOK, folder_id=folder_id
    )
    with pytest.raises(SignatureEventRefused):  # another participant cannot sign the reply off
        signing.on_folder_event(event(folder_id, 9, "completed"), "MA/GOV/MEF/desk")
    with pytest.raises(SignatureEventRefused):  # a folder not recorded yet: the book will try again
        signing.on_folder_event(event(str(uuid.uuid4()), 2, "completed"), BOOK)
    signing.on_folder_event(
        event(folder_id, 3, "in-progress", current_step=2, step=1, actor="MA/GOV/MEF/dg"), BOOK
    )
    assert letters_queued(office, reply) == []
    [circuit] = signing.circuits(letter).circuits
    assert (circuit.reply, circuit.state, circuit.current_step, circuit.last_actor) == (
        reply,
        SignatureState.IN_CIRCUIT,
        2,
        "MA/GOV/MEF/dg",
    )

    signing.on_folder_event(event(folder_id, 5, "completed", on_behalf_of="MA/GOV/MEF/sga"), BOOK)
    assert len(letters_queued(office, reply)) == 1
    signing.on_folder_event(event(folder_id, 5, "completed"), BOOK)  # delivered again: nothing more
    signing.on_folder_event(event(folder_id, 4, "in-progress", current_step=2), BOOK)  # older: ignored
    assert len(letters_queued(office, reply)) == 1
    [circuit] = signing.circuits(reply).circuits
    assert (circuit.state, circuit.on_behalf_of) == (SignatureState.SIGNED, "MA/GOV/MEF/sga")


def test_a_rejected_folder_keeps_the_reply_in_the_office(office: MailOffice, held) -> None:
    _, reply = held
    signing = OfficeSigning(office, BOOK)
    folder_id = str(uuid.uuid4())
    signing._set(
        reply, SignatureState.TO_SUBMIT, state=SignatureState.IN_CIRCUIT, book=BOOK, folder_id=folder_id
    )
    signing.on_folder_event(event(folder_id, 2, "rejected", reason="Montant à corriger"), BOOK)
    signing.on_folder_event(event(folder_id, 3, "completed"), BOOK)  # nothing comes after a rejection
    assert letters_queued(office, reply) == []
    [circuit] = signing.circuits(reply).circuits
    assert (circuit.state, circuit.reason) == (SignatureState.REJECTED, "Montant à corriger")


def test_a_reply_without_a_circuit_is_queued_at_once(office: MailOffice, deposited) -> None:
    number = deposited()
    office.assign(number, service="rh", actor="clerc")
    office.validate(number, actor="chef")
    reply = office.reply(number, subject="Votre mutation", actor="chef")
    assert len(letters_queued(office, reply.registration_number)) == 1
    assert OfficeSigning(office, BOOK).circuits(number).circuits == []
