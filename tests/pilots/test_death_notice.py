"""Death notice end to end: the commune in this process; the four pension funds in-process on memory://,
or each as its own ``govbus run`` process on RabbitMQ."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bus.ids import ParticipantId
from sdk import Client
from sdk.testing import TestBus
from teleservices.death_notice import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    PARTICIPANTS,
    RABAT,
    CancellationOutcome,
    Deceased,
    NoticeOutcome,
    PensionRegister,
    answers,
    declare_death,
    pension_fund,
    rabat,
    send_cancellation,
    send_notice,
    unanswered,
)
from teleservices.death_notice.population import BENJELLOUN, EL_AMRANI, OUHADDOU, pensions
from teleservices.fake_data import Person
from tests.conftest import RABBITMQ_URL
from tests.pilots.processes import GovbusRun, wait_until

FUNDS = sorted(PARTICIPANTS)  # CIMR, CMR, CNSS, RCAR
DIED = date.today() - timedelta(days=3)
RECEIPT_WAIT = 30.0


class Pilot:
    """The bus, the commune's client, and a way to start and stop each fund."""

    def __init__(self, bus: TestBus, logs: Path, *, processes: bool) -> None:
        self.bus = bus
        self.logs = logs
        self.processes = processes
        self.running: dict[str, object] = {}
        self.commune = Client(node=bus.start(rabat).node)

    def start(self, *funds: str) -> None:
        started = []
        for fund in funds:
            if self.processes:
                run = GovbusRun(
                    f"teleservices.death_notice:{fund.lower()}",
                    home=self.bus.root,
                    broker=RABBITMQ_URL,
                    prefix=self.bus.prefix,
                    logs=self.logs,
                )
                started.append(run)
                self.running[fund] = run
            else:
                self.running[fund] = self.bus.start(pension_fund(fund))
        for run in started:
            run.wait_started()

    def stop_all(self) -> None:
        for handle in self.running.values():
            handle.stop()  # type: ignore[attr-defined]
        self.running.clear()

    def register(self, fund: str) -> PensionRegister:
        return PensionRegister.open(self.bus.home.participant_dir(ParticipantId.parse(PARTICIPANTS[fund])))


@pytest.fixture(params=["memory", "rabbitmq"])
def pilot(request: pytest.FixtureRequest, tmp_path) -> Iterator[Pilot]:
    processes = request.param == "rabbitmq"
    if processes:
        request.applymarker(pytest.mark.rabbitmq)
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL if processes else None) as bus:
        funds = [PARTICIPANTS[fund] for fund in FUNDS]
        bus.publish(DEATH_NOTICE, provider=RABAT.participant, clients=funds)
        bus.publish(DEATH_NOTICE_CANCELLATION, provider=RABAT.participant, clients=funds)
        bus.sign_catalogue()
        pilot = Pilot(bus, tmp_path / "logs", processes=processes)
        try:
            yield pilot
        finally:
            pilot.stop_all()


def _declare(pilot: Pilot, person: Person) -> str:
    deceased = Deceased(
        cin=person.cin, last_name=person.last_name, first_name=person.first_name, birth_date=person.birth_date
    )
    return declare_death(pilot.commune, deceased, date_of_death=DIED, place_of_death="Rabat")


def _pension_number(fund: str, person: Person) -> str:
    return next(p.number for p in pensions(fund) if p.holder == person)


def _outcomes(pilot: Pilot, act: str, kind: str = "notice") -> dict[str, str]:
    return {a.fund: a.outcome for a in answers(pilot.commune, act, kind)}  # type: ignore[arg-type]


def test_a_notice_reaches_the_four_funds_and_each_signed_receipt_is_recorded(pilot):
    pilot.start(*FUNDS)
    act = _declare(pilot, EL_AMRANI)
    result = send_notice(pilot.commune, act, timeout=RECEIPT_WAIT)
    assert result.missing == []
    for receipt in result.receipts:
        assert receipt.header.client == receipt.subscriber
        assert receipt.header.correlation_id == result.notification_id
    assert _outcomes(pilot, act) == {
        PARTICIPANTS["CIMR"]: NoticeOutcome.SUSPENDED,
        PARTICIPANTS["CMR"]: NoticeOutcome.NOT_A_PENSIONER,
        PARTICIPANTS["CNSS"]: NoticeOutcome.SUSPENDED,
        PARTICIPANTS["RCAR"]: NoticeOutcome.NOT_A_PENSIONER,
    }
    recorded = {a.fund: a for a in answers(pilot.commune, act)}
    first_of_next_month = (DIED.replace(day=1) + timedelta(days=32)).replace(day=1)
    for fund in ("CNSS", "CIMR"):
        assert recorded[PARTICIPANTS[fund]].pension_number == _pension_number(fund, EL_AMRANI)
        assert recorded[PARTICIPANTS[fund]].effective == first_of_next_month
        with pilot.register(fund) as register:
            assert register.pensioner(EL_AMRANI.cin).status == "suspended"
    assert unanswered(pilot.commune, act) == []


def test_a_notice_sent_again_is_already_recorded_with_the_first_suspension(pilot):
    pilot.start(*FUNDS)
    act = _declare(pilot, EL_AMRANI)
    send_notice(pilot.commune, act, timeout=RECEIPT_WAIT)
    first = {a.fund: a for a in answers(pilot.commune, act)}
    again = send_notice(pilot.commune, act, timeout=RECEIPT_WAIT)
    assert again.missing == []
    by_fund = {str(r.subscriber): r.payload for r in again.receipts}
    for fund in ("CNSS", "CIMR"):
        receipt = by_fund[PARTICIPANTS[fund]]
        assert receipt.outcome is NoticeOutcome.ALREADY_RECORDED
        assert receipt.pension_number == first[PARTICIPANTS[fund]].pension_number
        assert receipt.suspended_from == first[PARTICIPANTS[fund]].effective
    assert by_fund[PARTICIPANTS["CMR"]].outcome is NoticeOutcome.NOT_A_PENSIONER


def test_a_fund_that_is_down_is_reported_and_answers_once_it_starts(pilot):
    pilot.start("CMR", "CNSS", "CIMR")
    act = _declare(pilot, OUHADDOU)  # RCAR and CNSS pensioner
    result = send_notice(pilot.commune, act, timeout=2)
    assert [str(p) for p in result.missing] == [PARTICIPANTS["RCAR"]]
    assert unanswered(pilot.commune, act) == [PARTICIPANTS["RCAR"]]
    assert _outcomes(pilot, act)[PARTICIPANTS["CNSS"]] == NoticeOutcome.SUSPENDED
    pilot.start("RCAR")
    wait_until(lambda: not unanswered(pilot.commune, act), deadline=60, what="the late receipt")
    late = {a.fund: a for a in answers(pilot.commune, act)}[PARTICIPANTS["RCAR"]]
    assert late.outcome == NoticeOutcome.SUSPENDED
    assert late.pension_number == _pension_number("RCAR", OUHADDOU)


def test_a_cancellation_reaches_every_fund_and_reinstates_the_suspended_pension(pilot):
    pilot.start(*FUNDS)
    act = _declare(pilot, BENJELLOUN)
    send_notice(pilot.commune, act, timeout=RECEIPT_WAIT)
    with pilot.register("CMR") as register:
        assert register.pensioner(BENJELLOUN.cin).status == "suspended"
    result = send_cancellation(pilot.commune, act, "declared in error", timeout=RECEIPT_WAIT)
    assert result.missing == []
    assert _outcomes(pilot, act, "cancellation") == {
        PARTICIPANTS["CIMR"]: CancellationOutcome.NOT_SUSPENDED,
        PARTICIPANTS["CMR"]: CancellationOutcome.REINSTATED,
        PARTICIPANTS["CNSS"]: CancellationOutcome.NOT_SUSPENDED,
        PARTICIPANTS["RCAR"]: CancellationOutcome.NOT_SUSPENDED,
    }
    assert unanswered(pilot.commune, act, "cancellation") == []
    with pilot.register("CMR") as register:
        pensioner = register.pensioner(BENJELLOUN.cin)
        assert pensioner.status == "paid" and pensioner.suspended_from is None


def test_a_cancellation_sent_while_a_fund_is_down_reaches_it_when_it_starts(pilot):
    pilot.start("CMR", "CNSS", "CIMR")
    act = _declare(pilot, OUHADDOU)
    send_notice(pilot.commune, act, timeout=2)
    result = send_cancellation(pilot.commune, act, "declared in error", timeout=RECEIPT_WAIT / 10)
    assert [str(p) for p in result.missing] == [PARTICIPANTS["RCAR"]]
    assert _outcomes(pilot, act, "cancellation")[PARTICIPANTS["CNSS"]] == CancellationOutcome.REINSTATED
    pilot.start("RCAR")
    wait_until(
        lambda: not unanswered(pilot.commune, act) and not unanswered(pilot.commune, act, "cancellation"),
        deadline=60,
        what="RCAR's receipts",
    )
    with pilot.register("RCAR") as register:
        assert register.pensioner(OUHADDOU.cin).status == "paid"


def test_funds_are_separate_participants_each_with_its_own_store(pilot):
    pilot.start(*FUNDS)
    directories = {pilot.bus.home.participant_dir(ParticipantId.parse(PARTICIPANTS[f])) for f in FUNDS}
    assert len(directories) == 4
    for fund in FUNDS:
        with pilot.register(fund) as register:
            assert register.pensioner(pensions(fund)[0].holder.cin) is not None
