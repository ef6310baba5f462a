"""Events reach the submitting application over the bus, point to point: in order per recipient, after
an outage, at least once, and handled once by the receiver."""

from __future__ import annotations

import pytest

from sdk import Provider
from teleservices.signature_book import EventReceiver
from teleservices.signature_book.contract import APPROVE, DELEGATE, FOLDER_EVENT, folder_event_contract
from teleservices.signature_book.models import ApproveFolder, DelegateSignature, EventKind
from teleservices.signature_book.times import utc_now
from tests.signature_book.bus_world import BookWorld, Inbox, eventually
from tests.signature_book.conftest import ADJOINT, AGENT, BOOK, DRH, SG, an_hour_from, step, submission

E = EventKind


def test_events_wait_for_a_submitter_that_is_down_without_holding_back_others(make_world) -> None:
    world: BookWorld = make_world(agent=False)
    view = world.submit(submission(step("visa", DRH), step("signature", SG)))
    world.call(DRH, APPROVE, ApproveFolder(folder_id=view.folder_id))
    now = utc_now()
    world.call(
        SG, DELEGATE, DelegateSignature(substitute=ADJOINT, valid_from=now, valid_until=an_hour_from(now))
    )

    adjoint = world.adjoint_inbox
    adjoint.wait_for(lambda: len(adjoint.delegation_events) == 1, "the delegation event")
    store = world.book.store
    eventually(lambda: store.outbox_size() == 2, "the submitter's two events waiting")

    world.bus.start(world.agent_app)
    world.agent_inbox.wait_for_kinds(view.folder_id, [E.SUBMITTED, E.APPROVED])
    eventually(lambda: store.outbox_size() == 0, "the outbox drained")


def test_an_application_that_fails_gets_the_event_again_and_handles_it_once(world: BookWorld) -> None:
    world.agent_inbox.failures_left = 1
    view = world.submit(submission(step("signature", SG)))
    world.agent_inbox.wait_for_kinds(view.folder_id, [E.SUBMITTED])
    eventually(lambda: world.book.store.outbox_size() == 0, "the outbox drained")
    with world.book.store.reading() as conn:
        [(attempts, error)] = conn.execute("SELECT attempts, last_error FROM outbox").fetchall()
    assert attempts == 2 and "HandlerError" in error


def test_a_redelivered_event_is_acknowledged_without_being_handled_again(world: BookWorld) -> None:
    view = world.submit(submission(step("signature", SG)))
    inbox = world.agent_inbox
    inbox.wait_for_kinds(view.folder_id, [E.SUBMITTED])
    event = inbox.folder_events[0]

    book_client = world.bus.client(BOOK)
    ack = book_client.call(AGENT, FOLDER_EVENT, event)
    assert ack.event_id == event.event_id
    assert inbox.kinds(view.folder_id) == [E.SUBMITTED]


def test_a_folder_can_name_another_service_for_its_events(
    world: BookWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bus.registry.store.RELOAD_CHECK_SECONDS", 0.0)
    contract = folder_event_contract("hr.folder-events", 2)
    world.bus.publish(contract, provider=AGENT, clients=[BOOK])
    world.bus.sign_catalogue()
    hr_inbox = Inbox()
    hr_app = Provider(AGENT)
    EventReceiver(hr_app, on_folder=hr_inbox.folder, contract=contract)
    world.bus.start(hr_app)

    notify = str(contract.service_of(AGENT))
    view = world.submit(submission(step("signature", SG), notify_service=notify))
    world.sign(SG, view.folder_id)
    hr_inbox.wait_for_kinds(view.folder_id, [E.SUBMITTED, E.SIGNED, E.COMPLETED])
    assert world.agent_inbox.kinds(view.folder_id) == []
