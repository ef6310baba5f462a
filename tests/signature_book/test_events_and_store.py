"""Events leave through the store's outbox (none lost when a sink fails); stored content is digest-checked.

Every test runs with the book's tables on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.storage import Storage
from teleservices.signature_book import MemorySink, SignatureBook
from teleservices.signature_book.errors import StorageCorrupted, UnknownDocument, UnknownFolder
from teleservices.signature_book.events import BookEvent
from teleservices.signature_book.models import DelegateSignature, DelegationEvent, EventKind
from tests.signature_book.conftest import (
    ADJOINT,
    AGENT,
    CONTRACT,
    DAF,
    DRH,
    SG,
    Clock,
    Pki,
    an_hour_from,
    pid,
    step,
    submission,
)

NOTIFY = "MA/GOV/MEF/agent-rh/signature-book.events/v1"


@pytest.fixture
def book_storage(storage: Storage) -> Storage:
    return storage


class FlakySink:
    """Fails while ``down``; records what it took."""

    def __init__(self) -> None:
        self.down = True
        self.taken: list[tuple[str, BookEvent]] = []

    def deliver(self, recipient: str, event: BookEvent) -> None:
        if self.down:
            raise ConnectionError("bus unreachable")
        self.taken.append((recipient, event))


def test_every_state_change_emits_an_event_to_the_submitter(
    book: SignatureBook, sink: MemorySink, bus_pki: Pki
) -> None:
    folder = book.submit(pid(AGENT), submission(step("visa", DRH, DAF), step("signature", SG))).folder_id
    book.approve(folder, pid(DRH))
    book.undo(folder, pid(DRH))
    book.approve(folder, pid(DRH))
    book.approve(folder, pid(DAF))
    book.sign_as(bus_pki.signer(SG), folder)

    kinds = [e.kind for e in sink.events()]
    assert kinds == ["submitted", "approved", "undone", "approved", "approved", "signed", "completed"]
    assert {recipient for recipient, _ in sink.delivered} == {AGENT}
    assert [e.current_step for e in sink.events()] == [1, 1, 1, 1, 2, None, None]
    assert [e.seq for e in sink.events()] == [1, 2, 3, 4, 5, 6, 6]
    assert len({e.event_id for e in sink.events()}) == 7
    assert book.store.outbox_size() == 0


def test_events_go_to_the_notify_service_when_given(book: SignatureBook, sink: MemorySink) -> None:
    book.submit(pid(AGENT), submission(step("signature", SG), notify_service=NOTIFY))
    assert sink.delivered[0][0] == NOTIFY


def test_no_event_is_lost_when_the_sink_fails(make_book, bus_pki: Pki) -> None:
    flaky = FlakySink()
    book = make_book(sink=flaky)
    folder = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    book.reject(folder, pid(DRH), "Pièce manquante")
    assert flaky.taken == [] and book.store.outbox_size() == 2

    reopened = make_book()
    assert reopened.store.outbox_size() == 2
    flaky.down = False
    assert reopened.deliver_events(flaky) == 2
    assert [e.kind for _, e in flaky.taken] == [EventKind.SUBMITTED, EventKind.REJECTED]
    assert flaky.taken[1][1].reason == "Pièce manquante"
    assert reopened.deliver_events(flaky) == 0


class DeafRecipient(MemorySink):
    """Refuses every event for one recipient."""

    def __init__(self, deaf: str) -> None:
        super().__init__()
        self.deaf = deaf

    def deliver(self, recipient: str, event: BookEvent) -> None:
        if recipient == self.deaf:
            raise ConnectionError(f"{recipient} unreachable")
        super().deliver(recipient, event)


def test_an_unreachable_recipient_holds_back_only_its_own_events(make_book) -> None:
    book = make_book()
    first = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    book.submit(pid(DAF), submission(step("signature", SG)))
    book.reject(first, pid(SG), "Incomplet")

    sink = DeafRecipient(AGENT)
    assert book.deliver_events(sink) == 1
    assert [(r, e.kind) for r, e in sink.delivered] == [(DAF, EventKind.SUBMITTED)]
    assert book.store.outbox_size() == 2
    assert book.deliver_events(MemorySink(), exclude=[AGENT]) == 0

    sink.deaf = "nobody"
    assert book.deliver_events(sink) == 2
    assert [e.kind for r, e in sink.delivered if r == AGENT] == [EventKind.SUBMITTED, EventKind.REJECTED]


def test_a_delegation_is_announced_to_the_substitute(
    book: SignatureBook, sink: MemorySink, clock: Clock
) -> None:
    view = book.delegate(
        pid(SG), DelegateSignature(substitute=ADJOINT, valid_from=clock(), valid_until=an_hour_from(clock()))
    )
    recipient, event = sink.delivered[-1]
    assert recipient == ADJOINT
    assert isinstance(event, DelegationEvent) and event.delegation_id == view.delegation_id
    assert [d.delegation_id for d in book.delegations(pid(ADJOINT))] == [view.delegation_id]


def test_documents_are_content_addressed_and_checked_on_read(book: SignatureBook, tmp_path: Path) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    document = book.document(folder, "arrete.pdf")
    assert document.content == CONTRACT
    blob = tmp_path / "book" / "blobs" / document.sha256[:2] / document.sha256
    assert blob.read_bytes() == CONTRACT

    again = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    assert book.document(again, "arrete.pdf").sha256 == document.sha256

    blob.write_bytes(CONTRACT + b"tampered")
    with pytest.raises(StorageCorrupted, match="no longer matches"):
        book.document(folder, "arrete.pdf")
    with pytest.raises(UnknownDocument):
        book.document(folder, "other.pdf")


def test_an_altered_stored_history_is_detected(book: SignatureBook, tmp_path: Path) -> None:
    folder = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    book.approve(folder, pid(DRH))
    with book.store.transaction() as db:  # someone with write access to the database, behind the book
        (text,) = db.execute(
            "SELECT entry FROM history WHERE folder_id = ? AND seq = 2", (folder,)
        ).fetchone()
        entry = json.loads(text)
        entry["actor"] = DAF
        db.execute(
            "UPDATE history SET entry = ? WHERE folder_id = ? AND seq = 2", (json.dumps(entry), folder)
        )
    with pytest.raises(StorageCorrupted):
        book.folder(folder)


def test_folders_are_listed_for_those_involved_only(book: SignatureBook, clock: Clock) -> None:
    hr = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    purchase = book.submit(
        pid(AGENT), submission(step("signature", DAF), business_type="purchasing")
    ).folder_id
    assert [f.folder_id for f in book.folders(awaiting=pid(DRH)).folders] == [hr]
    assert [f.folder_id for f in book.folders(viewer=pid(SG)).folders] == [hr]
    assert {f.folder_id for f in book.folders().folders} == {hr, purchase}
    with pytest.raises(UnknownFolder):
        book.folder(purchase, viewer=pid(SG))
    book.delegate(
        pid(DAF), DelegateSignature(substitute=ADJOINT, valid_from=clock(), valid_until=an_hour_from(clock()))
    )
    assert [f.folder_id for f in book.folders(viewer=pid(ADJOINT), awaiting=pid(ADJOINT)).folders] == [
        purchase
    ]
    assert book.folder(purchase, viewer=pid(ADJOINT)).folder_id == purchase
