"""The provider's side: report each access to personal data to the tracker, from a transactional outbox.

A handler of a service the catalogue marks personal calls ``reporter.report(ctx)``: the report is
written to the provider's outbox in its own transaction and the handler returns at once; a pump sends
the outbox to the tracker over the bus, retrying with backoff, so no report is lost (a report whose
send failed waits for the next round) and none delays the answer. The tracker keeps a repeat once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sdk import App, Context, Environment, Outbox, OutboxMessage, OutboxPump, Resource, Store
from sdk.outbox import OUTBOX_SCHEMA
from sdk.store import SchemaHistory, scalar
from teleservices.access_tracker.contract import REPORT_ACCESS, AccessReport, Recorded
from teleservices.access_tracker.tracker import PARTICIPANT as TRACKER

PUMP_NAME = "access-reports"
KIND = "access.report"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class ReportOutbox(Store):
    """The provider's outbox of access reports (its own file beside its other stores)."""

    FILE_NAME = "access_reports.sqlite"
    MIGRATIONS = SchemaHistory("access reports outbox", MIGRATIONS_DIR / "access_reports")
    SCHEMA_VERSION = "0001"
    SCHEMA = OUTBOX_SCHEMA


class AccessReporter:
    """Queues access reports and wakes the pump that sends them."""

    def __init__(self, store: ReportOutbox, pump: OutboxPump[OutboxMessage], tracker: str) -> None:
        self.store = store
        self.outbox = Outbox(store.database)
        self.pump = pump
        self.tracker = tracker

    def report(self, ctx: Context) -> None:
        """Queue the report of the access ``ctx`` is handling (its header declares purpose and subject)."""
        if ctx.data_subject is None or ctx.purpose is None or ctx.digest is None:
            raise ValueError("only a declared access to personal data is reported")
        report = AccessReport(
            subject=ctx.data_subject,
            client=str(ctx.client),
            provider=str(ctx.participant),
            service=str(ctx.service),
            purpose=ctx.purpose,
            message_id=ctx.message_id,
            request_hash=ctx.digest,
            accessed=datetime.now(UTC),
        )
        with self.store.transaction() as db:
            if scalar(db, "SELECT 1 FROM outbox WHERE message_id = ?", (ctx.message_id,)) is None:
                Outbox.enqueue(  # a redelivered request is reported once
                    db, message_id=ctx.message_id, recipient=self.tracker, kind=KIND, body=_xml_bytes(report)
                )
        self.pump.wake()

    def pending(self) -> int:
        return self.outbox.size()


def access_reporting(app: App, *, tracker: str = TRACKER, interval: float = 2.0) -> Resource[AccessReporter]:
    """Declare the reporter resource on ``app``: its outbox store and the pump sending it to ``tracker``."""

    def setup(env: Environment) -> Iterator[AccessReporter]:
        client = env.client()

        def send(message: OutboxMessage) -> Recorded:
            report = AccessReport.from_xml(message.body)
            return client.call(tracker, REPORT_ACCESS, report, purpose="access accountability", timeout=10)

        with ReportOutbox.open(env.data_dir) as store:
            pump: OutboxPump[OutboxMessage] = OutboxPump(
                PUMP_NAME, Outbox(store.database), send, interval=interval, max_backoff=60.0
            )
            reporter = AccessReporter(store, pump, tracker)
            pump.start()
            pump.wake()
            try:
                yield reporter
            finally:
                pump.stop()

    setup.__qualname__ = f"access_reporting[{app.participant}]"
    return app.resource(setup)


def _xml_bytes(report: AccessReport) -> bytes:
    text = report.to_xml()
    return text if isinstance(text, bytes) else text.encode()
