"""The ``signature_circuits`` table: replies held until a signature book completes their circuit.

Added by the mail office's schema revision ``0002``. One row per held reply, keyed by its registration
number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

TABLE = """
CREATE TABLE IF NOT EXISTS signature_circuits (
    number TEXT PRIMARY KEY REFERENCES mails (number),  -- the held reply
    steps TEXT NOT NULL,             -- JSON: [{"kind", "quorum", "signatories": [...]}]
    state TEXT NOT NULL,             -- to-submit, in-circuit, signed, rejected
    book TEXT,
    folder_id TEXT UNIQUE,
    current_step INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_actor TEXT,
    on_behalf_of TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL
)
"""
COLUMNS = frozenset({"state", "book", "folder_id", "current_step", "reason", "updated_at"})


class SignatureRows:
    """The ``signature_circuits`` table, in one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def hold(self, number: str, steps: str, state: str, at: str) -> None:
        self._conn.execute(
            "INSERT INTO signature_circuits (number, steps, state, updated_at) VALUES (?, ?, ?, ?)",
            (number, steps, state, at),
        )

    def numbers_in(self, state: str, limit: int) -> list[str]:
        rows = self._conn.execute(
            "SELECT number FROM signature_circuits WHERE state = ? ORDER BY updated_at, number LIMIT ?",
            (state, limit),
        ).fetchall()
        return [row["number"] for row in rows]

    def steps(self, number: str) -> str:
        (steps,) = self._conn.execute(
            "SELECT steps FROM signature_circuits WHERE number = ?", (number,)
        ).fetchone()
        return str(steps)

    def set(self, number: str, expected: str, values: dict[str, Any]) -> None:
        """Set ``values`` (of ``COLUMNS``) on the row of ``number`` if it is still in state ``expected``."""
        if not set(values) <= COLUMNS:
            raise ValueError(f"not a signature circuit column: {sorted(set(values) - COLUMNS)}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self._conn.execute(
            f"UPDATE signature_circuits SET {assignments} WHERE number = ? AND state = ?",  # noqa: S608
            (*values.values(), number, expected),
        )

    def failed(self, number: str, error: str) -> None:
        self._conn.execute(
            "UPDATE signature_circuits SET attempts = attempts + 1, last_error = ? WHERE number = ?",
            (error, number),
        )

    def of_folder(self, folder_id: str, book: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(
            "SELECT number, state, last_seq FROM signature_circuits WHERE folder_id = ? AND book = ?",
            (folder_id, book),
        ).fetchone()
        return row

    def record_event(
        self,
        number: str,
        *,
        state: str,
        current_step: int | None,
        seq: int,
        actor: str,
        on_behalf_of: str | None,
        reason: str | None,
        at: str,
    ) -> None:
        self._conn.execute(
            "UPDATE signature_circuits SET state = ?, current_step = ?, last_seq = ?, last_actor = ?,"
            " on_behalf_of = ?, reason = COALESCE(?, reason), updated_at = ? WHERE number = ?",
            (state, current_step, seq, actor, on_behalf_of, reason, at, number),
        )

    def of_numbers(self, numbers: Sequence[str]) -> list[sqlite3.Row]:
        marks = ", ".join("?" * len(numbers))
        return self._conn.execute(
            f"SELECT * FROM signature_circuits WHERE number IN ({marks}) ORDER BY number",  # noqa: S608
            list(numbers),
        ).fetchall()
