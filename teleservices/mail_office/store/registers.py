"""Every statement on the registers: filtered pages, totals per status, late letters, letters coming due.

A letter is *late* when it is incoming, not yet replied to or closed, and its deadline (a local date) is
before today's local date. Queries are assembled from constant fragments only; every value is a bound
parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from teleservices.mail_office.models import Register, RegisterEntry, RegisterQuery, StatusCount
from teleservices.mail_office.store.rows import MailRow, party
from teleservices.mail_office.workflow import DONE, Direction, Status

_OPEN = "m.status NOT IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(DONE)))
LATE = f"(m.direction = 'incoming' AND m.deadline IS NOT NULL AND m.deadline < :today AND {_OPEN})"

_SELECT = f"""
SELECT m.*, r.number AS in_reply_to_number, {LATE} AS late
FROM mails m LEFT JOIN mails r ON r.id = m.in_reply_to
"""  # noqa: S608


def _where(query: RegisterQuery, today: date) -> tuple[str, dict[str, Any]]:
    clauses = ["m.direction = :direction"]
    params: dict[str, Any] = {"direction": query.direction.value, "today": today.isoformat()}
    if query.year is not None:
        clauses.append("m.year = :year")
        params["year"] = query.year
    if query.status is not None:
        clauses.append("m.status = :status")
        params["status"] = query.status.value
    if query.correspondent is not None:
        side = "sender" if query.direction is Direction.INCOMING else "recipient"
        clauses.append(f"(casefold(m.{side}_id) = :who OR instr(casefold(m.{side}_name), :who) > 0)")
        params["who"] = query.correspondent.casefold()
    if query.text is not None:
        clauses.append("instr(casefold(m.subject), :text) > 0")
        params["text"] = query.text.casefold()
    if query.service is not None:
        clauses.append("m.service = :service")
        params["service"] = query.service
    if query.registered_from is not None:
        clauses.append("m.registered_on >= :since")
        params["since"] = query.registered_from.isoformat()
    if query.registered_to is not None:
        clauses.append("m.registered_on <= :until")
        params["until"] = query.registered_to.isoformat()
    if query.late_only:
        clauses.append(LATE)
    return " AND ".join(clauses), params


def _entry(row: sqlite3.Row) -> RegisterEntry:
    """A register line from a row of ``_SELECT``."""
    return RegisterEntry(
        registration_number=row["number"],
        status=Status(row["status"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        subject=row["subject"],
        sender=party(row, "sender"),
        recipient=party(row, "recipient"),
        mail_type=row["mail_type"],
        service=row["service"],
        agent=row["agent"],
        deadline=date.fromisoformat(row["deadline"]) if row["deadline"] else None,
        late=bool(row["late"]),
        linked_registration=row["linked_number"],
        in_reply_to=row["in_reply_to_number"],
    )


class RegisterRows:
    """The registers (the ``mails`` table seen line by line), in one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def search(self, query: RegisterQuery, today: date) -> Register:
        """One page of the register (in registration order) with the totals of everything that matches."""
        where, params = _where(query, today)
        total, late = self._conn.execute(
            f"SELECT count(*), CAST(coalesce(sum(CASE WHEN {LATE} THEN 1 ELSE 0 END), 0) AS INTEGER) "  # noqa: S608
            f"FROM mails m WHERE {where}",
            params,
        ).fetchone()
        by_status = dict(
            self._conn.execute(
                f"SELECT m.status, count(*) FROM mails m WHERE {where} GROUP BY m.status",  # noqa: S608
                params,
            ).fetchall()
        )
        rows = self._conn.execute(
            f"{_SELECT} WHERE {where} ORDER BY m.year, m.counter LIMIT :limit OFFSET :offset",
            {**params, "limit": query.limit, "offset": query.offset},
        ).fetchall()
        return Register(
            direction=query.direction,
            total=total,
            late=late,
            counts=[StatusCount(status=s, count=by_status[s.value]) for s in Status if s.value in by_status],
            entries=[_entry(row) for row in rows],
        )

    def every(self, query: RegisterQuery, today: date) -> Iterator[RegisterEntry]:
        """Every line matching ``query``, paging ignored, in registration order (read inside the transaction)."""
        where, params = _where(query, today)
        for row in self._conn.execute(f"{_SELECT} WHERE {where} ORDER BY m.year, m.counter", params):
            yield _entry(row)

    def late(self, today: date) -> list[RegisterEntry]:
        """Every late letter, the most overdue first."""
        rows = self._conn.execute(
            f"{_SELECT} WHERE {LATE} ORDER BY m.deadline, m.year, m.counter", {"today": today.isoformat()}
        ).fetchall()
        return [_entry(row) for row in rows]

    def open_due_by(self, day: date) -> list[MailRow]:
        """Incoming letters still being processed whose deadline is on or before ``day``."""
        sql = f"""SELECT m.* FROM mails m WHERE m.direction = 'incoming' AND m.deadline IS NOT NULL
            AND m.deadline <= :day AND {_OPEN} ORDER BY m.deadline, m.year, m.counter"""  # noqa: S608
        return [MailRow.of(row) for row in self._conn.execute(sql, {"day": day.isoformat()})]
