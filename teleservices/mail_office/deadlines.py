"""Processing deadlines and the alerts they raise.

A mail type's deadline is a number of days counted from the local date of receipt, in one of two ways:

- ``calendar`` days: every day counts; a deadline that falls on a weekend day or a public holiday moves
  to the next working day.
- ``business`` days: only working days count (not the weekend, not public holidays); the day of receipt
  does not count.

Public holidays come from the ``holidays`` library for the office's country (Morocco by default): the
fixed-date ones and the religious ones, which follow the Hijri calendar and which the library estimates
ahead of their official announcement. An office adds its own days off (``recurring_holidays`` every
year, ``holidays`` once, for instance the announced date of an Eid).

Alerts compare a deadline with today's local date: ``approaching`` within ``alert_days`` calendar days
before it, ``due`` on the day itself, ``overdue`` after it. A letter is *late* when it is overdue.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import holidays as public_holidays


class DayCount(StrEnum):
    """How the days of a processing deadline are counted."""

    CALENDAR = "calendar"
    BUSINESS = "business"


MOROCCO = "MA"
SATURDAY_SUNDAY: frozenset[int] = frozenset({5, 6})


def supported_country(country: str) -> bool:
    """Whether the ``holidays`` library knows the public holidays of ``country`` (ISO 3166-1 alpha-2)."""
    return country in public_holidays.list_supported_countries()


@functools.cache
def public_holidays_of(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year``, as the ``holidays`` library gives them."""
    return frozenset(public_holidays.country_holidays(country, years=year))


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Which local dates are working days."""

    weekend: frozenset[int] = SATURDAY_SUNDAY  # date.weekday(): Monday is 0
    recurring_holidays: frozenset[tuple[int, int]] = frozenset()  # the office's own, (month, day) every year
    holidays: frozenset[date] = frozenset()  # one-off dates (an announced Eid, exceptional days off)
    country: str | None = MOROCCO  # whose public holidays count (None: only the office's own)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and (day.month, day.day) not in self.recurring_holidays
            and day not in self.holidays
            and (self.country is None or day not in public_holidays_of(self.country, day.year))
        )

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, otherwise the first working day after it."""
        for _ in range(366):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working day in a whole year")


def deadline(received_on: date, days: int, count: DayCount, calendar: WorkingCalendar) -> date:
    """The last local date to process a letter received on ``received_on``."""
    if days < 1:
        raise ValueError("a processing deadline is at least one day")
    if count is DayCount.CALENDAR:
        return calendar.next_working_day(received_on + timedelta(days=days))
    day = received_on
    remaining = days
    while remaining:
        day = calendar.next_working_day(day + timedelta(days=1))
        remaining -= 1
    return day


class AlertLevel(StrEnum):
    """How close a letter is to its processing deadline."""

    APPROACHING = "approaching"
    DUE = "due"
    OVERDUE = "overdue"


def alert_level(due: date, today: date, alert_days: int) -> AlertLevel | None:
    """The alert for a letter due on ``due``, seen on ``today``; None when there is nothing to say yet."""
    left = (due - today).days
    if left < 0:
        return AlertLevel.OVERDUE
    if left == 0:
        return AlertLevel.DUE
    if left <= alert_days:
        return AlertLevel.APPROACHING
    return None


@dataclass(frozen=True, slots=True)
class Alert:
    """An open incoming letter near or past its deadline. ``days_left`` is negative once overdue."""

    registration_number: str
    level: AlertLevel
    deadline: date
    days_left: int
    subject: str
    service: str | None
    agent: str | None
