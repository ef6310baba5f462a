"""The letters users deposited through the portal, each with the office's signed acknowledgement.

A letter is addressed in URLs by a random ``public_id`` and is only ever read together with its
owner's account id: a letter of another account is simply not found.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from teleservices.mail_office import Acknowledgement, Deposit
from web.db import Database
from web.verification import payload_bytes


@dataclass(frozen=True, slots=True)
class StoredLetter:
    public_id: str
    owner_id: int
    office: str
    registration_number: str
    subject: str
    deposit: Deposit
    acknowledgement_xml: bytes
    """The office's signed response envelope carrying the ``Acknowledgement``, byte for byte."""
    acknowledgement: Acknowledgement


def _letter(row: sqlite3.Row, acknowledgement: Acknowledgement | None = None) -> StoredLetter:
    raw = bytes(row["acknowledgement"])
    return StoredLetter(
        row["public_id"],
        row["owner_id"],
        row["office"],
        row["registration_number"],
        row["subject"],
        Deposit.from_xml(bytes(row["deposit"])),
        raw,
        acknowledgement or _acknowledgement_of(raw),
    )


def _acknowledgement_of(envelope: bytes) -> Acknowledgement:
    """The Acknowledgement inside a stored (already verified) response envelope."""
    return Acknowledgement.from_xml(payload_bytes(envelope))


class Letters:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, owner_id: int, deposit: Deposit, acknowledgement: Acknowledgement, envelope: bytes
    ) -> StoredLetter:
        """Keep a deposited letter; the same acknowledgement twice (a retried deposit) keeps the first."""
        public_id = secrets.token_urlsafe(12)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO letters (public_id, owner_id, office, registration_number, subject, "
                "deposit, acknowledgement, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    public_id,
                    owner_id,
                    acknowledgement.office,
                    acknowledgement.registration_number,
                    deposit.subject,
                    deposit.to_xml(),
                    envelope,
                    datetime.now(UTC).isoformat(),
                ),
            )
            row = conn.execute(
                "SELECT * FROM letters WHERE office = ? AND registration_number = ?",
                (acknowledgement.office, acknowledgement.registration_number),
            ).fetchone()
        return _letter(row)

    def of_owner(self, owner_id: int) -> list[StoredLetter]:
        """An account's letters, newest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM letters WHERE owner_id = ? ORDER BY id DESC", (owner_id,)
            ).fetchall()
        return [_letter(row) for row in rows]

    def get(self, owner_id: int, public_id: str) -> StoredLetter | None:
        """The letter when it belongs to ``owner_id``; None otherwise (whether or not it exists)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM letters WHERE public_id = ? AND owner_id = ?", (public_id, owner_id)
            ).fetchone()
        return _letter(row) if row else None

    def owner_of(self, office: str, registration_number: str) -> tuple[int, str] | None:
        """(owner account id, public id) of the letter an office registered under this number."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT owner_id, public_id FROM letters WHERE office = ? AND registration_number = ?",
                (office, registration_number),
            ).fetchone()
        return (row["owner_id"], row["public_id"]) if row else None
