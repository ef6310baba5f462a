"""The office over the bus: deposit and signed acknowledgement, the desk, refusals reaching the caller."""

from __future__ import annotations

from datetime import date

import pytest

from bus.envelope import MessageKind
from bus.faults import FaultCode
from sdk import CallFailed
from sdk.contract import decode, encode
from teleservices.mail_office.contract import ASSIGN, DEPOSIT, REGISTER, SHOW
from teleservices.mail_office.models import (
    Acknowledgement,
    Assign,
    Close,
    GiveOpinion,
    Party,
    PartyKind,
    RegisterQuery,
    Reply,
    RequestOpinion,
    Show,
    Validate,
    deposit_digest,
)
from teleservices.mail_office.workflow import Action, Direction, Status

from .bus_world import MEF_DESK, OUTSIDER
from .conftest import CNSS, MEF, PORTAL, letter


def test_the_acknowledgement_travels_in_a_response_signed_by_the_office(world):
    deposit = letter("Demande de mutation")
    verified = world.client(PORTAL).call_raw(DEPOSIT.service_of(MEF), encode(deposit, DEPOSIT.schema))
    assert verified.header.kind is MessageKind.RESPONSE
    assert str(verified.header.client) == str(verified.signer.participant) == MEF
    assert verified.header.request_hash is not None  # bound to the deposit as the office received it
    ack = decode(verified.payload, Acknowledgement, DEPOSIT.schema)
    assert ack.registration_number == "MEF/2026/A/1"
    assert ack.office == MEF
    assert ack.deposit_digest == deposit_digest(deposit)
    assert ack.service_in_charge == "rh"  # the "request" mail type's service
    assert ack.deadline == date(2026, 3, 31)  # 20 business days, Eid al-Fitr excluded
    record = world.desk(MEF, Show(registration_number=ack.registration_number))
    assert record.status is Status.REGISTERED
    assert record.history[0].actor == PORTAL  # the depositing system, as the envelope's signer


def test_a_duplicate_deposit_gets_the_original_acknowledgement(world):
    portal = world.client(PORTAL)
    first = portal.call(MEF, DEPOSIT, letter())
    world.clock.advance(hours=2)
    again = portal.call(MEF, DEPOSIT, letter())
    assert again.to_xml() == first.to_xml()
    register = world.desk(MEF, RegisterQuery(direction=Direction.INCOMING))
    assert register.total == 1


def test_assignment_validation_reply_and_closure(world):
    number = world.client(PORTAL).call(MEF, DEPOSIT, letter()).registration_number
    assigned = world.desk(
        MEF, Assign(registration_number=number, service="rh", agent="s.bennani"), official="k.alami"
    )
    assert (assigned.status, assigned.service, assigned.agent) == (Status.ASSIGNED, "rh", "s.bennani")
    world.desk(MEF, RequestOpinion(registration_number=number, consulted="juridique", question="Possible ?"))
    world.desk(MEF, GiveOpinion(registration_number=number, opinion="Oui."), official="chef.juridique")
    validated = world.desk(MEF, Validate(registration_number=number), official="chef.rh")
    assert validated.status is Status.VALIDATED
    reply = world.desk(
        MEF, Reply(registration_number=number, subject="Mutation accordée"), official="chef.rh"
    )
    assert reply.direction is Direction.OUTGOING
    assert reply.in_reply_to == number
    closed = world.desk(MEF, Close(registration_number=number, comment="Dossier clos"), official="k.alami")
    assert closed.status is Status.CLOSED
    assert closed.replies == [reply.registration_number]
    assert [(h.action, h.actor) for h in closed.history] == [
        (Action.REGISTER, PORTAL),
        (Action.ASSIGN, "k.alami"),
        (Action.REQUEST_OPINION, MEF_DESK),  # no official declared: the calling system acts
        (Action.GIVE_OPINION, "chef.juridique"),
        (Action.VALIDATE, "chef.rh"),
        (Action.REPLY, "chef.rh"),
        (Action.CLOSE, "k.alami"),
    ]
    assert closed.opinions[0].opinion == "Oui."


def test_an_invalid_transition_reaches_the_caller_with_the_office_code(world):
    number = world.client(PORTAL).call(MEF, DEPOSIT, letter()).registration_number
    with pytest.raises(CallFailed) as refused:
        world.desk(MEF, Validate(registration_number=number))
    assert refused.value.code is FaultCode.HANDLER_ERROR
    assert refused.value.service_code == "MailOffice.InvalidTransition"
    assert f"{number} is 'registered': cannot 'validate'" in refused.value.reason
    assert world.desk(MEF, Show(registration_number=number)).status is Status.REGISTERED
    with pytest.raises(CallFailed) as unknown:
        world.desk(MEF, Close(registration_number="MEF/2026/A/999"))
    assert unknown.value.service_code == "MailOffice.UnknownRegistration"


def test_only_granted_systems_reach_the_desk_and_the_registers(world):
    number = world.client(PORTAL).call(MEF, DEPOSIT, letter()).registration_number
    for caller in (PORTAL, OUTSIDER):
        with pytest.raises(CallFailed) as denied:
            world.client(caller).call(MEF, ASSIGN, Assign(registration_number=number, service="rh"))
        assert denied.value.code is FaultCode.ACCESS_DENIED
    with pytest.raises(CallFailed) as denied:
        world.client(PORTAL).call(MEF, REGISTER, RegisterQuery(direction=Direction.INCOMING))
    assert denied.value.code is FaultCode.ACCESS_DENIED
    with pytest.raises(CallFailed) as denied:
        world.client(OUTSIDER).call(MEF, SHOW, Show(registration_number=number))
    assert denied.value.code is FaultCode.ACCESS_DENIED
    assert world.desk(MEF, Show(registration_number=number)).status is Status.REGISTERED


def test_a_deposit_in_another_administrations_name_is_refused(world):
    forged = letter(sender=Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="CNSS"))
    with pytest.raises(CallFailed) as refused:
        world.client(PORTAL).call(MEF, DEPOSIT, forged)
    assert refused.value.service_code == "MailOffice.InvalidSender"
    assert world.desk(MEF, RegisterQuery(direction=Direction.INCOMING)).total == 0
