"""Finding records: search by header fields and time, and a message's conversation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from bus.audit import store
from bus.audit.record import Record


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Criteria combined with AND; times are ``YYYY-MM-DDTHH:MM:SS.mmmZ`` text (since inclusive, until exclusive)."""

    service: str | None = None
    client: str | None = None
    since: str | None = None
    until: str | None = None
    kind: str | None = None
    outcome: str | None = None
    direction: str | None = None
    message_id: str | None = None


def first_seq_at(conn: sqlite3.Connection, moment: str) -> int | None:
    """The first record recorded at or after ``moment`` (recording times never go back, so bisect by seq)."""
    low, high = conn.execute("SELECT min(seq), max(seq) FROM records").fetchone()
    if low is None:
        return None
    found = None
    while low <= high:
        middle = (low + high) // 2
        row = conn.execute(
            "SELECT seq, recorded_at FROM records WHERE seq >= ? ORDER BY seq LIMIT 1", (middle,)
        ).fetchone()
        if row is None:
            high = middle - 1
        elif row[1] >= moment:
            found = row[0]
            high = middle - 1
        else:
            low = row[0] + 1
    return found


def search(conn: sqlite3.Connection, criteria: SearchFilter, *, limit: int | None = None) -> Iterator[Record]:
    """Matching records in sequence order, without their stored bytes."""
    clauses: list[str] = []
    params: list[object] = []
    if criteria.since is not None:
        first = first_seq_at(conn, criteria.since)
        if first is None:
            return
        clauses.append("seq >= ?")
        params.append(first)
    if criteria.until is not None:
        end = first_seq_at(conn, criteria.until)
        if end is not None:
            clauses.append("seq < ?")
            params.append(end)
    for column, value in (
        ("service", criteria.service),
        ("client", criteria.client),
        ("kind", criteria.kind),
        ("outcome", criteria.outcome),
        ("direction", criteria.direction),
        ("message_id", criteria.message_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = store.SELECT_METADATA + where + " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    cursor = conn.execute(sql, params)
    while rows := cursor.fetchmany(512):
        for row in rows:
            yield store.to_record(row)


def conversation(conn: sqlite3.Connection, message_id: str) -> list[Record]:
    """Every record of the exchange ``message_id`` belongs to: the request (or notification) and the
    responses, receipts and faults whose correlationId names it, with their stored bytes.

    Looking up a request or notification id uses the conversation index; a response, receipt or fault
    id is found by a scan of the log, then its request's conversation through the index.
    """
    found = {record.seq: record for record in _by_root(conn, message_id)}
    if not any(record.message_id == message_id for record in found.values()):
        rows = conn.execute("SELECT DISTINCT correlation_id FROM records WHERE message_id = ?", (message_id,))
        for (root,) in rows.fetchall():
            if root:
                found.update((record.seq, record) for record in _by_root(conn, root))
    return [found[seq] for seq in sorted(found)]


def _by_root(conn: sqlite3.Connection, root: str) -> list[Record]:
    rows = conn.execute(store.SELECT_RECORDS + f" WHERE {store.CONVERSATION} = ? ORDER BY seq", (root,))
    return [store.to_record(row) for row in rows.fetchall()]
