"""Circuits through the book: sequential visa then signature, parallel AND and OR steps, wrong actions;
with the book's tables on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from sdk.storage import Storage
from teleservices.signature_book import BusinessType, Circuit, SignatureBook
from teleservices.signature_book.errors import (
    AlreadyActed,
    FolderClosed,
    InvalidCircuit,
    InvalidSubmission,
    NotAssigned,
    WrongAction,
)
from teleservices.signature_book.models import FolderView
from tests.signature_book.conftest import (
    AGENT,
    DAF,
    DRH,
    MINISTER,
    SG,
    Pki,
    pid,
    step,
    submission,
    visa_then_signature,
)


@pytest.fixture
def book_storage(storage: Storage) -> Storage:
    return storage


def states(view: FolderView) -> list[str]:
    return [str(s.state) for s in view.steps]


def test_sequential_visa_then_signature(book: SignatureBook, bus_pki: Pki) -> None:
    view = book.submit(pid(AGENT), visa_then_signature())
    assert (view.status, view.current_step, states(view)) == ("in-progress", 1, ["active", "pending"])

    result = book.approve(view.folder_id, pid(DRH), comment="vu et vérifié")
    assert (result.action, result.status, result.current_step) == ("approved", "in-progress", 2)

    result = book.sign_as(bus_pki.signer(SG), view.folder_id)
    assert (result.action, result.status, result.current_step) == ("signed", "completed", None)

    final = book.folder(view.folder_id)
    assert states(final) == ["done", "done"]
    assert [h.kind for h in final.history] == ["submitted", "approved", "signed"]
    assert final.history[1].comment == "vu et vérifié"
    assert final.steps[1].actions[0].actor == SG


def test_steps_run_in_order(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(pid(AGENT), visa_then_signature()).folder_id
    with pytest.raises(WrongAction, match="visa step"):
        book.sign_as(bus_pki.signer(DRH), folder)
    with pytest.raises(NotAssigned, match=f"{SG} is not a signatory of step 1"):
        book.approve(folder, pid(SG))


def test_parallel_and_step_needs_every_signatory_in_any_order(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(
        pid(AGENT),
        submission(step("visa", DRH, DAF, quorum="all"), step("signature", SG, MINISTER, quorum="all")),
    ).folder_id

    assert book.approve(folder, pid(DAF)).current_step == 1
    with pytest.raises(AlreadyActed):
        book.approve(folder, pid(DAF))
    assert book.approve(folder, pid(DRH)).current_step == 2

    assert book.sign_as(bus_pki.signer(MINISTER), folder).status == "in-progress"
    view = book.folder(folder)
    assert view.steps[1].state == "active" and [a.actor for a in view.steps[1].actions] == [MINISTER]
    assert book.sign_as(bus_pki.signer(SG), folder).status == "completed"


def test_parallel_or_step_completes_with_the_first_signatory(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(
        pid(AGENT),
        submission(step("visa", DRH, DAF, quorum="any"), step("signature", SG, MINISTER, quorum="any")),
    ).folder_id

    assert book.approve(folder, pid(DAF)).current_step == 2
    with pytest.raises(NotAssigned):
        book.approve(folder, pid(DRH))
    assert book.sign_as(bus_pki.signer(MINISTER), folder).status == "completed"
    with pytest.raises(FolderClosed):
        book.sign_as(bus_pki.signer(SG), folder)
    assert [s.state for s in book.folder(folder).steps] == ["done", "done"]


def test_circuit_templates_per_business_type(make_book, bus_pki: Pki) -> None:
    template = Circuit.from_json(
        [
            {"kind": "visa", "signatories": [DAF]},
            {"kind": "signature", "quorum": "any", "signatories": [SG, MINISTER]},
        ]
    )
    book = make_book(
        business_types={
            "purchasing": BusinessType("purchasing", "Purchasing", template),
            "hr": BusinessType("hr", "Human resources"),
        }
    )
    view = book.submit(pid(AGENT), submission(business_type="purchasing"))
    assert [(s.kind, s.quorum, s.signatories) for s in view.steps] == [
        ("visa", "all", [DAF]),
        ("signature", "any", [SG, MINISTER]),
    ]
    with pytest.raises(InvalidSubmission, match="no circuit template"):
        book.submit(pid(AGENT), submission(business_type="hr"))
    with pytest.raises(InvalidSubmission, match="unknown business type"):
        book.submit(pid(AGENT), submission(step("signature", SG), business_type="logistics"))


def test_malformed_circuits_are_refused(book: SignatureBook) -> None:
    with pytest.raises(InvalidCircuit, match="signature step"):
        book.submit(pid(AGENT), submission(step("visa", DRH)))
    with pytest.raises(InvalidCircuit, match="twice"):
        book.submit(pid(AGENT), submission(step("signature", SG, SG)))
    with pytest.raises(InvalidCircuit):
        Circuit.parse_step("stamp:MA/GOV/MEF/sg")
    assert Circuit.parse_step("sign:any:MA/GOV/MEF/sg,MA/GOV/MEF/daf").quorum == "any"


def test_documents_must_have_distinct_names(book: SignatureBook) -> None:
    twice = (("a.pdf", "application/pdf", b"1"), ("a.pdf", "application/pdf", b"2"))
    with pytest.raises(InvalidSubmission, match="same name"):
        book.submit(pid(AGENT), submission(step("signature", SG), documents=twice))
