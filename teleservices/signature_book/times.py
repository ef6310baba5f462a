"""The book's time format: UTC with milliseconds, ``2026-11-21T10:15:30.123Z``.

History entries are hashed with their times written this way and bundles are verified years later, so
the format belongs to the book (and to ``signature_book.xsd`` (in this package)), not to the bus's envelope codec:
a change of the wire format must not change the bytes an old bundle's hash chain was computed over.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, in UTC, truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime) -> str:
    """``2026-11-21T10:15:30.123Z``: UTC with milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Inverse of ``format_timestamp`` (any ISO 8601 time with a zone is read, in UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC)


__all__ = ["format_timestamp", "parse_timestamp", "utc_now"]
