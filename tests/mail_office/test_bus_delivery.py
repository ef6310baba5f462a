"""Mail between administrations over the bus: one registration on each side, linked, with signed acknowledgements."""

from __future__ import annotations

from teleservices.mail_office.models import (
    Assign,
    Party,
    PartyKind,
    RegisterQuery,
    Reply,
    Send,
    Show,
    Validate,
)
from teleservices.mail_office.workflow import Direction, Status

from .bus_world import wait_until
from .conftest import CNSS, MEF

TO_CNSS = Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="Caisse Nationale de Sécurité Sociale")


def _register(world, office: str, direction: Direction):
    return world.desk(office, RegisterQuery(direction=direction))


def _delivered(world, office: str, number: str):
    record = world.desk(office, Show(registration_number=number))
    return record if record.status is Status.DELIVERED else None


def test_a_letter_is_registered_once_on_each_side_linked_and_answered(world):
    sent = world.desk(
        MEF,
        Send(subject="Situation des affiliés détachés", recipient=TO_CNSS, mail_type="letter", body="Merci."),
        official="k.alami",
    )
    assert (sent.registration_number, sent.status) == ("MEF/2026/D/1", Status.REGISTERED)
    delivered = wait_until(lambda: _delivered(world, MEF, sent.registration_number), what="delivery to CNSS")

    (incoming,) = _register(world, CNSS, Direction.INCOMING).entries
    assert incoming.registration_number == "CNSS-A-2026-00001"
    assert incoming.linked_registration == sent.registration_number
    assert incoming.sender.identifier == MEF
    assert delivered.linked_registration == incoming.registration_number
    assert delivered.history[-1].actor == CNSS  # recorded from CNSS's signed acknowledgement

    world.desk(CNSS, Assign(registration_number=incoming.registration_number, service="bureau-ordre"))
    wait_until(
        lambda: (
            world.desk(MEF, Show(registration_number=sent.registration_number)).linked_status
            is Status.ASSIGNED
        ),
        what="CNSS's assignment reported to MEF",
    )
    world.desk(CNSS, Validate(registration_number=incoming.registration_number))
    reply = world.desk(CNSS, Reply(registration_number=incoming.registration_number, subject="Liste jointe"))
    wait_until(lambda: _delivered(world, CNSS, reply.registration_number), what="the reply's delivery to MEF")

    (answer,) = _register(world, MEF, Direction.INCOMING).entries
    assert answer.in_reply_to == sent.registration_number  # linked to the letter it answers
    assert answer.linked_registration == reply.registration_number
    assert world.desk(CNSS, Show(registration_number=reply.registration_number)).linked_registration == (
        answer.registration_number
    )
    wait_until(
        lambda: (
            world.desk(MEF, Show(registration_number=sent.registration_number)).linked_status
            is Status.REPLIED
        ),
        what="CNSS's reply step reported to MEF",
    )
    for office in (MEF, CNSS):
        for direction in Direction:
            assert _register(world, office, direction).total == 1, (office, direction)
        wait_until(lambda office=office: not world.office(office).pending(), what=f"{office}'s empty outbox")


def test_a_letter_to_an_office_not_on_the_bus_waits_without_holding_back_the_others(world):
    nowhere = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/RCAR/bo", name="RCAR")
    stuck = world.desk(MEF, Send(subject="Convention", recipient=nowhere, mail_type="letter"))
    sent = world.desk(MEF, Send(subject="Situation", recipient=TO_CNSS, mail_type="letter"))
    wait_until(lambda: _delivered(world, MEF, sent.registration_number), what="delivery to CNSS")
    (waiting,) = world.office(MEF).pending()
    assert (waiting.registration_number, waiting.destination) == (stuck.registration_number, "MA/GOV/RCAR/bo")
    assert waiting.last_error is not None and "UnknownService" in waiting.last_error
    assert world.desk(MEF, Show(registration_number=stuck.registration_number)).status is Status.REGISTERED
