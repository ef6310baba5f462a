"""The MEF's procurement applications: ``govbus run teleservices.procurement:app`` ("tell us once").

A company applies for a tender and uploads nothing: the handler obtains the company's CNSS certificate
over the bus itself (data subject: the company's ICE; purpose: the tender), and keeps the CNSS's signed
answer envelope as evidence beside the application. When the CNSS cannot be reached the application is
kept with standing ``unavailable``; the company sees it and may apply again.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sdk import CallFailed, Client, Context, Environment, Provider, Store, inject
from sdk.contract import decode, encode
from sdk.store import SchemaHistory
from teleservices.cnss_attestation import ATTESTATION, Attestation, AttestationRequest
from teleservices.cnss_attestation import PARTICIPANT as CNSS
from teleservices.procurement.contract import (
    APPLICATIONS,
    APPLY,
    UNAVAILABLE,
    Application,
    ApplicationItem,
    ApplicationRecord,
    Applications,
    ApplicationsQuery,
)

PARTICIPANT = "MA/GOV/MEF/marches-publics"
CNSS_TIMEOUT = 5.0

app = Provider(PARTICIPANT)

_COLUMNS = (
    "reference",
    "tender",
    "ice",
    "submitted",
    "standing",
    "certificate",
    "valid_until",
    "obtained_from",
    "obtained",
    "evidence",
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class ApplicationStore(Store):
    """Applications and the signed CNSS answer kept as evidence for each."""

    FILE_NAME = "applications.sqlite"
    MIGRATIONS = SchemaHistory("procurement applications", MIGRATIONS_DIR / "applications")
    SCHEMA_VERSION = "0001"
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS applications (
        reference TEXT PRIMARY KEY,
        tender TEXT NOT NULL,
        ice TEXT NOT NULL,
        submitted TEXT NOT NULL,
        standing TEXT NOT NULL,
        certificate TEXT,
        valid_until TEXT,
        obtained_from TEXT,
        obtained TEXT,
        evidence BLOB
    );
    CREATE INDEX IF NOT EXISTS applications_by_ice ON applications (ice, submitted);
    """

    @staticmethod
    def configure(conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row

    def add(self, record: ApplicationRecord) -> ApplicationRecord:
        """Keep ``record`` with a new reference ``MEF-AO-YYYY-NNNNN``; return it with that reference."""
        with self.transaction() as db:
            count = db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
            reference = f"MEF-AO-{record.submitted:%Y}-{count + 1:05d}"
            kept = record.model_copy(update={"reference": reference})
            db.execute(
                "INSERT INTO applications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reference,
                    kept.tender,
                    kept.ice,
                    kept.submitted.isoformat(),
                    kept.standing,
                    kept.certificate,
                    kept.valid_until.isoformat() if kept.valid_until else None,
                    kept.obtained_from,
                    kept.obtained.isoformat() if kept.obtained else None,
                    kept.evidence_bytes(),
                ),
            )
        return kept

    def of_company(self, ice: str) -> list[ApplicationItem]:
        rows = self.fetchall("SELECT * FROM applications WHERE ice = ? ORDER BY submitted DESC", (ice,))
        return [
            ApplicationItem(
                **{name: row[name] for name in _COLUMNS if name != "evidence" and row[name] is not None},
                evidence=base64.b64encode(row["evidence"]).decode() if row["evidence"] else None,
            )
            for row in rows
        ]


def _store(env: Environment) -> Iterator[ApplicationStore]:
    with ApplicationStore.open(env.data_dir) as store:
        yield store


def _cnss(env: Environment) -> Iterator[Client]:
    yield env.client()


APPLICATION_STORE = app.resource(_store)
CNSS_CLIENT = app.resource(_cnss)


def obtain_certificate(client: Client, ice: str, tender: str, submitted: datetime) -> ApplicationRecord:
    """Ask the CNSS over the bus for ``ice``'s standing; the record carries its signed answer."""
    payload = encode(AttestationRequest(ice=ice), ATTESTATION.schema)
    record = ApplicationRecord(
        reference="-", tender=tender, ice=ice, submitted=submitted, standing=UNAVAILABLE
    )
    try:
        verified = client.call_raw(
            ATTESTATION.service_of(CNSS),
            payload,
            purpose=f"public procurement: application to tender {tender}",
            data_subject=f"ICE:{ice}",
            timeout=CNSS_TIMEOUT,
        )
    except CallFailed:
        return record
    answer = decode(verified.payload, Attestation, ATTESTATION.schema)
    certificate = answer.certificate
    return record.model_copy(
        update={
            "standing": str(answer.outcome),
            "certificate": certificate.number if certificate else None,
            "valid_until": certificate.valid_until if certificate else None,
            "obtained_from": str(verified.header.client),
            "obtained": verified.header.issued,
            "evidence": base64.b64encode(verified.raw).decode(),
        }
    )


@app.implement(APPLY)
def apply(
    application: Application,
    ctx: Context,
    store: ApplicationStore = inject(APPLICATION_STORE),
    cnss: Client = inject(CNSS_CLIENT),
) -> ApplicationRecord:
    """Record the application with the CNSS certificate the MEF obtained itself."""
    record = obtain_certificate(cnss, application.ice, application.tender, datetime.now(UTC))
    return store.add(record)


@app.implement(APPLICATIONS)
def applications(
    query: ApplicationsQuery, ctx: Context, store: ApplicationStore = inject(APPLICATION_STORE)
) -> Applications:
    """A company's applications, most recent first, each with its evidence."""
    return Applications(applications=store.of_company(query.ice))
