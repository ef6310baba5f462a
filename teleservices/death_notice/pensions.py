"""A pension fund's register of pensioners, and what death notices and their cancellations do to it.

A notice is known by its notifier, registry and act number: the same notice received again (the bus
redelivered it, or the commune sent it twice) changes nothing and is answered consistently with the
first answer. A cancellation reinstates only the pension that its own notice suspended.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sdk import ServiceError
from sdk.store import SchemaHistory, Store
from teleservices.death_notice.contract import (
    CancellationOutcome,
    CancellationReceipt,
    DeathNotice,
    DeathNoticeCancellation,
    DeathNoticeReceipt,
    NoticeOutcome,
)
from teleservices.death_notice.population import pensions

ACT_MISMATCH = "DeathNotice.ActMismatch"
PAID = "paid"
SUSPENDED = "suspended"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class Pensioner:
    """A row of the register."""

    cin: str
    last_name: str
    first_name: str
    pension_number: str
    status: str
    suspended_from: date | None


def same_name(a: str, b: str) -> bool:
    """Names equal up to case, accents, spaces and hyphens (``EL AMRANI`` is ``El-Amrani``)."""

    def fold(name: str) -> str:
        stripped = unicodedata.normalize("NFKD", name)
        return "".join(c for c in stripped.casefold() if c.isalpha())

    return fold(a) == fold(b)


def first_of_next_month(day: date) -> date:
    """Pensions are paid monthly: the month of death is due, the next ones are not."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class PensionRegister(Store):
    """Pensioners by CIN, and every death notice received (by notifier, registry and act number)."""

    FILE_NAME = "pensions.sqlite"
    MIGRATIONS = SchemaHistory("pension register", MIGRATIONS_DIR / "pensions")
    SCHEMA_VERSION = "0001"
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS pensioners (
            cin TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
            birth_date TEXT NOT NULL, pension_number TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'paid', suspended_from TEXT, suspended_by INTEGER);
        CREATE TABLE IF NOT EXISTS death_notices (
            id INTEGER PRIMARY KEY, notifier TEXT NOT NULL, registry TEXT NOT NULL, act TEXT NOT NULL,
            cin TEXT NOT NULL, outcome TEXT NOT NULL, pension_number TEXT, suspended_from TEXT,
            cancelled INTEGER NOT NULL DEFAULT 0, reinstated INTEGER NOT NULL DEFAULT 0,
            UNIQUE (notifier, registry, act));
    """

    def seed(self, fund: str) -> int:
        """Fill an empty register with the fund's pensioners; return how many were added."""
        with self.transaction() as db:
            if db.execute("SELECT COUNT(*) FROM pensioners").fetchone()[0]:
                return 0
            rows = [
                (
                    p.holder.cin,
                    p.holder.last_name,
                    p.holder.first_name,
                    p.holder.birth_date.isoformat(),
                    p.number,
                )
                for p in pensions(fund)
            ]
            db.executemany(
                "INSERT INTO pensioners (cin, last_name, first_name, birth_date, pension_number)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return len(rows)

    def pensioner(self, cin: str) -> Pensioner | None:
        row = self.fetchone(
            "SELECT cin, last_name, first_name, pension_number, status, suspended_from"
            " FROM pensioners WHERE cin = ?",
            (cin,),
        )
        if row is None:
            return None
        return Pensioner(*row[:5], date.fromisoformat(row[5]) if row[5] else None)

    def record_death(self, notifier: str, notice: DeathNotice) -> DeathNoticeReceipt:
        """Suspend the deceased's pension, once per notice; answer what was done."""
        key = (notifier, notice.act.registry, notice.act.number)
        with self.transaction() as db:
            known = _notice(db, *key)
            if known is not None:
                return _repeat_answer(notice.act.number, known)
            outcome, pension_number, suspended_from = self._decide(db, notice)
            (notice_id,) = db.execute(
                "INSERT INTO death_notices (notifier, registry, act, cin, outcome, pension_number, suspended_from)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (*key, notice.deceased.cin, outcome, pension_number, _text(suspended_from)),
            ).fetchone()
            if outcome is NoticeOutcome.SUSPENDED:
                db.execute(
                    "UPDATE pensioners SET status = ?, suspended_from = ?, suspended_by = ? WHERE cin = ?",
                    (SUSPENDED, _text(suspended_from), notice_id, notice.deceased.cin),
                )
        return DeathNoticeReceipt(
            act=notice.act.number,
            outcome=outcome,
            pension_number=pension_number,
            suspended_from=suspended_from,
        )

    @staticmethod
    def _decide(db: sqlite3.Connection, notice: DeathNotice) -> tuple[NoticeOutcome, str | None, date | None]:
        row = db.execute(
            "SELECT last_name, pension_number, status, suspended_from FROM pensioners WHERE cin = ?",
            (notice.deceased.cin,),
        ).fetchone()
        if row is None:
            return NoticeOutcome.NOT_A_PENSIONER, None, None
        last_name, pension_number, status, suspended_from = row
        if not same_name(last_name, notice.deceased.last_name):
            return NoticeOutcome.IDENTITY_MISMATCH, None, None
        if status == SUSPENDED:
            return NoticeOutcome.ALREADY_RECORDED, pension_number, date.fromisoformat(suspended_from)
        return NoticeOutcome.SUSPENDED, pension_number, first_of_next_month(notice.date_of_death)

    def cancel(self, notifier: str, cancellation: DeathNoticeCancellation) -> CancellationReceipt:
        """Withdraw a notice: reinstate the pension it suspended. A notice that arrives later is ignored."""
        act = cancellation.act.number
        key = (notifier, cancellation.act.registry, act)
        with self.transaction() as db:
            known = _notice(db, *key)
            if known is None:
                db.execute(
                    "INSERT INTO death_notices (notifier, registry, act, cin, outcome, cancelled)"
                    " VALUES (?, ?, ?, ?, ?, 1)",
                    (*key, cancellation.cin, NoticeOutcome.CANCELLED),
                )
                return CancellationReceipt(act=act, outcome=CancellationOutcome.NOT_SUSPENDED)
            if known.cin != cancellation.cin:
                raise ServiceError(
                    f"act {act} was notified for CIN {known.cin}, not {cancellation.cin}", code=ACT_MISMATCH
                )
            reinstated = known.pension_number if known.reinstated else None
            if known.cancelled:
                return CancellationReceipt(
                    act=act, outcome=CancellationOutcome.ALREADY_CANCELLED, pension_number=reinstated
                )
            db.execute("UPDATE death_notices SET cancelled = 1 WHERE id = ?", (known.id,))
            updated = db.execute(
                "UPDATE pensioners SET status = ?, suspended_from = NULL, suspended_by = NULL"
                " WHERE cin = ? AND status = ? AND suspended_by = ?",
                (PAID, known.cin, SUSPENDED, known.id),
            ).rowcount
            if not updated:
                return CancellationReceipt(act=act, outcome=CancellationOutcome.NOT_SUSPENDED)
            db.execute("UPDATE death_notices SET reinstated = 1 WHERE id = ?", (known.id,))
        return CancellationReceipt(
            act=act, outcome=CancellationOutcome.REINSTATED, pension_number=known.pension_number
        )


@dataclass(frozen=True, slots=True)
class _Notice:
    id: int
    cin: str
    outcome: NoticeOutcome
    pension_number: str | None
    suspended_from: date | None
    cancelled: bool
    reinstated: bool


def _notice(db: sqlite3.Connection, notifier: str, registry: str, act: str) -> _Notice | None:
    row = db.execute(
        "SELECT id, cin, outcome, pension_number, suspended_from, cancelled, reinstated FROM death_notices"
        " WHERE notifier = ? AND registry = ? AND act = ?",
        (notifier, registry, act),
    ).fetchone()
    if row is None:
        return None
    id_, cin, outcome, number, since, cancelled, reinstated = row
    return _Notice(
        id_, cin, NoticeOutcome(outcome), number, date.fromisoformat(since) if since else None,
        bool(cancelled), bool(reinstated),
    )  # fmt: skip


def _repeat_answer(act: str, known: _Notice) -> DeathNoticeReceipt:
    """The answer to a notice received again: consistent with the first one."""
    if known.cancelled:
        return DeathNoticeReceipt(act=act, outcome=NoticeOutcome.CANCELLED)
    outcome = known.outcome
    if outcome is NoticeOutcome.SUSPENDED:
        outcome = NoticeOutcome.ALREADY_RECORDED
    return DeathNoticeReceipt(
        act=act, outcome=outcome, pension_number=known.pension_number, suspended_from=known.suspended_from
    )


def _text(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
