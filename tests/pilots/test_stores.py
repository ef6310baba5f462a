"""The pilots' stores on their own: what a death notice, a repeat and a cancellation do to a fund's register,
the commune's bookkeeping of receipts, and the CNSS's standing rules; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from sdk import ServiceError
from teleservices.cnss_attestation import Standing
from teleservices.cnss_attestation.employers import ATLAS, RIF, SOUSS, UNKNOWN_ICE, EmployerRegister, last_due
from teleservices.death_notice import (
    RABAT,
    Act,
    Answer,
    CancellationOutcome,
    CivilRegister,
    DeathNotice,
    DeathNoticeCancellation,
    Deceased,
    DeclaringAuthority,
    NoticeOutcome,
    PensionRegister,
)
from teleservices.death_notice.pensions import first_of_next_month, same_name
from teleservices.death_notice.population import BENJELLOUN, BERRADA, EL_AMRANI, FUNDS, pensions, residents

NOTIFIER = RABAT.participant
REGISTRY = RABAT.registry
DIED = date(2026, 3, 14)


def notice(person=EL_AMRANI, act: str = "41/2026", last_name: str | None = None) -> DeathNotice:
    return DeathNotice(
        deceased=Deceased(
            cin=person.cin, last_name=last_name or person.last_name, first_name=person.first_name
        ),
        date_of_death=DIED,
        place_of_death="Rabat",
        act=Act(number=act, registry=REGISTRY),
        declared_by=DeclaringAuthority(kind="commune", name="Rabat"),
    )


def cancellation(person=EL_AMRANI, act: str = "41/2026") -> DeathNoticeCancellation:
    return DeathNoticeCancellation(act=Act(number=act, registry=REGISTRY), cin=person.cin, reason="error")


@pytest.fixture
def cnss_pensions(storage):
    with PensionRegister.open(storage) as register:
        register.seed("CNSS")
        yield register


def test_seeding_is_deterministic_and_done_once(tmp_path):
    with PensionRegister.open(tmp_path / "a") as a, PensionRegister.open(tmp_path / "b") as b:
        assert a.seed("CMR") == b.seed("CMR") == len(pensions("CMR")) > 50
        assert a.seed("CMR") == 0
    assert len({p.cin for p in residents()}) == len(residents())
    assert all(len(pensions(fund)) > 0 for fund in FUNDS)


def test_a_notice_suspends_from_the_first_of_the_next_month(cnss_pensions):
    receipt = cnss_pensions.record_death(NOTIFIER, notice())
    assert receipt.outcome is NoticeOutcome.SUSPENDED
    assert receipt.suspended_from == date(2026, 4, 1)
    assert cnss_pensions.pensioner(EL_AMRANI.cin).status == "suspended"
    assert first_of_next_month(date(2026, 12, 31)) == date(2027, 1, 1)


def test_the_same_act_again_is_already_recorded_and_changes_nothing(cnss_pensions):
    first = cnss_pensions.record_death(NOTIFIER, notice())
    again = cnss_pensions.record_death(NOTIFIER, notice())
    assert again.outcome is NoticeOutcome.ALREADY_RECORDED
    assert (again.pension_number, again.suspended_from) == (first.pension_number, first.suspended_from)


def test_another_act_for_an_already_suspended_pension_is_already_recorded(cnss_pensions):
    first = cnss_pensions.record_death(NOTIFIER, notice(act="41/2026"))
    other = cnss_pensions.record_death("MA/COM/SALE/etat-civil", notice(act="7/2026"))
    assert other.outcome is NoticeOutcome.ALREADY_RECORDED
    assert other.suspended_from == first.suspended_from


def test_a_non_pensioner_is_not_a_pensioner_every_time(cnss_pensions):
    assert cnss_pensions.record_death(NOTIFIER, notice(BERRADA)).outcome is NoticeOutcome.NOT_A_PENSIONER
    assert cnss_pensions.record_death(NOTIFIER, notice(BERRADA)).outcome is NoticeOutcome.NOT_A_PENSIONER


def test_a_cin_with_another_name_suspends_nothing(cnss_pensions):
    receipt = cnss_pensions.record_death(NOTIFIER, notice(last_name="BENNANI"))
    assert receipt.outcome is NoticeOutcome.IDENTITY_MISMATCH
    assert cnss_pensions.pensioner(EL_AMRANI.cin).status == "paid"
    assert same_name("EL AMRANI", "El-Amrani") and not same_name("EL AMRANI", "AMRANI")


def test_a_cancellation_reinstates_what_its_notice_suspended_once(cnss_pensions):
    cnss_pensions.record_death(NOTIFIER, notice())
    reinstated = cnss_pensions.cancel(NOTIFIER, cancellation())
    assert reinstated.outcome is CancellationOutcome.REINSTATED
    assert cnss_pensions.pensioner(EL_AMRANI.cin).status == "paid"
    again = cnss_pensions.cancel(NOTIFIER, cancellation())
    assert again.outcome is CancellationOutcome.ALREADY_CANCELLED
    assert again.pension_number == reinstated.pension_number
    assert cnss_pensions.record_death(NOTIFIER, notice()).outcome is NoticeOutcome.CANCELLED


def test_a_cancellation_that_overtakes_its_notice_makes_the_notice_void(cnss_pensions):
    assert cnss_pensions.cancel(NOTIFIER, cancellation()).outcome is CancellationOutcome.NOT_SUSPENDED
    assert cnss_pensions.record_death(NOTIFIER, notice()).outcome is NoticeOutcome.CANCELLED
    assert cnss_pensions.pensioner(EL_AMRANI.cin).status == "paid"


def test_a_cancellation_by_another_commune_or_for_another_cin_touches_nothing(cnss_pensions):
    cnss_pensions.record_death(NOTIFIER, notice())
    other = cnss_pensions.cancel("MA/COM/SALE/etat-civil", cancellation())
    assert other.outcome is CancellationOutcome.NOT_SUSPENDED
    assert cnss_pensions.pensioner(EL_AMRANI.cin).status == "suspended"
    with pytest.raises(ServiceError) as mismatch:
        cnss_pensions.cancel(NOTIFIER, cancellation(person=BENJELLOUN))
    assert mismatch.value.code == "DeathNotice.ActMismatch"


def test_the_civil_register_numbers_acts_and_tells_who_has_not_answered(storage):
    with CivilRegister.open(storage) as register:
        register.seed(RABAT, date(2026, 11, 21))
        deceased = Deceased(cin=EL_AMRANI.cin, last_name=EL_AMRANI.last_name, first_name=EL_AMRANI.first_name)
        act = register.declare(deceased, date_of_death=DIED, place_of_death="Rabat", today=date(2026, 11, 21))
        assert act == "41/2026"
        assert register.notice(act).act.registry == REGISTRY
        register.record_receipt("n1", Answer("MA/GOV/CMR/pensions", "not-a-pensioner"))  # before record_sent
        register.record_sent("n1", act, "notice", ["MA/GOV/CMR/pensions", "MA/GOV/RCAR/pensions"])
        assert register.unanswered(act) == ["MA/GOV/RCAR/pensions"]
        register.record_receipt("n1", Answer("MA/GOV/RCAR/pensions", "suspended", "RCAR-1", DIED))
        assert register.unanswered(act) == []
        assert register.unanswered(act, "cancellation") == []  # none sent
        assert [a.outcome for a in register.answers(act)] == ["not-a-pensioner", "suspended"]
        register.record_sent("c1", act, "cancellation", ["MA/GOV/CMR/pensions"])
        register.record_receipt("c1", Answer("MA/GOV/CMR/pensions", "not-suspended"))
        assert register.unanswered(act, "cancellation") == ["MA/GOV/RCAR/pensions"]  # has the notice


def test_the_latest_receipt_of_each_fund_wins_even_within_one_second(storage):
    with CivilRegister.open(storage) as register:
        register.seed(RABAT, date(2026, 11, 21))
        deceased = Deceased(cin=EL_AMRANI.cin, last_name=EL_AMRANI.last_name, first_name=EL_AMRANI.first_name)
        act = register.declare(deceased, date_of_death=DIED, place_of_death="Rabat", today=date(2026, 11, 21))
        outcomes = ["suspended", "already-recorded", "already-recorded", "already-recorded"]
        for n, outcome in enumerate(outcomes):
            register.record_sent(f"n{n}", act, "notice", ["MA/GOV/CMR/pensions"])
            register.record_receipt(f"n{n}", Answer("MA/GOV/CMR/pensions", outcome))
        assert [a.outcome for a in register.answers(act)] == ["already-recorded"]


def test_employer_standing_follows_declarations_and_payments(storage):
    today = date(2026, 11, 21)
    assert last_due(today) == date(2026, 10, 1) and last_due(date(2026, 11, 5)) == date(2026, 9, 1)
    with EmployerRegister.open(storage) as register:
        register.seed(today)
        assert register.standing(register.find(ice=ATLAS.ice), today) == (Standing.GOOD, None)
        standing, reason = register.standing(register.find(ice=SOUSS.ice), today)
        assert standing is Standing.NOT_GOOD and reason == "contributions unpaid for 2026-08 to 2026-10"
        standing, reason = register.standing(register.find(affiliation=RIF.affiliation), today)
        assert reason == "salary declarations missing for 2026-09 to 2026-10"
        assert register.find(ice=UNKNOWN_ICE) is None
        first = register.certificate(register.find(ice=ATLAS.ice), today)
        assert first.number == f"ATT-{today.year}-004812"
        assert register.certificate(register.find(ice=ATLAS.ice), today) == first
        assert register.certificate(register.find(ice=ATLAS.ice), date(2026, 11, 22)).number.endswith(
            "004813"
        )
