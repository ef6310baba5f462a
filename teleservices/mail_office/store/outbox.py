"""Every statement on the outbox table: messages written with the change they report, marked once sent."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from datetime import datetime

from teleservices.mail_office.models import (
    Consultation,
    ConsultationOpinion,
    StatusChange,
    format_utc_millis,
)
from teleservices.mail_office.outbox import OutboxKind, OutboxMessage

MAX_ERROR = 2000
_EXCLUDED = {False: "SELECT value FROM json_each(?)", True: "SELECT json_array_elements_text(?::json)"}
"""The destinations left out, from a JSON array (SQLite, PostgreSQL)."""


class OutboxRows:
    """The ``outbox`` table, in one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def enqueue(
        self,
        kind: OutboxKind,
        *,
        destination: str,
        mail_id: int,
        at: datetime,
        payload: StatusChange | Consultation | ConsultationOpinion | None = None,
    ) -> int:
        """Add a message (inside the transaction that makes the change it reports)."""
        cursor = self._conn.execute(
            "INSERT INTO outbox (kind, destination, mail_id, payload, created_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            (kind.value, destination, mail_id, payload.to_xml() if payload else None, format_utc_millis(at)),
        )
        return int(cursor.fetchone()[0])

    def pending(self, limit: int | None = None, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        """Unsent messages, oldest first, except those to ``exclude``; a letter's payload is left out
        (``None``) until it is sent."""
        postgres = getattr(self._conn, "dialect", "sqlite") == "postgresql"
        rows = self._conn.execute(
            "SELECT o.*, m.number FROM outbox o JOIN mails m ON m.id = o.mail_id WHERE o.sent_at IS NULL "  # noqa: S608
            f"AND o.destination NOT IN ({_EXCLUDED[postgres]}) ORDER BY o.id LIMIT ?",
            (json.dumps(sorted(exclude)), (None if postgres else -1) if limit is None else limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        stamp = format_utc_millis(at)
        self._conn.execute(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_attempt_at = ?, last_error = NULL "
            "WHERE id = ?",
            (stamp, stamp, message_id),
        )

    def mark_failed(self, message_id: int, error: str, at: datetime) -> None:
        self._conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE id = ?",
            (format_utc_millis(at), error[:MAX_ERROR], message_id),
        )


_PAYLOADS: dict[OutboxKind, type[StatusChange | Consultation | ConsultationOpinion]] = {
    OutboxKind.STATUS_CHANGE: StatusChange,
    OutboxKind.CONSULTATION: Consultation,
    OutboxKind.OPINION: ConsultationOpinion,
}
"""The kinds whose payload is written with the message (a letter's deposit is built when it is sent)."""


def _message(row: sqlite3.Row) -> OutboxMessage:
    kind = OutboxKind(row["kind"])
    return OutboxMessage(
        id=row["id"],
        kind=kind,
        destination=row["destination"],
        registration_number=row["number"],
        payload=_PAYLOADS[kind].from_xml(row["payload"]) if kind in _PAYLOADS else None,
        created_at=row["created_at"],
        attempts=row["attempts"],
        last_error=row["last_error"],
    )
