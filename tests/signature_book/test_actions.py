"""Rejection and undo: the state machine's exits and its one way back."""

from __future__ import annotations

import pytest

from teleservices.signature_book import MemorySink, SignatureBook
from teleservices.signature_book.errors import (
    FolderClosed,
    NotAssigned,
    NothingToUndo,
    ReasonRequired,
    UndoRefused,
)
from teleservices.signature_book.models import EventKind
from tests.signature_book.conftest import AGENT, DAF, DRH, SG, Pki, pid, step, submission, visa_then_signature


def test_rejection_needs_a_reason(book: SignatureBook) -> None:
    folder = book.submit(pid(AGENT), visa_then_signature()).folder_id
    for reason in ("", "   "):
        with pytest.raises(ReasonRequired):
            book.reject(folder, pid(DRH), reason)
    assert book.folder(folder).status == "in-progress"


def test_rejection_ends_the_circuit_and_notifies_the_submitter(
    book: SignatureBook, sink: MemorySink, bus_pki: Pki
) -> None:
    folder = book.submit(pid(AGENT), visa_then_signature()).folder_id
    book.approve(folder, pid(DRH))

    result = book.reject(folder, pid(SG), "  Le poste n'est pas budgété.  ")
    assert (result.action, result.status, result.current_step) == ("rejected", "rejected", None)

    view = book.folder(folder)
    assert [s.state for s in view.steps] == ["done", "rejected"]
    assert view.history[-1].reason == "Le poste n'est pas budgété."
    recipient, event = sink.delivered[-1]
    assert recipient == AGENT
    assert (event.kind, event.folder_id, event.actor, event.reason) == (
        EventKind.REJECTED,
        folder,
        SG,
        "Le poste n'est pas budgété.",
    )
    with pytest.raises(FolderClosed):
        book.sign_as(bus_pki.signer(SG), folder)
    with pytest.raises(FolderClosed):
        book.reject(folder, pid(SG), "again")
    with pytest.raises(UndoRefused):
        book.undo(folder, pid(SG))


def test_only_the_current_steps_signatories_may_reject(book: SignatureBook) -> None:
    folder = book.submit(pid(AGENT), visa_then_signature()).folder_id
    with pytest.raises(NotAssigned):
        book.reject(folder, pid(SG), "not yet my turn")
    with pytest.raises(NotAssigned):
        book.reject(folder, pid(AGENT), "the submitter is no signatory")


def test_undo_within_the_active_step(book: SignatureBook) -> None:
    folder = book.submit(pid(AGENT), submission(step("visa", DRH, DAF), step("signature", SG))).folder_id
    book.approve(folder, pid(DRH))
    result = book.undo(folder, pid(DRH))
    assert (result.action, result.current_step) == ("undone", 1)
    view = book.folder(folder)
    assert view.steps[0].actions == []
    assert [h.kind for h in view.history] == ["submitted", "approved", "undone"]
    assert view.history[-1].undoes == 2
    with pytest.raises(NothingToUndo):
        book.undo(folder, pid(DRH))


def test_undo_reopens_a_completed_step_while_the_next_has_not_acted(
    book: SignatureBook, bus_pki: Pki
) -> None:
    folder = book.submit(
        pid(AGENT), submission(step("visa", DRH), step("visa", DAF), step("signature", SG))
    ).folder_id
    assert book.approve(folder, pid(DRH)).current_step == 2
    assert book.undo(folder, pid(DRH)).current_step == 1
    assert [s.state for s in book.folder(folder).steps] == ["active", "pending", "pending"]
    with pytest.raises(NotAssigned):
        book.approve(folder, pid(DAF))

    book.approve(folder, pid(DRH))
    book.approve(folder, pid(DAF))
    with pytest.raises(UndoRefused, match=r"step 2 of folder .* has already acted"):
        book.undo(folder, pid(DRH))
    assert book.undo(folder, pid(DAF)).current_step == 2


def test_undo_is_refused_once_the_next_step_acted(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG, DAF))).folder_id
    book.approve(folder, pid(DRH))
    book.sign_as(bus_pki.signer(SG), folder)
    with pytest.raises(UndoRefused, match=r"step 2 of folder .* has already acted"):
        book.undo(folder, pid(DRH))
    assert book.undo(folder, pid(SG)).current_step == 2
    assert book.folder(folder).steps[1].actions == []


def test_an_undone_signature_no_longer_counts(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG, DAF))).folder_id
    book.sign_as(bus_pki.signer(SG), folder)
    book.undo(folder, pid(SG))
    book.sign_as(bus_pki.signer(DAF), folder)
    assert book.folder(folder).status == "in-progress"
    assert book.sign_as(bus_pki.signer(SG), folder).status == "completed"
    bundle_signatures = [e for e in book.folder(folder).history if e.kind == "signed"]
    assert len(bundle_signatures) == 3


def test_completion_cannot_be_undone(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    book.sign_as(bus_pki.signer(SG), folder)
    with pytest.raises(UndoRefused, match="completed"):
        book.undo(folder, pid(SG))
