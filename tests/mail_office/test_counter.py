"""Paper letters handed in at the counter: registered with the clerk as actor, acknowledged like a deposit,
followed by the counter channel when the visitor gave a CIN or ICE; over the bus for desk systems only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.envelope import MessageKind
from sdk import CallFailed
from sdk.contract import decode, encode
from teleservices.mail_office import MailOffice
from teleservices.mail_office.contract import REGISTER_COUNTER
from teleservices.mail_office.errors import InvalidSender
from teleservices.mail_office.models import (
    Acknowledgement,
    Assign,
    Attachment,
    CounterLetter,
    Party,
    PartyKind,
    RegisterQuery,
    Show,
)
from teleservices.mail_office.outbox import OutboxKind
from teleservices.mail_office.workflow import Action, Direction

from .bus_world import MEF_DESK
from .conftest import MEF, PORTAL, FakeClock, letter, mef_config

SCAN = Attachment.of("scan.pdf", "application/pdf", b"%PDF-1.7 page 1")


def counter_letter(**overrides: object) -> CounterLetter:
    fields: dict[str, object] = {
        "subject": "Demande de mutation",
        "visitor_name": "Amina El Idrissi",
        "visitor_kind": PartyKind.CITIZEN,
        "visitor_id": "AB123456",
        "mail_type": "request",
        "body": "Lettre manuscrite remise au guichet",
        "attachments": [SCAN],
    }
    fields.update(overrides)
    return CounterLetter(**fields)  # type: ignore[arg-type]


@pytest.fixture
def office(tmp_path: Path, clock: FakeClock) -> MailOffice:
    return MailOffice.create(tmp_path / "mef", mef_config(counter_channel=PORTAL), clock=clock)


def test_the_clerk_is_the_registering_actor_and_the_visitor_the_sender(office: MailOffice) -> None:
    ack = office.register_counter(counter_letter(), actor="mef.clerc (Nadia Berrada)")
    record = office.show(ack.registration_number)
    assert record.sender == Party(kind=PartyKind.CITIZEN, identifier="AB123456", name="Amina El Idrissi")
    assert record.recipient.identifier == MEF
    assert [(h.action, h.actor) for h in record.history] == [(Action.REGISTER, "mef.clerc (Nadia Berrada)")]
    assert record.service == "rh" and ack.service_in_charge == "rh" and ack.deadline == record.deadline
    assert [a.name for a in record.attachments] == ["scan.pdf"]
    assert office.attachment(ack.registration_number, SCAN.sha256)[1] == SCAN.content


def test_an_identified_visitors_letter_is_followed_by_the_counter_channel(office: MailOffice) -> None:
    number = office.register_counter(counter_letter(), actor="mef.clerc").registration_number
    office.assign(number, service="rh", actor="mef.clerc")
    steps = [m for m in office.pending() if m.registration_number == number]
    assert [(m.kind, m.destination) for m in steps] == [(OutboxKind.STATUS_CHANGE, PORTAL)]


def test_an_anonymous_visitor_gets_a_reference_of_the_office_and_no_channel(office: MailOffice) -> None:
    first = office.register_counter(counter_letter(visitor_kind=None, visitor_id=None), actor="mef.clerc")
    second = office.register_counter(counter_letter(visitor_kind=None, visitor_id=None), actor="mef.clerc")
    assert first.registration_number != second.registration_number  # two visitors, two letters
    record = office.show(first.registration_number)
    assert record.sender.kind is PartyKind.VISITOR and record.sender.identifier.startswith("guichet-")
    office.assign(first.registration_number, service="rh", actor="mef.clerc")
    assert not [m for m in office.pending() if m.registration_number == first.registration_number]


def test_the_same_letter_of_the_same_visitor_is_registered_once(office: MailOffice) -> None:
    assert office.register_counter(counter_letter(), actor="a") == office.register_counter(
        counter_letter(), actor="b"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"visitor_id": None}, "together"),
        ({"visitor_kind": None}, "together"),
        ({"visitor_id": "12345"}, "CIN"),
        ({"visitor_kind": PartyKind.COMPANY, "visitor_id": "AB123456"}, "ICE"),
        ({"visitor_kind": PartyKind.ADMINISTRATION, "visitor_id": MEF}, "at the counter is a citizen"),
        (
            {"visitor_kind": PartyKind.VISITOR, "visitor_id": "guichet-0123456789abcdef"},
            "at the counter is a citizen",
        ),
    ],
)
def test_visitor_identification_is_checked(
    office: MailOffice, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidSender, match=message):
        office.register_counter(counter_letter(**overrides), actor="mef.clerc")
    assert office.register(RegisterQuery(direction=Direction.INCOMING)).total == 0


def test_nobody_deposits_in_the_name_of_a_counter_visitor(office: MailOffice) -> None:
    visitor = Party(kind=PartyKind.VISITOR, identifier="guichet-0123456789abcdef", name="X")
    with pytest.raises(InvalidSender, match="counter only"):
        office.deposit(letter(sender=visitor), channel=PORTAL)


def test_over_the_bus_the_desk_registers_and_the_office_signs_the_acknowledgement(world) -> None:  # type: ignore[no-untyped-def]
    verified = world.client(MEF_DESK).call_raw(
        REGISTER_COUNTER.service_of(MEF),
        encode(counter_letter(), REGISTER_COUNTER.schema),
        user_id="mef.clerc (Nadia Berrada)",
    )
    assert verified.header.kind is MessageKind.RESPONSE and str(verified.signer.participant) == MEF
    ack = decode(verified.payload, Acknowledgement, REGISTER_COUNTER.schema)
    record = world.desk(MEF, Show(registration_number=ack.registration_number))
    assert record.history[0].actor == "mef.clerc (Nadia Berrada)"
    world.desk(MEF, Assign(registration_number=ack.registration_number, service="rh"), official="mef.clerc")


def test_only_the_desk_system_may_register_at_the_counter(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CallFailed) as refused:
        world.call(PORTAL, MEF, counter_letter(visitor_id="CD987654"), official="AB123456")
    assert str(refused.value.code) == "Client.AccessDenied"
