"""Time as the office sees it: an injectable clock returning aware UTC datetimes (millisecond precision)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware. Tests pass a fixed or advancing clock."""


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def utc_millis(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to the millisecond precision of the contract's timestamps."""
    if moment.tzinfo is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
