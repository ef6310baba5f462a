"""The mail desk: assignment, redirection, opinions, validation, reply, closure, and every refused move."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta

import pytest

from teleservices.mail_office.errors import (
    InvalidRequest,
    InvalidTransition,
    UnknownRegistration,
    UnknownService,
)
from teleservices.mail_office.models import (
    Assign,
    Attachment,
    Close,
    GiveOpinion,
    PartyKind,
    Redirect,
    Reply,
    RequestOpinion,
    Send,
    Show,
    Validate,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.store import DATABASE_FILE
from teleservices.mail_office.workflow import (
    INCOMING_TRANSITIONS,
    OUTGOING_TRANSITIONS,
    TRANSITIONS,
    Action,
    Direction,
    Status,
)

from .conftest import CITIZEN, PORTAL, START, FakeClock, letter


def test_a_letter_goes_through_the_whole_desk(
    office: MailOffice, clock: FakeClock, deposited: Callable[..., str]
) -> None:
    number = deposited()
    clock.advance(hours=1)
    record = office.assign(number, service="rh", agent="s.bennani", actor="k.alami", comment="à traiter")
    assert (record.status, record.service, record.agent) == (Status.ASSIGNED, "rh", "s.bennani")

    clock.advance(hours=1)
    record = office.request_opinion(number, consulted="juridique", question="Recevable ?", actor="s.bennani")
    assert record.status is Status.AWAITING_OPINION
    assert [(o.consulted, o.question, o.requested_by, o.opinion) for o in record.opinions] == [
        ("juridique", "Recevable ?", "s.bennani", None)
    ]

    clock.advance(days=1)
    record = office.give_opinion(number, opinion="Recevable.", actor="n.tazi")
    assert record.status is Status.ASSIGNED and record.agent == "s.bennani"
    [opinion] = record.opinions
    assert (opinion.opinion, opinion.given_by, opinion.given_at) == ("Recevable.", "n.tazi", clock())

    clock.advance(hours=2)
    assert office.validate(number, actor="chef.rh", comment="vu").status is Status.VALIDATED

    clock.advance(hours=1)
    answer = Attachment.of("decision.pdf", "application/pdf", b"%PDF decision")
    reply = office.reply(
        number, subject="Votre demande de mutation", body="Accordée.", attachments=[answer], actor="chef.rh"
    )
    assert reply.direction is Direction.OUTGOING and reply.status is Status.REGISTERED
    assert reply.registration_number == "MEF/2026/D/1"
    assert reply.in_reply_to == number
    assert reply.recipient == CITIZEN
    assert reply.sender.kind is PartyKind.ADMINISTRATION and reply.sender.identifier == office.participant
    assert reply.mail_type == "reply" and reply.service == "rh" and reply.body == "Accordée."
    assert [a.sha256 for a in reply.attachments] == [answer.sha256]

    clock.advance(hours=1)
    record = office.close(number, actor="chef.rh", comment="dossier traité")
    assert record.status is Status.CLOSED
    assert record.replies == ["MEF/2026/D/1"]

    assert [(h.sequence, h.action, h.old_status, h.new_status, h.actor) for h in record.history] == [
        (1, Action.REGISTER, None, Status.REGISTERED, PORTAL),
        (2, Action.ASSIGN, Status.REGISTERED, Status.ASSIGNED, "k.alami"),
        (3, Action.REQUEST_OPINION, Status.ASSIGNED, Status.AWAITING_OPINION, "s.bennani"),
        (4, Action.GIVE_OPINION, Status.AWAITING_OPINION, Status.ASSIGNED, "n.tazi"),
        (5, Action.VALIDATE, Status.ASSIGNED, Status.VALIDATED, "chef.rh"),
        (6, Action.REPLY, Status.VALIDATED, Status.REPLIED, "chef.rh"),
        (7, Action.CLOSE, Status.REPLIED, Status.CLOSED, "chef.rh"),
    ]
    assert [h.time - START for h in record.history] == [
        timedelta(0),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(days=1, hours=2),
        timedelta(days=1, hours=4),
        timedelta(days=1, hours=5),
        timedelta(days=1, hours=6),
    ]
    assert [h.comment for h in record.history] == [
        None,
        "à traiter",
        None,
        None,
        "vu",
        "reply MEF/2026/D/1",
        "dossier traité",
    ]


def test_a_validated_letter_can_be_closed_without_a_reply(
    office: MailOffice, deposited: Callable[..., str]
) -> None:
    number = deposited(mail_type="letter")
    office.assign(number, service="bureau-ordre", actor="k.alami")
    office.validate(number, actor="chef")
    assert office.close(number, actor="chef", comment="pour information").status is Status.CLOSED


def test_reassigning_moves_the_letter_to_another_agent(
    office: MailOffice, deposited: Callable[..., str]
) -> None:
    number = deposited()
    office.assign(number, service="rh", actor="k.alami")
    record = office.assign(number, service="rh", agent="s.bennani", actor="chef.rh")
    assert (record.status, record.service, record.agent) == (Status.ASSIGNED, "rh", "s.bennani")


def test_a_redirected_letter_changes_service_and_loses_its_agent(
    office: MailOffice, deposited: Callable[..., str]
) -> None:
    number = deposited()
    office.assign(number, service="rh", agent="s.bennani", actor="k.alami")
    record = office.redirect(number, service="finances", reason="relève des finances", actor="s.bennani")
    assert (record.status, record.service, record.agent) == (Status.ASSIGNED, "finances", None)
    last = record.history[-1]
    assert (last.action, last.service, last.comment) == (Action.REDIRECT, "finances", "relève des finances")


@pytest.mark.parametrize("operation", ["assign", "redirect"])
def test_a_letter_goes_only_to_a_service_of_the_office(
    office: MailOffice, deposited: Callable[..., str], operation: str
) -> None:
    number = deposited()
    office.assign(number, service="rh", actor="k.alami")
    with pytest.raises(
        UnknownService, match="unknown service 'rh2'; the services are: bureau-ordre, finances"
    ):
        if operation == "assign":
            office.assign(number, service="rh2", actor="k.alami")
        else:
            office.redirect(number, service="rh2", reason="?", actor="k.alami")


def test_a_reply_to_a_letter_deposited_without_a_channel_is_not_queued(office: MailOffice) -> None:
    number = office.deposit(letter()).registration_number
    office.assign(number, service="rh", actor="a")
    office.validate(number, actor="b")
    office.reply(number, subject="Réponse", actor="b")
    assert office.pending() == []  # to be posted by hand: no system to deliver it to


def test_an_unknown_registration_is_named(office: MailOffice) -> None:
    with pytest.raises(UnknownRegistration, match="no letter is registered under 'MEF/2026/A/99'"):
        office.assign("MEF/2026/A/99", service="rh", actor="k.alami")


def test_the_state_machine_is_complete_and_closed() -> None:
    for direction, table in TRANSITIONS.items():
        reachable = {Status.REGISTERED}
        for moves in table.values():
            reachable.update(moves.values())
        assert reachable == set(table), direction  # every status is reachable and has an entry
    assert INCOMING_TRANSITIONS[Status.CLOSED] == {}
    assert OUTGOING_TRANSITIONS[Status.DELIVERED] == {}


# Every refused move: drive a letter into each status, then try every desk action not allowed there.

DESK_ACTIONS = [
    Action.ASSIGN,
    Action.REDIRECT,
    Action.REQUEST_OPINION,
    Action.GIVE_OPINION,
    Action.VALIDATE,
    Action.REPLY,
    Action.CLOSE,
]
PATH_TO = {
    Status.REGISTERED: [],
    Status.ASSIGNED: [Action.ASSIGN],
    Status.AWAITING_OPINION: [Action.ASSIGN, Action.REQUEST_OPINION],
    Status.VALIDATED: [Action.ASSIGN, Action.VALIDATE],
    Status.REPLIED: [Action.ASSIGN, Action.VALIDATE, Action.REPLY],
    Status.CLOSED: [Action.ASSIGN, Action.VALIDATE, Action.CLOSE],
}


def act(office: MailOffice, number: str, action: Action) -> object:
    match action:
        case Action.ASSIGN:
            return office.assign(number, service="rh", actor="k.alami")
        case Action.REDIRECT:
            return office.redirect(number, service="finances", reason="compétence", actor="k.alami")
        case Action.REQUEST_OPINION:
            return office.request_opinion(number, consulted="juridique", question="?", actor="k.alami")
        case Action.GIVE_OPINION:
            return office.give_opinion(number, opinion="oui", actor="n.tazi")
        case Action.VALIDATE:
            return office.validate(number, actor="chef")
        case Action.REPLY:
            return office.reply(number, subject="Réponse", actor="chef")
        case Action.CLOSE:
            return office.close(number, actor="chef")
    raise AssertionError(action)


INVALID_INCOMING = [
    (status, action)
    for status in INCOMING_TRANSITIONS
    for action in DESK_ACTIONS
    if action not in INCOMING_TRANSITIONS[status]
]


def test_the_invalid_moves_are_all_tested() -> None:
    assert set(PATH_TO) == set(INCOMING_TRANSITIONS)
    # answer-consultation applies to consultations only: its moves are tested in test_consultation.py
    assert len(INVALID_INCOMING) == 6 * 7 - sum(
        len(set(m) - {Action.ANSWER_CONSULTATION}) for m in INCOMING_TRANSITIONS.values()
    )


@pytest.mark.parametrize(
    ("status", "action"), INVALID_INCOMING, ids=[f"{s.value}-{a.value}" for s, a in INVALID_INCOMING]
)
def test_every_invalid_move_of_incoming_mail_is_refused_and_changes_nothing(
    office: MailOffice, deposited: Callable[..., str], status: Status, action: Action
) -> None:
    number = deposited()
    for step in PATH_TO[status]:
        act(office, number, step)
    before = office.show(number)
    assert before.status is status
    pending = len(office.pending())

    with pytest.raises(InvalidTransition) as refused:
        act(office, number, action)

    error = refused.value
    assert (error.number, error.status, error.action) == (number, status.value, action.value)
    assert error.allowed == {a.value: s.value for a, s in INCOMING_TRANSITIONS[status].items()}
    assert error.code == "MailOffice.InvalidTransition"
    message = str(error)
    assert message.startswith(f"{number} is '{status.value}': cannot '{action.value}'; ")
    for allowed_action, target in INCOMING_TRANSITIONS[status].items():
        assert f"{allowed_action.value} (-> {target.value})" in message
    if not INCOMING_TRANSITIONS[status]:
        assert "'closed' is final for incoming mail: no action is allowed" in message
    assert office.show(number) == before
    assert len(office.pending()) == pending


@pytest.mark.parametrize("action", DESK_ACTIONS, ids=[a.value for a in DESK_ACTIONS])
def test_desk_actions_are_refused_on_outgoing_mail(office: MailOffice, action: Action) -> None:
    sent = office.send(subject="Courrier", recipient=CITIZEN, mail_type="letter", actor="k.alami")
    with pytest.raises(
        InvalidTransition, match=re.escape("allowed from 'registered': deliver (-> delivered)")
    ):
        act(office, sent.registration_number, action)
    assert office.show(sent.registration_number) == sent


def test_the_example_message_reads_well(office: MailOffice, deposited: Callable[..., str]) -> None:
    number = deposited()
    with pytest.raises(InvalidTransition) as refused:
        office.validate(number, actor="chef")
    assert str(refused.value) == (
        "MEF/2026/A/1 is 'registered': cannot 'validate'; allowed from 'registered': assign (-> assigned)"
    )


def test_the_history_is_append_only(office: MailOffice, deposited: Callable[..., str]) -> None:
    number = deposited()
    office.assign(number, service="rh", actor="k.alami")
    with sqlite3.connect(office.directory / DATABASE_FILE) as conn:
        for statement in ("UPDATE history SET actor = 'someone else'", "DELETE FROM history"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert [h.actor for h in office.show(number).history] == [PORTAL, "k.alami"]


def test_desk_operations_arrive_as_contract_payloads(
    office: MailOffice, deposited: Callable[..., str]
) -> None:
    number = deposited()
    steps = [
        (Assign(registration_number=number, service="rh", agent="s.bennani"), Status.ASSIGNED),
        (Redirect(registration_number=number, service="finances", reason="compétence"), Status.ASSIGNED),
        (
            RequestOpinion(registration_number=number, consulted="juridique", question="?"),
            Status.AWAITING_OPINION,
        ),
        (GiveOpinion(registration_number=number, opinion="oui"), Status.ASSIGNED),
        (Validate(registration_number=number), Status.VALIDATED),
    ]
    for operation, status in steps:
        assert office.perform(operation, actor="k.alami").status is status
    reply = office.perform(Reply(registration_number=number, subject="Réponse"), actor="chef")
    assert reply.direction is Direction.OUTGOING and reply.in_reply_to == number
    assert office.perform(Close(registration_number=number), actor="chef").status is Status.CLOSED
    assert office.perform(Show(registration_number=number), actor="anyone") == office.show(number)
    sent = office.perform(Send(subject="Info", recipient=CITIZEN, mail_type="letter"), actor="k.alami")
    assert sent.registration_number == "MEF/2026/D/2"
    assert [h.actor for h in office.show(number).history][1:] == ["k.alami"] * 5 + ["chef", "chef"]


def test_each_step_is_reported_to_the_depositor(office: MailOffice, deposited: Callable[..., str]) -> None:
    number = deposited()
    office.assign(number, service="rh", actor="k.alami")
    office.validate(number, actor="chef")
    office.reply(number, subject="Réponse", actor="chef")
    kinds = [(m.kind, m.destination, m.registration_number) for m in office.pending()]
    assert kinds == [
        (OutboxKind.STATUS_CHANGE, PORTAL, number),
        (OutboxKind.STATUS_CHANGE, PORTAL, number),
        (OutboxKind.LETTER, PORTAL, "MEF/2026/D/1"),  # the reply itself, before the news of it
        (OutboxKind.STATUS_CHANGE, PORTAL, number),
    ]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda o, n: o.assign(n, service="rh", actor="k.alami", comment=""), "comment"),
        (lambda o, n: o.assign(n, service="rh", actor="k.alami\nchef"), "actor"),
        (lambda o, n: o.assign(n, service="r h", actor="k.alami"), "service"),
        (lambda o, n: o.redirect(n, service="rh", reason="", actor="k.alami"), "reason"),
        (lambda o, n: o.request_opinion(n, consulted=" ", question="?", actor="k.alami"), "consulted"),
        (lambda o, n: o.give_opinion(n, opinion="\x00", actor="k.alami"), "opinion"),
        (lambda o, n: o.reply(n, subject="deux\nlignes", actor="k.alami"), "subject"),
        (lambda o, n: o.close(n, actor=""), "actor"),
        (lambda o, n: o.deposit(letter("autre"), channel="portail"), "channel"),
    ],
)
def test_requests_that_do_not_fit_the_contract_are_refused_before_anything_changes(
    office: MailOffice, deposited: Callable[..., str], call: Callable[[MailOffice, str], object], field: str
) -> None:
    number = deposited()
    before = office.show(number)
    with pytest.raises(InvalidRequest, match=f"^{field}: "):
        call(office, number)
    assert office.show(number) == before
    assert len(office.pending()) == 0
