"""Pilot 2 in the demo: Rabat notifies the four pension funds of deaths, one fund down, a cancellation."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sdk import Client, NotifyResult
from teleservices.death_notice import (
    PARTICIPANTS,
    RABAT,
    Answer,
    CancellationOutcome,
    Deceased,
    NoticeOutcome,
    answers,
    declare_death,
    send_cancellation,
    send_notice,
    unanswered,
)
from teleservices.death_notice.civil_register import Kind
from teleservices.death_notice.population import BENJELLOUN, EL_AMRANI, funds_of
from teleservices.demo.output import WIDTH, Output
from teleservices.demo.trace import Event
from teleservices.demo.world import FUND_APPS, World
from teleservices.fake_data import Person

COMMUNE = RABAT.participant
DOWN = PARTICIPANTS["RCAR"]
WAIT_FOR_RECEIPTS = 5.0
WAIT_WHILE_DOWN = 1.0
LATE_RECEIPT_DEADLINE = 30.0
CANCELLATION_REASON = "declared in error: the CIN is a living person's"


def run(world: World, out: Output) -> None:
    out.section("Pilot 2: death notice (notification, fan-out to the pension funds, signed receipts)")
    commune = world.client(COMMUNE)
    died = date.today() - timedelta(days=3)

    act = _declare(out, commune, EL_AMRANI, died)
    result = send_notice(commune, act, timeout=WAIT_FOR_RECEIPTS)
    _answers(out, commune, result, act, _expected(EL_AMRANI, first=True), trace=world.trace.take())

    out.line()
    out.line(f"The clerk sends act {act} again. A redelivered copy of a message is dropped by its id;")
    out.line("this is a new message, so each fund's register recognises the act:")
    result = send_notice(commune, act, timeout=WAIT_FOR_RECEIPTS)
    world.trace.take()
    _answers(out, commune, result, act, _expected(EL_AMRANI, first=False))

    out.line()
    world.stop(DOWN)
    out.line(f"{DOWN} is down (stopped).")
    second = _declare(out, commune, BENJELLOUN, died + timedelta(days=1))
    result = send_notice(commune, second, timeout=WAIT_WHILE_DOWN)
    world.trace.take()
    expected = _expected(BENJELLOUN, first=True)
    _answers(out, commune, result, second, {f: o for f, o in expected.items() if f != DOWN})
    waiting = unanswered(commune, second)
    out.expect(waiting == [DOWN], f"not answered after {WAIT_WHILE_DOWN:g} s: {', '.join(waiting) or 'none'}")
    out.line(f"{DOWN} starts again: the notice was waiting in its durable queue", 1)
    world.start(FUND_APPS[DOWN])
    deadline = time.monotonic() + LATE_RECEIPT_DEADLINE
    while unanswered(commune, second) and time.monotonic() < deadline:
        time.sleep(0.05)
    late = {a.fund: a for a in answers(commune, second)}.get(DOWN)
    world.trace.take()
    out.expect(
        late is not None and late.outcome == expected[DOWN] and not unanswered(commune, second),
        f"late receipt recorded: {DOWN} {late.outcome if late else 'none'}; every fund has answered",
    )

    out.line()
    out.line(f"Act {second} turns out to be wrong ({CANCELLATION_REASON}); {COMMUNE} cancels it:")
    result = send_cancellation(commune, second, CANCELLATION_REASON, timeout=WAIT_FOR_RECEIPTS)
    world.trace.take()
    reinstate = {
        fund: CancellationOutcome.REINSTATED
        if outcome is NoticeOutcome.SUSPENDED
        else CancellationOutcome.NOT_SUSPENDED
        for fund, outcome in expected.items()
    }
    _answers(out, commune, result, second, reinstate, kind="cancellation")


def _declare(out: Output, commune: Client, person: Person, died: date) -> str:
    deceased = Deceased(
        cin=person.cin, last_name=person.last_name, first_name=person.first_name, birth_date=person.birth_date
    )
    act = declare_death(commune, deceased, date_of_death=died, place_of_death=RABAT.name)
    out.line(f"{COMMUNE} registers the death of {deceased.full_name} (CIN {person.cin}) on {died}: act {act}")
    return act


def _expected(person: Person, *, first: bool) -> dict[str, str]:
    """What each fund must answer: suspended (or already recorded) where the person has a pension."""
    paid = NoticeOutcome.SUSPENDED if first else NoticeOutcome.ALREADY_RECORDED
    return {
        participant: paid if fund in funds_of(person) else NoticeOutcome.NOT_A_PENSIONER
        for fund, participant in PARTICIPANTS.items()
    }


def _answers(
    out: Output,
    commune: Client,
    result: NotifyResult,
    act: str,
    expected: dict[str, str],
    kind: Kind = "notice",
    trace: list[Event] | None = None,
) -> None:
    """Print the commune's record of each fund's answer, checked against ``expected``."""
    out.line(
        f"→ {result.service.code} {result.notification_id[:8]} to {len(result.expected)} funds;"
        f" {len(result.receipts)} signed receipts verified by {COMMUNE}:",
        1,
    )
    if trace:
        out.events(trace)
    recorded = {a.fund: a for a in answers(commune, act, kind)}
    for fund in sorted(expected):
        answer = recorded.get(fund)
        shown = _show(answer) if answer else "no answer"
        out.expect(answer is not None and answer.outcome == expected[fund], f"{fund:<{WIDTH}} {shown}")


def _show(answer: Answer) -> str:
    if answer.fault:
        return f"refused: {answer.fault}"
    details = []
    if answer.pension_number:
        details.append(f"pension {answer.pension_number}")
    if answer.effective:
        details.append(f"from {answer.effective}")
    return answer.outcome + (f" ({', '.join(details)})" if details else "")
