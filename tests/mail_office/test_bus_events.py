"""Status changes reach the depositing system over the bus, without polling: at least once, in order, once each."""

from __future__ import annotations

import pytest

from sdk.testing import TestBus
from teleservices.mail_office.contract import STATUS
from teleservices.mail_office.models import Assign, Close, Reply, Validate
from teleservices.mail_office.workflow import Action, Status

from .bus_world import build_world, wait_until
from .conftest import CITIZEN, MEF, PORTAL, letter


@pytest.fixture
def portal_down(broker_url, tmp_path, clock):
    """The world with the portal's ``mail.status`` not running yet."""
    with TestBus(tmp_path / "bus", broker=broker_url) as bus:
        yield build_world(bus, clock, start_portal=False)


def _deposit(world) -> str:
    return world.call(PORTAL, MEF, letter()).registration_number


def _steps(world, number: str) -> list[tuple[int, Action, Status]]:
    return [(s.sequence, s.action, s.new_status) for s in world.portal_store().steps(MEF, number)]


def test_every_step_of_a_letter_reaches_the_system_that_deposited_it(world):
    number = _deposit(world)
    world.desk(MEF, Assign(registration_number=number, service="rh"), official="k.alami")
    world.desk(MEF, Validate(registration_number=number), official="chef.rh")
    reply = world.desk(MEF, Reply(registration_number=number, subject="Mutation accordée", body="Accordée."))
    world.desk(MEF, Close(registration_number=number))
    expected = [
        (2, Action.ASSIGN, Status.ASSIGNED),
        (3, Action.VALIDATE, Status.VALIDATED),
        (4, Action.REPLY, Status.REPLIED),
        (5, Action.CLOSE, Status.CLOSED),
    ]
    wait_until(lambda: len(_steps(world, number)) == len(expected), what="four steps at the portal")
    assert _steps(world, number) == expected
    assert world.portal_store().steps(MEF, number)[0].actor == "k.alami"
    office = world.office(MEF)
    wait_until(lambda: not office.pending(), what="an empty outbox")
    (answer,) = world.portal_store().letters(CITIZEN.identifier)  # the citizen's mailbox at the portal
    assert (answer.subject, answer.in_reply_to, answer.body) == ("Mutation accordée", number, "Accordée.")
    delivered = office.show(reply.registration_number)
    assert delivered.status is Status.DELIVERED
    assert delivered.linked_registration == "PORTAIL/R/1"  # the number in the portal's acknowledgement


def test_steps_wait_in_the_outbox_for_a_depositor_that_is_down_then_arrive_in_order(portal_down):
    world = portal_down
    number = _deposit(world)
    world.desk(MEF, Assign(registration_number=number, service="rh"))
    office = world.office(MEF)
    wait_until(lambda: any(m.last_error for m in office.pending()), what="a failed delivery attempt")
    world.desk(MEF, Validate(registration_number=number))
    assert [m.kind.value for m in office.pending()] == ["status-change", "status-change"]
    world.start_portal()
    wait_until(lambda: len(_steps(world, number)) == 2, what="both steps at the portal")
    assert _steps(world, number) == [
        (2, Action.ASSIGN, Status.ASSIGNED),
        (3, Action.VALIDATE, Status.VALIDATED),
    ]
    wait_until(lambda: not office.pending(), what="an empty outbox")


def test_a_step_delivered_again_is_acknowledged_but_applied_once(world):
    seen: list[tuple[str, int]] = []
    world.depositor.on_change = lambda office, change: seen.append((office, change.sequence))
    number = _deposit(world)
    world.desk(MEF, Assign(registration_number=number, service="rh"))
    wait_until(lambda: _steps(world, number), what="the assignment at the portal")
    (step,) = world.portal_store().steps(MEF, number)
    office_client = world.client(MEF)
    again = office_client.call(PORTAL, STATUS, step)  # a new message: what a resend after a crash is
    assert (again.registration_number, again.sequence, again.applied) == (number, 2, False)
    late = step.model_copy(update={"sequence": 1})  # older than what the portal knows
    assert office_client.call(PORTAL, STATUS, late).applied is False
    assert seen == [(MEF, 2)]
    assert world.portal_store().latest(MEF, number) == step
