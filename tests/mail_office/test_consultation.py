"""Consulting another administration over the bus: the MEF asks the CNSS, the CNSS registers the
consultation as a letter and answers it, and the opinion lands on the MEF's letter; only the office asked
may answer, an opinion delivered twice counts once, and only consultations are answered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sdk import CallFailed
from teleservices.mail_office.consultation import CONSULTATION_TYPE
from teleservices.mail_office.models import (
    AnswerConsultation,
    Assign,
    Consultation,
    ConsultationOpinion,
    PartyKind,
    RegisterQuery,
    RequestOpinion,
    Show,
)
from teleservices.mail_office.workflow import Action, Direction, Status

from .bus_world import wait_until
from .conftest import CNSS, MEF, PORTAL, letter


def asked(world, subject: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A citizen's letter at the MEF on which the CNSS is consulted: (MEF number, CNSS number)."""
    number = world.call(PORTAL, MEF, letter(subject)).registration_number
    world.desk(MEF, Assign(registration_number=number, service="rh"), official="mef.clerc")
    record = world.desk(
        MEF,
        RequestOpinion(registration_number=number, consulted=CNSS, question="Est-il affilié ?"),
        official="mef.agent (Omar Tazi)",
    )
    assert record.status is Status.AWAITING_OPINION
    query = RegisterQuery(direction=Direction.INCOMING, text=subject)
    entry = wait_until(
        lambda: next(iter(world.desk(CNSS, query).entries), None), what="the CNSS's registration"
    )
    return number, entry.registration_number


def test_the_opinion_of_the_consulted_administration_comes_back_to_the_letter(world) -> None:  # type: ignore[no-untyped-def]
    number, consultation = asked(world, "Demande de mutation (avis CNSS)")
    received = world.desk(CNSS, Show(registration_number=consultation))
    assert received.mail_type == CONSULTATION_TYPE
    assert (received.sender.kind, received.sender.identifier) == (PartyKind.ADMINISTRATION, MEF)
    assert received.linked_registration == number and "Est-il affilié ?" in (received.body or "")
    assert received.history[0].actor == MEF

    world.desk(CNSS, Assign(registration_number=consultation, service="prestations"), official="cnss.clerc")
    answered = world.desk(
        CNSS,
        AnswerConsultation(registration_number=consultation, opinion="Affilié depuis 2019."),
        official="cnss.agent (Meryem Idrissi)",
    )
    assert answered.status is Status.REPLIED
    assert answered.history[-1].action is Action.ANSWER_CONSULTATION

    def given():  # type: ignore[no-untyped-def]
        record = world.desk(MEF, Show(registration_number=number))
        return record if record.opinions[-1].given_by else None

    record = wait_until(given, what="the opinion at the MEF")
    opinion = record.opinions[-1]
    assert (opinion.consulted, opinion.opinion) == (CNSS, "Affilié depuis 2019.")
    assert opinion.given_by == f"cnss.agent (Meryem Idrissi), {CNSS}"
    assert record.status is Status.ASSIGNED  # back with its service
    assert record.history[-1].action is Action.GIVE_OPINION


def test_only_the_office_asked_may_answer_and_twice_counts_once(world) -> None:  # type: ignore[no-untyped-def]
    number = world.call(PORTAL, MEF, letter("Demande sans consultation")).registration_number
    world.desk(MEF, Assign(registration_number=number, service="rh"), official="mef.clerc")
    opinion = ConsultationOpinion(
        registration_number=number,
        opinion="Avis non sollicité",
        given_by="quelqu'un",
        given_at=datetime.now(UTC),
        consultation_number="CNSS-A-2026-99999",
    )
    with pytest.raises(CallFailed) as refused:
        world.call(CNSS, MEF, opinion)  # the CNSS was not asked about this letter
    assert refused.value.service_code == "MailOffice.NotConsulted"
    assert world.desk(MEF, Show(registration_number=number)).status is Status.ASSIGNED

    number, consultation = asked(world, "Demande avec avis en double")
    world.desk(CNSS, Assign(registration_number=consultation, service="prestations"), official="cnss.clerc")
    world.desk(
        CNSS, AnswerConsultation(registration_number=consultation, opinion="Oui."), official="cnss.agent"
    )
    wait_until(
        lambda: world.desk(MEF, Show(registration_number=number)).opinions[-1].given_by, what="the opinion"
    )
    again = ConsultationOpinion(
        registration_number=number,
        opinion="Oui.",
        given_by="cnss.agent",
        given_at=datetime.now(UTC),
        consultation_number=consultation,
    )
    receipt = world.call(CNSS, MEF, again)
    assert (receipt.registration_number, receipt.applied) == (number, False)
    assert len(world.desk(MEF, Show(registration_number=number)).opinions) == 1


def test_only_a_consultation_is_answered_and_only_once_assigned(world) -> None:  # type: ignore[no-untyped-def]
    plain = world.call(PORTAL, MEF, letter("Lettre ordinaire")).registration_number
    world.desk(MEF, Assign(registration_number=plain, service="rh"), official="mef.clerc")
    with pytest.raises(CallFailed) as refused:
        world.desk(MEF, AnswerConsultation(registration_number=plain, opinion="x"), official="mef.agent")
    assert refused.value.service_code == "MailOffice.NotAConsultation"

    _, consultation = asked(world, "Consultation pas encore affectée")
    with pytest.raises(CallFailed) as refused:
        world.desk(
            CNSS, AnswerConsultation(registration_number=consultation, opinion="x"), official="cnss.agent"
        )
    assert refused.value.service_code == "MailOffice.InvalidTransition"


def test_the_portal_may_not_consult_an_office(world) -> None:  # type: ignore[no-untyped-def]
    consultation = Consultation(
        registration_number="X/1", subject="s", question="q", requested_by="p", requested_at=datetime.now(UTC)
    )
    with pytest.raises(CallFailed) as refused:
        world.call(PORTAL, MEF, consultation)
    assert str(refused.value.code) == "Client.AccessDenied"
