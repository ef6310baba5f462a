"""The outbox: every status change becomes an event for the depositor's system, kept until handed over."""

from __future__ import annotations

from collections.abc import Callable

from schemas import load_schema
from teleservices.mail_office.models import SCHEMA, Acknowledgement, StatusChange
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxKind, OutboxMessage
from teleservices.mail_office.workflow import Action, Status

from .conftest import PORTAL, FakeClock, letter


class Collector:
    """A sink that keeps what it is given; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.received: list[OutboxMessage] = []
        self.down = False

    def __call__(self, message: OutboxMessage) -> Acknowledgement | None:
        if self.down:
            raise ConnectionError("the bus is down")
        self.received.append(message)
        return None


def process(office: MailOffice, number: str) -> None:
    office.assign(number, service="rh", agent="s.bennani", actor="k.alami", comment="urgent")
    office.request_opinion(number, consulted="juridique", question="?", actor="s.bennani")
    office.give_opinion(number, opinion="oui", actor="n.tazi")
    office.validate(number, actor="chef")
    office.close(number, actor="chef", comment="traité")


def test_every_status_change_is_an_event_for_the_depositor(
    office: MailOffice, clock: FakeClock, deposited: Callable[..., str]
) -> None:
    number = deposited()
    clock.advance(hours=2)
    process(office, number)

    messages = office.pending()
    assert {(m.kind, m.destination, m.registration_number) for m in messages} == {
        (OutboxKind.STATUS_CHANGE, PORTAL, number)
    }
    events = [m.payload for m in messages]
    assert all(isinstance(e, StatusChange) for e in events)
    assert [(e.sequence, e.action, e.old_status, e.new_status, e.actor) for e in events] == [  # type: ignore[union-attr]
        (2, Action.ASSIGN, Status.REGISTERED, Status.ASSIGNED, "k.alami"),
        (3, Action.REQUEST_OPINION, Status.ASSIGNED, Status.AWAITING_OPINION, "s.bennani"),
        (4, Action.GIVE_OPINION, Status.AWAITING_OPINION, Status.ASSIGNED, "n.tazi"),
        (5, Action.VALIDATE, Status.ASSIGNED, Status.VALIDATED, "chef"),
        (6, Action.CLOSE, Status.VALIDATED, Status.CLOSED, "chef"),
    ]
    first = events[0]
    assert isinstance(first, StatusChange)
    assert (first.time, first.service, first.comment) == (clock(), "rh", "urgent")
    schema = load_schema(SCHEMA)
    assert all(schema.validate(e.to_xml_tree()) for e in events)
    history = office.show(number).history
    assert [(h.sequence, h.action) for h in history[1:]] == [(e.sequence, e.action) for e in events]  # type: ignore[union-attr]


def test_events_wait_in_the_outbox_until_they_are_handed_over(
    office: MailOffice, clock: FakeClock, deposited: Callable[..., str]
) -> None:
    number = deposited()
    process(office, number)
    sink = Collector()
    sink.down = True

    report = office.drain(sink)
    assert report.sent == () and len(report.failed) == 1 and len(report.held) == 4
    assert report.failed[0][1] == "ConnectionError: the bus is down"
    assert len(office.pending()) == 5
    assert office.pending()[0].attempts == 1 and office.pending()[1].attempts == 0

    reopened = MailOffice(office.directory, clock=clock)  # nothing is lost when the office restarts
    assert [m.id for m in reopened.pending()] == [m.id for m in office.pending()]

    sink.down = False
    report = reopened.drain(sink)
    assert len(report.sent) == 5 and report.failed == ()
    assert [m.payload.sequence for m in sink.received] == [2, 3, 4, 5, 6]  # type: ignore[union-attr]
    assert office.pending() == []
    assert office.drain(sink) == type(report)()  # nothing left to send
    assert len(sink.received) == 5


def test_a_failure_midway_resumes_where_it_stopped(office: MailOffice, deposited: Callable[..., str]) -> None:
    number = deposited()
    process(office, number)
    delivered: list[int] = []

    def fails_on_the_third(message: OutboxMessage) -> Acknowledgement | None:
        if len(delivered) == 2:
            raise TimeoutError("no answer")
        delivered.append(message.payload.sequence)  # type: ignore[union-attr]
        return None

    report = office.drain(fails_on_the_third)
    assert (len(report.sent), len(report.failed), len(report.held)) == (2, 1, 2)
    assert [m.payload.sequence for m in office.pending()] == [4, 5, 6]  # type: ignore[union-attr]

    sink = Collector()
    office.drain(sink)
    assert [m.payload.sequence for m in sink.received] == [4, 5, 6]  # type: ignore[union-attr]


def test_messages_for_other_destinations_are_not_held_back(office: MailOffice) -> None:
    portal = office.deposit(letter("Par le portail"), channel=PORTAL).registration_number
    other = office.deposit(letter("Par l'agence"), channel="MA/GOV/ANRT/guichet").registration_number
    office.assign(portal, service="rh", actor="a")
    office.assign(other, service="rh", actor="a")
    sink = Collector()

    def portal_down(message: OutboxMessage) -> Acknowledgement | None:
        if message.destination == PORTAL:
            raise ConnectionError("portal down")
        return sink(message)

    office.drain(portal_down)
    assert [m.registration_number for m in sink.received] == [other]
    assert [m.registration_number for m in office.pending()] == [portal]


def test_a_drain_can_be_limited_to_some_destinations(office: MailOffice) -> None:
    portal = office.deposit(letter("Par le portail"), channel=PORTAL).registration_number
    other = office.deposit(letter("Par l'agence"), channel="MA/GOV/ANRT/guichet").registration_number
    office.assign(portal, service="rh", actor="a")
    office.assign(other, service="rh", actor="a")
    sink = Collector()
    office.drain(sink, to=lambda destination: destination == PORTAL)
    assert [m.registration_number for m in sink.received] == [portal]
    assert [m.registration_number for m in office.pending()] == [other]


def test_a_letter_deposited_without_a_channel_produces_no_event(office: MailOffice) -> None:
    number = office.deposit(letter()).registration_number
    process(office, number)
    assert office.pending() == []
