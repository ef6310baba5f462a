"""A provider to copy: the CNSS answers ``cnss.attestation`` requests from its own store.

What a provider agency writes: import the published contract, keep its data in its own directory,
implement one handler. Run it with either of::

    govbus run examples.cnss_provider:app            # GOVBUS_HOME, GOVBUS_BROKER from the environment
    python examples/cnss_provider.py --home DIR --broker amqp://guest:guest@127.0.0.1:5672/

The pilot's full provider is ``teleservices.cnss_attestation:app``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from sdk import Context, Environment, Provider, ServiceError, configure_logging
from teleservices.cnss_attestation import (
    ATTESTATION,
    Attestation,
    AttestationRequest,
    Certificate,
    CompanyIdentity,
    Standing,
)

PARTICIPANT = "MA/GOV/CNSS/attestations"
VALIDITY = timedelta(days=90)
EMPLOYERS = [  # ICE, affiliation number, name, why not in good standing (None: in good standing)
    ("001525987000088", "2345671", "Atlas Travaux SARL", None),
    ("002187354000071", "4519083", "Souss Agro SA", "contributions unpaid for the last three months"),
    ("001932610000045", "3870226", "Rif Transport SARL AU", "salary declarations missing for two months"),
]

app = Provider(PARTICIPANT)


def employers(directory: Path) -> sqlite3.Connection:
    """This participant's store, in its own directory (``env.data_dir`` / ``ctx.data_dir``)."""
    db = sqlite3.connect(directory / "example_employers.sqlite", isolation_level=None, timeout=30)
    db.execute(
        "CREATE TABLE IF NOT EXISTS employers (ice TEXT PRIMARY KEY, affiliation TEXT UNIQUE, name TEXT,"
        " arrears TEXT)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS certificates (seq INTEGER PRIMARY KEY AUTOINCREMENT, ice TEXT)")
    return db


@app.on_start
def seed(env: Environment) -> None:
    """Runs once per start, before any request."""
    db = employers(env.data_dir)
    db.executemany("INSERT OR IGNORE INTO employers VALUES (?, ?, ?, ?)", EMPLOYERS)
    db.close()


@app.implement(ATTESTATION)
def attestation(request: AttestationRequest, ctx: Context) -> Attestation:
    """Business outcomes are answers, not faults; a request without a purpose is refused."""
    if not ctx.purpose:
        raise ServiceError("send the purpose of your request", code="CnssAttestation.PurposeRequired")
    db = employers(ctx.data_dir)
    try:
        row = db.execute(
            "SELECT ice, affiliation, name, arrears FROM employers WHERE ice = ? OR affiliation = ?",
            (request.ice, request.affiliation),
        ).fetchone()
        if row is None:
            return Attestation(outcome=Standing.UNKNOWN)
        ice, affiliation, name, arrears = row
        company = CompanyIdentity(name=name, ice=ice, affiliation=affiliation)
        if arrears:
            return Attestation(outcome=Standing.NOT_GOOD, company=company, reason=arrears)
        seq = db.execute("INSERT INTO certificates (ice) VALUES (?)", (ice,)).lastrowid
        today = date.today()
        certificate = Certificate(
            number=f"ATT-{today.year}-{seq:06d}", issued=today, valid_until=today + VALIDITY
        )
        return Attestation(outcome=Standing.GOOD, company=company, certificate=certificate)
    finally:
        db.close()


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
