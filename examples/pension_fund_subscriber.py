"""A subscriber to copy: a pension fund suspends a pension when a commune notifies a death.

What a subscribing agency writes: one handler per notification contract, each returning the receipt
the SDK signs and sends back to the notifier. Run it with either of::

    govbus run examples.pension_fund_subscriber:app    # GOVBUS_HOME, GOVBUS_BROKER from the environment
    python examples/pension_fund_subscriber.py --home DIR --broker amqp://guest:guest@127.0.0.1:5672/

The SDK already drops a message it has handled (same id); the handlers are also idempotent per act, so
a notice sent twice suspends once. The pilot's funds (``teleservices.death_notice:cmr`` and others) also
check the name against the CIN and remember cancellations that overtake their notice.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from datetime import date
from pathlib import Path

from sdk import Context, Environment, Subscriber, configure_logging
from teleservices.death_notice import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    CancellationOutcome,
    CancellationReceipt,
    DeathNotice,
    DeathNoticeCancellation,
    DeathNoticeReceipt,
    NoticeOutcome,
)

PARTICIPANT = "MA/GOV/CIMR/pensions"
PENSIONERS = [  # CIN, last name, first name, pension number
    ("A234517", "EL AMRANI", "Mohammed", "CIMR-2324614868"),
    ("BK203947", "TAZI", "Khadija", "CIMR-1190334527"),
    ("D771205", "LAHLOU", "Abdelkader", "CIMR-3058812274"),
]

app = Subscriber(PARTICIPANT)


def register(directory: Path) -> sqlite3.Connection:
    """This participant's store, in its own directory (``env.data_dir`` / ``ctx.data_dir``)."""
    db = sqlite3.connect(directory / "example_pensioners.sqlite", isolation_level=None, timeout=30)
    db.execute(
        "CREATE TABLE IF NOT EXISTS pensioners (cin TEXT PRIMARY KEY, last_name TEXT, first_name TEXT,"
        " pension_number TEXT, suspended_from TEXT, suspended_by TEXT)"
    )
    return db


@app.on_start
def seed(env: Environment) -> None:
    db = register(env.data_dir)
    db.executemany(
        "INSERT OR IGNORE INTO pensioners (cin, last_name, first_name, pension_number) VALUES (?, ?, ?, ?)",
        PENSIONERS,
    )
    db.close()


def notice_key(notifier: object, registry: str, act: str) -> str:
    """A notice is its notifier's act: the same act received twice is the same notice."""
    return f"{notifier}|{registry}|{act}"


@app.on(DEATH_NOTICE)
def death_notice(notice: DeathNotice, ctx: Context) -> DeathNoticeReceipt:
    key = notice_key(ctx.client, notice.act.registry, notice.act.number)
    db = register(ctx.data_dir)
    try:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT pension_number, suspended_from FROM pensioners WHERE cin = ?", (notice.deceased.cin,)
        ).fetchone()
        if row is None:
            outcome, number, since = NoticeOutcome.NOT_A_PENSIONER, None, None
        elif row[1] is not None:
            outcome, number, since = NoticeOutcome.ALREADY_RECORDED, row[0], date.fromisoformat(row[1])
        else:
            died = notice.date_of_death
            since = date(died.year + died.month // 12, died.month % 12 + 1, 1)
            outcome, number = NoticeOutcome.SUSPENDED, row[0]
            db.execute(
                "UPDATE pensioners SET suspended_from = ?, suspended_by = ? WHERE cin = ?",
                (since.isoformat(), key, notice.deceased.cin),
            )
        db.execute("COMMIT")
    finally:
        db.close()
    return DeathNoticeReceipt(
        act=notice.act.number, outcome=outcome, pension_number=number, suspended_from=since
    )


@app.on(DEATH_NOTICE_CANCELLATION)
def cancellation(cancellation: DeathNoticeCancellation, ctx: Context) -> CancellationReceipt:
    key = notice_key(ctx.client, cancellation.act.registry, cancellation.act.number)
    db = register(ctx.data_dir)
    try:
        row = db.execute("SELECT pension_number FROM pensioners WHERE suspended_by = ?", (key,)).fetchone()
        db.execute(
            "UPDATE pensioners SET suspended_from = NULL, suspended_by = NULL WHERE suspended_by = ?", (key,)
        )
    finally:
        db.close()
    if row is None:
        return CancellationReceipt(act=cancellation.act.number, outcome=CancellationOutcome.NOT_SUSPENDED)
    return CancellationReceipt(
        act=cancellation.act.number, outcome=CancellationOutcome.REINSTATED, pension_number=row[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=f"Run {PARTICIPANT} until Ctrl-C.")
    parser.add_argument(
        "--home", default=os.environ.get("GOVBUS_HOME"), help="bus home (default $GOVBUS_HOME)"
    )
    parser.add_argument(
        "--broker", default=os.environ.get("GOVBUS_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--prefix", default="govbus", help="name prefix of the bus's queues")
    args = parser.parse_args()
    if not args.home:
        parser.error("give --home DIR or set GOVBUS_HOME")
    configure_logging("INFO")
    app.run(home=args.home, broker=args.broker, prefix=args.prefix)


if __name__ == "__main__":
    main()
