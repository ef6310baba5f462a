"""The incoming (A) and outgoing (D) registers: search, counts per status, late letters, CSV export.

A letter is *late* when it is incoming, not yet replied to or closed, and its deadline (a local date) is
before today's local date.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import date, datetime
from typing import Any, TextIO

from teleservices.mail_office.models import (
    Party,
    PartyKind,
    Register,
    RegisterEntry,
    RegisterQuery,
    StatusCount,
)
from teleservices.mail_office.workflow import DONE, Direction, Status

_OPEN = "m.status NOT IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(DONE)))
LATE = f"(m.direction = 'incoming' AND m.deadline IS NOT NULL AND m.deadline < :today AND {_OPEN})"

# Queries are assembled from these constant fragments only; every value is a bound parameter.
_SELECT = f"""
SELECT m.*, r.number AS in_reply_to_number, {LATE} AS late
FROM mails m LEFT JOIN mails r ON r.id = m.in_reply_to
"""  # noqa: S608

CSV_COLUMNS = (
    "registration_number",
    "direction",
    "registered_at",
    "status",
    "subject",
    "mail_type",
    "sender_kind",
    "sender_identifier",
    "sender_name",
    "recipient_kind",
    "recipient_identifier",
    "recipient_name",
    "service",
    "agent",
    "deadline",
    "late",
    "linked_registration",
    "in_reply_to",
)


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


def _party(row: sqlite3.Row, side: str) -> Party:
    return Party(kind=PartyKind(row[f"{side}_kind"]), identifier=row[f"{side}_id"], name=row[f"{side}_name"])


def entry(row: sqlite3.Row) -> RegisterEntry:
    """A register line from a row of ``_SELECT``."""
    return RegisterEntry(
        registration_number=row["number"],
        status=Status(row["status"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        subject=row["subject"],
        sender=_party(row, "sender"),
        recipient=_party(row, "recipient"),
        mail_type=row["mail_type"],
        service=row["service"],
        agent=row["agent"],
        deadline=date.fromisoformat(row["deadline"]) if row["deadline"] else None,
        late=bool(row["late"]),
        linked_registration=row["linked_number"],
        in_reply_to=row["in_reply_to_number"],
    )


def search(conn: sqlite3.Connection, query: RegisterQuery, today: date) -> Register:
    """One page of the register (in registration order) with the totals of everything that matches."""
    where, params = _where(query, today)
    total, late = conn.execute(
        f"SELECT count(*), coalesce(sum({LATE}), 0) FROM mails m WHERE {where}",  # noqa: S608
        params,
    ).fetchone()
    by_status = dict(
        conn.execute(
            f"SELECT m.status, count(*) FROM mails m WHERE {where} GROUP BY m.status",  # noqa: S608
            params,
        ).fetchall()
    )
    rows = conn.execute(
        f"{_SELECT} WHERE {where} ORDER BY m.year, m.counter LIMIT :limit OFFSET :offset",
        {**params, "limit": query.limit, "offset": query.offset},
    ).fetchall()
    return Register(
        direction=query.direction,
        total=total,
        late=late,
        counts=[StatusCount(status=s, count=by_status[s.value]) for s in Status if s.value in by_status],
        entries=[entry(row) for row in rows],
    )


def late(conn: sqlite3.Connection, today: date) -> list[RegisterEntry]:
    """Every late letter, the most overdue first."""
    rows = conn.execute(
        f"{_SELECT} WHERE {LATE} ORDER BY m.deadline, m.year, m.counter", {"today": today.isoformat()}
    ).fetchall()
    return [entry(row) for row in rows]


def open_due_by(conn: sqlite3.Connection, day: date) -> list[sqlite3.Row]:
    """Incoming letters still being processed whose deadline is on or before ``day``."""
    sql = f"""SELECT m.* FROM mails m WHERE m.direction = 'incoming' AND m.deadline IS NOT NULL
        AND m.deadline <= :day AND {_OPEN} ORDER BY m.deadline, m.year, m.counter"""  # noqa: S608
    return conn.execute(sql, {"day": day.isoformat()}).fetchall()


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def export_csv(conn: sqlite3.Connection, query: RegisterQuery, today: date, out: TextIO) -> int:
    """Write every letter matching ``query`` (paging ignored) as CSV; return how many."""
    where, params = _where(query, today)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in conn.execute(f"{_SELECT} WHERE {where} ORDER BY m.year, m.counter", params):
        line = entry(row)
        writer.writerow(
            _cell(value)
            for value in (
                line.registration_number,
                row["direction"],
                row["registered_at"],
                line.status.value,
                line.subject,
                line.mail_type,
                line.sender.kind.value,
                line.sender.identifier,
                line.sender.name,
                line.recipient.kind.value,
                line.recipient.identifier,
                line.recipient.name,
                line.service,
                line.agent,
                line.deadline.isoformat() if line.deadline else None,
                "yes" if line.late else "no",
                line.linked_registration,
                line.in_reply_to,
            )
        )
        count += 1
    return count
