"""The letters users deposited through the portal, each with the office's signed acknowledgement.

A letter is addressed in URLs by a random ``public_id`` and is only ever read together with its
owner's account id: a letter of another account is simply not found.

Letters handed in on paper at an office's counter (``counter_letters``, written by the agents'
workspace) belong to the visitor's CIN or ICE instead: an account sees those whose identifier is its own,
beside the letters it deposited, exactly as it sees the replies addressed to that identifier.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from teleservices.mail_office import Acknowledgement, Deposit, PartyKind
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
        row["owner_id"] if "owner_id" in row.keys() else 0,  # noqa: SIM118 (`in row` looks at values)
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

    def of_owner(self, owner_id: int, identifier: str | None = None) -> list[StoredLetter]:
        """An account's letters, newest first, then those handed in at a counter under ``identifier``."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM letters WHERE owner_id = ? ORDER BY id DESC", (owner_id,)
            ).fetchall()
            counter = (
                conn.execute(
                    "SELECT * FROM counter_letters WHERE visitor_id = ? ORDER BY created_at DESC",
                    (identifier,),
                ).fetchall()
                if identifier
                else []
            )
        return [_letter(row) for row in rows] + [_letter(row) for row in counter]

    def get(self, owner_id: int, public_id: str, identifier: str | None = None) -> StoredLetter | None:
        """The letter when it belongs to ``owner_id`` (or was handed in under ``identifier``); None otherwise
        (whether or not it exists)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM letters WHERE public_id = ? AND owner_id = ?", (public_id, owner_id)
            ).fetchone()
            if row is None and identifier:
                row = conn.execute(
                    "SELECT * FROM counter_letters WHERE public_id = ? AND visitor_id = ?",
                    (public_id, identifier),
                ).fetchone()
        return _letter(row) if row else None

    def add_counter(
        self, deposit: Deposit, acknowledgement: Acknowledgement, envelope: bytes
    ) -> StoredLetter:
        """Keep a letter an office registered at its counter, with the signed envelope of its acknowledgement.

        The visitor is ``deposit.sender``; one without CIN or ICE is kept too (for the printed receipt)
        but belongs to no account, since their identifier is the office's counter reference.
        """
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO counter_letters (public_id, office, registration_number, visitor_kind, "
                "visitor_id, subject, deposit, acknowledgement, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    secrets.token_urlsafe(12),
                    acknowledgement.office,
                    acknowledgement.registration_number,
                    deposit.sender.kind.value,
                    deposit.sender.identifier if deposit.sender.kind is not PartyKind.VISITOR else "",
                    deposit.subject,
                    deposit.to_xml(),
                    envelope,
                    datetime.now(UTC).isoformat(),
                ),
            )
            row = conn.execute(
                "SELECT * FROM counter_letters WHERE office = ? AND registration_number = ?",
                (acknowledgement.office, acknowledgement.registration_number),
            ).fetchone()
        return _letter(row)

    def counter_letter(self, office: str, public_id: str) -> StoredLetter | None:
        """A counter letter of ``office`` (for its clerks' printable receipt); None for another office's."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM counter_letters WHERE public_id = ? AND office = ?", (public_id, office)
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
