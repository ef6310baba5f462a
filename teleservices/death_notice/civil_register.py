"""A commune's civil register of deaths, with every notice it sent and every fund's receipt.

Acts are numbered ``SEQ/YEAR`` within the registry. A notice is sent as one notification to every fund
the catalogue subscribes; the register keeps which funds were expected and which answered, so the
civil-status officer can see who has not answered yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from sdk.postgres import postgres_ddl
from sdk.store import SchemaHistory, Store
from teleservices.death_notice.contract import (
    Act,
    DeathNotice,
    DeathNoticeCancellation,
    Deceased,
    DeclaringAuthority,
)
from teleservices.fake_data import CITIES, person, rng

SEED = "civil-register-v1"
SEEDED_ACTS = 40

Kind = Literal["notice", "cancellation"]
NOTICE: Kind = "notice"
CANCELLATION: Kind = "cancellation"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class Office:
    """A civil-status office on the bus: its participant, its commune or province, its registry."""

    participant: str
    kind: Literal["commune", "province"]
    name: str
    registry: str


@dataclass(frozen=True, slots=True)
class Answer:
    """One fund's latest receipt about an act: an outcome, or the fault it refused with."""

    fund: str
    outcome: str
    pension_number: str | None = None
    effective: date | None = None
    fault: str | None = None


class UnknownAct(LookupError):
    """No act with this number in the register."""


_ARRIVAL = {"sqlite": "rowid", "postgresql": "arrival"}
"""The column that orders receipts by arrival, in each database."""


class CivilRegister(Store):
    """Deaths by act number, notifications sent about them, and the receipts that came back."""

    FILE_NAME = "civil_register.sqlite"
    MIGRATIONS = SchemaHistory("civil register", MIGRATIONS_DIR / "civil_register")
    SCHEMA_VERSION = "0001"
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS office (
            participant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, registry TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS deaths (
            act TEXT PRIMARY KEY, year INTEGER NOT NULL, seq INTEGER NOT NULL, cin TEXT NOT NULL,
            last_name TEXT NOT NULL, first_name TEXT NOT NULL, birth_date TEXT, date_of_death TEXT NOT NULL,
            place_of_death TEXT NOT NULL, registered_on TEXT NOT NULL, cancelled_reason TEXT,
            UNIQUE (year, seq));
        CREATE TABLE IF NOT EXISTS notifications (
            id TEXT PRIMARY KEY, act TEXT NOT NULL REFERENCES deaths (act), kind TEXT NOT NULL,
            expected TEXT NOT NULL, sent_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS receipts (
            notification_id TEXT NOT NULL, fund TEXT NOT NULL, outcome TEXT NOT NULL, pension_number TEXT,
            effective TEXT, fault TEXT, received_at TEXT NOT NULL, PRIMARY KEY (notification_id, fund));
    """
    # PostgreSQL has no rowid: receipts there carry an identity column, their arrival order.
    POSTGRES_SCHEMA = postgres_ddl(SCHEMA).replace(
        "received_at TEXT NOT NULL,",
        "received_at TEXT NOT NULL, arrival BIGINT GENERATED ALWAYS AS IDENTITY,",
    )

    def seed(self, office: Office, today: date) -> int:
        """Set the office and register this year's earlier deaths on first use; return acts added."""
        with self.transaction() as db:
            if db.execute("SELECT COUNT(*) FROM office").fetchone()[0]:
                return 0
            db.execute(
                "INSERT INTO office VALUES (?, ?, ?, ?)",
                (office.participant, office.kind, office.name, office.registry),
            )
            r = rng(f"{SEED}-{office.participant}")
            start = date(today.year, 1, 1)
            span = max(1, (today - start).days)
            days = sorted(r.randrange(span) for _ in range(SEEDED_ACTS))
            for seq, offset in enumerate(days, start=1):
                dead = person(r)
                died = date.fromordinal(start.toordinal() + offset)
                db.execute(
                    "INSERT INTO deaths VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    (f"{seq}/{today.year}", today.year, seq, dead.cin, dead.last_name, dead.first_name,
                     dead.birth_date.isoformat(), died.isoformat(), r.choice((office.name, *CITIES[:3])),
                     died.isoformat()),
                )  # fmt: skip
            return SEEDED_ACTS

    def office(self) -> Office:
        row = self.fetchone("SELECT participant, kind, name, registry FROM office")
        if row is None:
            raise LookupError("the civil register has no office yet: start the commune app once")
        return Office(*row)

    def declare(self, deceased: Deceased, *, date_of_death: date, place_of_death: str, today: date) -> str:
        """Register a death; return its act number."""
        with self.transaction() as db:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM deaths WHERE year = ?", (today.year,)
            ).fetchone()
            act = f"{last + 1}/{today.year}"
            db.execute(
                "INSERT INTO deaths VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (act, today.year, last + 1, deceased.cin, deceased.last_name, deceased.first_name,
                 deceased.birth_date.isoformat() if deceased.birth_date else None, date_of_death.isoformat(),
                 place_of_death, today.isoformat()),
            )  # fmt: skip
        return act

    def notice(self, act: str) -> DeathNotice:
        """The death notice of ``act``, as the funds receive it."""
        row = self.fetchone(
            "SELECT cin, last_name, first_name, birth_date, date_of_death, place_of_death FROM deaths WHERE act = ?",
            (act,),
        )
        if row is None:
            raise UnknownAct(act)
        cin, last_name, first_name, birth_date, died, place = row
        office = self.office()
        return DeathNotice(
            deceased=Deceased(
                cin=cin,
                last_name=last_name,
                first_name=first_name,
                birth_date=date.fromisoformat(birth_date) if birth_date else None,
            ),
            date_of_death=date.fromisoformat(died),
            place_of_death=place,
            act=Act(number=act, registry=office.registry),
            declared_by=DeclaringAuthority(kind=office.kind, name=office.name),
        )

    def cancel(self, act: str, reason: str) -> DeathNoticeCancellation:
        """Mark ``act`` as declared in error; return the cancellation to send to the funds."""
        notice = self.notice(act)
        with self.transaction() as db:
            db.execute("UPDATE deaths SET cancelled_reason = ? WHERE act = ?", (reason, act))
        return DeathNoticeCancellation(act=notice.act, cin=notice.deceased.cin, reason=reason)

    def record_sent(self, notification_id: str, act: str, kind: Kind, expected: list[str]) -> None:
        """Remember a notification sent about ``act`` and the funds expected to answer it."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (notification_id, act, kind, " ".join(sorted(expected)), _now()),
            )

    def record_receipt(self, notification_id: str, answer: Answer) -> None:
        """Keep a fund's receipt (the first one per notification and fund; repeats change nothing)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO receipts (notification_id, fund, outcome, pension_number, effective, fault, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (notification_id, answer.fund, answer.outcome, answer.pension_number,
                 answer.effective.isoformat() if answer.effective else None, answer.fault, _now()),
            )  # fmt: skip

    def answers(self, act: str, kind: Kind = NOTICE) -> list[Answer]:
        """Each fund's latest receipt about ``act``, by fund."""
        rows = self.fetchall(
            "SELECT r.fund, r.outcome, r.pension_number, r.effective, r.fault FROM receipts r"  # noqa: S608
            " JOIN notifications n ON n.id = r.notification_id WHERE n.act = ? AND n.kind = ?"
            f" ORDER BY r.fund, r.{_ARRIVAL[self.database.dialect]}",
            (act, kind),
        )
        latest = {
            fund: Answer(fund, outcome, number, date.fromisoformat(day) if day else None, fault)
            for fund, outcome, number, day, fault in rows
        }
        return [latest[fund] for fund in sorted(latest)]

    def unanswered(self, act: str, kind: Kind = NOTICE) -> list[str]:
        """Funds that have not answered a notification of ``kind`` about ``act`` yet.

        For a cancellation, every fund the notice was sent to must answer, even one the cancellation
        did not reach (not subscribed to cancellations): it still has the notice.
        """
        kinds = (NOTICE, CANCELLATION) if kind == CANCELLATION else (NOTICE,)
        sent = self.fetchall("SELECT kind, expected FROM notifications WHERE act = ?", (act,))
        if not any(k == kind for k, _ in sent):
            return []
        expected: set[str] = set()
        for sent_kind, funds in sent:
            if sent_kind in kinds:
                expected.update(funds.split())
        return sorted(expected - {answer.fund for answer in self.answers(act, kind)})


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
