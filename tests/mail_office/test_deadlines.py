"""Processing deadlines (business and calendar days) and the alerts they raise, on an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from teleservices.mail_office.deadlines import (
    MOROCCO,
    SATURDAY_SUNDAY,
    AlertLevel,
    DayCount,
    WorkingCalendar,
    alert_level,
    deadline,
    public_holidays_of,
)
from teleservices.mail_office.office import MailOffice

from .conftest import FakeClock

CALENDAR = WorkingCalendar(holidays=frozenset({date(2026, 3, 20)}))
MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("received", "days", "count", "due"),
    [
        (MONDAY, 10, DayCount.CALENDAR, date(2026, 3, 12)),
        (MONDAY, 5, DayCount.CALENDAR, date(2026, 3, 9)),  # Saturday 7th -> Monday 9th
        (MONDAY, 18, DayCount.CALENDAR, date(2026, 3, 23)),  # Friday 20th is a holiday -> Monday
        (MONDAY, 1, DayCount.BUSINESS, date(2026, 3, 3)),
        (MONDAY, 5, DayCount.BUSINESS, date(2026, 3, 9)),  # the weekend does not count
        (MONDAY, 14, DayCount.BUSINESS, date(2026, 3, 23)),  # nor does the holiday
        (date(2026, 3, 7), 1, DayCount.BUSINESS, date(2026, 3, 9)),  # received on a Saturday
        (date(2026, 4, 30), 1, DayCount.BUSINESS, date(2026, 5, 4)),  # 1 May recurs every year
        (date(2026, 12, 31), 1, DayCount.CALENDAR, date(2027, 1, 4)),  # 1 January, then the weekend
    ],
)
def test_deadlines(received: date, days: int, count: DayCount, due: date) -> None:
    assert deadline(received, days, count, CALENDAR) == due


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2027, 1, 11), "Proclamation of Independence"),
        (date(2026, 7, 30), "Throne Day"),
        (date(2026, 11, 18), "Independence Day"),
        (date(2026, 3, 20), "Eid al-Fitr 2026, as the holidays library estimates it"),
        (date(2026, 5, 27), "Eid al-Adha 2026, as the holidays library estimates it"),
        (date(2027, 3, 9), "Eid al-Fitr 2027, as the holidays library estimates it"),
        (date(2027, 5, 17), "Eid al-Adha 2027 (a Monday), as the holidays library estimates it"),
    ],
)
def test_moroccan_public_holidays_come_from_the_holidays_library(day: date, what: str) -> None:
    assert day.weekday() not in SATURDAY_SUNDAY, what
    assert not WorkingCalendar().is_working_day(day), what
    assert WorkingCalendar(country=None).is_working_day(day), what
    assert day in public_holidays_of(MOROCCO, day.year), what


@pytest.mark.parametrize(
    ("received", "days", "count", "due"),
    [
        (date(2026, 3, 19), 1, DayCount.BUSINESS, date(2026, 3, 23)),  # Eid al-Fitr, then the weekend
        (date(2026, 5, 26), 1, DayCount.BUSINESS, date(2026, 5, 29)),  # Eid al-Adha: 27 and 28 May
        (date(2027, 3, 8), 1, DayCount.BUSINESS, date(2027, 3, 11)),  # Eid al-Fitr: 9 and 10 March
        (date(2027, 5, 14), 2, DayCount.CALENDAR, date(2027, 5, 18)),  # Sunday, then Eid al-Adha Monday
        (date(2026, 10, 30), 1, DayCount.CALENDAR, date(2026, 11, 2)),  # Unity Day is a Saturday
    ],
)
def test_deadlines_skip_the_islamic_holidays_of_2026_and_2027(
    received: date, days: int, count: DayCount, due: date
) -> None:
    assert deadline(received, days, count, WorkingCalendar()) == due


def test_an_office_adds_its_own_days_off() -> None:
    office = WorkingCalendar(
        recurring_holidays=frozenset({(12, 31)}), holidays=frozenset({date(2026, 3, 19)})
    )
    assert not office.is_working_day(date(2027, 12, 31))
    assert not office.is_working_day(date(2026, 3, 19))
    assert deadline(date(2026, 3, 18), 1, DayCount.BUSINESS, office) == date(2026, 3, 23)


def test_another_weekend_can_be_configured() -> None:
    friday_saturday = WorkingCalendar(weekend=frozenset({4, 5}), recurring_holidays=frozenset())
    assert deadline(MONDAY, 4, DayCount.BUSINESS, friday_saturday) == date(2026, 3, 8)  # Sunday works


@pytest.mark.parametrize(
    ("today", "level"),
    [
        (date(2026, 3, 8), None),
        (date(2026, 3, 9), AlertLevel.APPROACHING),
        (date(2026, 3, 11), AlertLevel.APPROACHING),
        (date(2026, 3, 12), AlertLevel.DUE),
        (date(2026, 3, 13), AlertLevel.OVERDUE),
    ],
)
def test_alert_levels(today: date, level: AlertLevel | None) -> None:
    assert alert_level(date(2026, 3, 12), today, 3) is level


def test_alerts_follow_the_clock(office: MailOffice, clock: FakeClock, deposited: Callable[..., str]) -> None:
    complaint = deposited("Réclamation", mail_type="complaint")  # 10 calendar days: due Thursday 12 March
    request = deposited("Demande")  # 20 business days: due 31 March
    assert office.show(complaint).deadline == date(2026, 3, 12)

    def alerts() -> list[tuple[str, AlertLevel, int]]:
        return [(a.registration_number, a.level, a.days_left) for a in office.alerts()]

    clock.set(datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert alerts() == []
    clock.set(datetime(2026, 3, 9, 8, tzinfo=UTC))
    assert alerts() == [(complaint, AlertLevel.APPROACHING, 3)]
    clock.set(datetime(2026, 3, 12, 23, 59, tzinfo=UTC))
    assert alerts() == [(complaint, AlertLevel.DUE, 0)]
    assert office.late() == []
    clock.set(datetime(2026, 3, 13, 0, 0, tzinfo=UTC))
    assert alerts() == [(complaint, AlertLevel.OVERDUE, -1)]
    assert [e.registration_number for e in office.late()] == [complaint]

    clock.set(datetime(2026, 3, 28, 9, tzinfo=UTC))  # 1 hour ahead of UTC again after Ramadan
    assert alerts() == [(complaint, AlertLevel.OVERDUE, -16), (request, AlertLevel.APPROACHING, 3)]

    office.assign(complaint, service="finances", agent="h.amrani", actor="k.alami")
    office.validate(complaint, actor="chef")
    [alert] = [a for a in office.alerts() if a.registration_number == complaint]
    assert (alert.service, alert.agent, alert.subject) == ("finances", "h.amrani", "Réclamation")
    office.reply(complaint, subject="Réponse", actor="chef")  # answered: the deadline no longer runs
    assert alerts() == [(request, AlertLevel.APPROACHING, 3)]
    assert office.late() == []


def test_alerts_can_be_computed_for_any_moment(office: MailOffice, deposited: Callable[..., str]) -> None:
    complaint = deposited("Réclamation", mail_type="complaint")
    at = datetime(2026, 3, 12, 9, tzinfo=UTC)
    assert [(a.registration_number, a.level) for a in office.alerts(at=at)] == [(complaint, AlertLevel.DUE)]
    assert office.alerts() == []  # the office clock is still on 2 March


def test_the_local_date_decides_lateness(
    office: MailOffice, clock: FakeClock, deposited: Callable[..., str]
) -> None:
    clock.set(datetime(2026, 4, 1, 9, tzinfo=UTC))
    number = deposited("Réclamation", mail_type="complaint")  # due Saturday 11th -> Monday 13 April
    assert office.show(number).deadline == date(2026, 4, 13)
    clock.set(datetime(2026, 4, 13, 22, 59, tzinfo=UTC))  # 23:59 on the 13th in Casablanca
    assert office.late() == []
    clock.set(datetime(2026, 4, 13, 23, 0, tzinfo=UTC))  # still the 13th in UTC, the 14th in Casablanca
    assert [e.registration_number for e in office.late()] == [number]
