"""Schema versions of the message log (Alembic): a log written before versions were kept is upgraded in
place, on SQLite and PostgreSQL, keeps its records and chain, and goes on accepting records."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from bus.audit import MessageLog
from bus.audit.connection import PostgresLocation
from bus.audit.export import export_postgres_log
from bus.audit.migrate import head_revision, log_revision, migrate_log
from bus.audit.store import SCHEMA_VERSION
from bus.audit.verify import verify_log
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.sql import participant_prefix, schema_name
from sdk.postgres import drop_schemas
from sdk.storage_cli import storage
from tests.audit.builders import Exchange, record_exchange
from tests.helpers.pki import CLIENT
from tests.helpers.storage import DIALECTS, POSTGRES_URL, test_participant


@pytest.fixture(params=DIALECTS)
def where(request, tmp_path) -> Iterator[Path | PostgresLocation]:
    if request.param == "sqlite":
        yield tmp_path / "messages.sqlite"
        return
    participant = test_participant()
    yield PostgresLocation(POSTGRES_URL, schema_name(participant, "messages.sqlite"))
    drop_schemas(POSTGRES_URL, participant_prefix(participant))


def _sql(where: Path | PostgresLocation, *statements: str) -> list[tuple[object, ...]]:
    """Run statements on the log's database directly; the rows of the last one."""
    rows: list[tuple[object, ...]] = []
    if isinstance(where, PostgresLocation):
        with psycopg.connect(where.url, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{where.schema}"')
            for statement in statements:
                cursor = conn.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows
    conn = sqlite3.connect(where, isolation_level=None)
    for statement in statements:
        rows = conn.execute(statement).fetchall()
    conn.close()
    return rows


def _indexes(where: Path | PostgresLocation) -> set[str]:
    if isinstance(where, PostgresLocation):
        query = f"SELECT indexname FROM pg_indexes WHERE schemaname = '{where.schema}'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return {str(row[0]) for row in _sql(where, query)}


def _verified(where: Path | PostgresLocation, tmp_path: Path, trust) -> int:
    path = (
        export_postgres_log(where, tmp_path / "copy.sqlite") if isinstance(where, PostgresLocation) else where
    )
    report = verify_log([path], trust)
    assert report.ok, report.problems
    return report.records


def test_a_new_log_is_stamped_with_the_newest_revision(where) -> None:
    assert head_revision() == SCHEMA_VERSION
    MessageLog.open(where, participant=CLIENT, identity=None).close()
    assert log_revision(where) == SCHEMA_VERSION
    assert migrate_log(where) == (SCHEMA_VERSION, SCHEMA_VERSION)


def test_a_log_from_before_versions_is_upgraded_in_place(where, home, trust, tmp_path) -> None:
    with MessageLog.open(where, identity=home.identity(CLIENT)) as log:
        for _ in range(3):
            record_exchange(log, home, Exchange())
    # The layout written before schema versions were kept: no version table, no recorded_at index.
    _sql(where, "DROP TABLE alembic_version", "DROP INDEX records_recorded_at")
    assert log_revision(where) is None and "records_recorded_at" not in _indexes(where)

    assert migrate_log(where) == (None, SCHEMA_VERSION)
    assert log_revision(where) == SCHEMA_VERSION
    assert "records_recorded_at" in _indexes(where)
    with MessageLog.open(where, identity=home.identity(CLIENT)) as log:
        record_exchange(log, home, Exchange())
        assert log.head()[0] == 8
    assert _verified(where, tmp_path, trust) == 8


def test_govbus_storage_migrate_upgrades_a_participants_log(tmp_path) -> None:
    bus_home = BusHome.at(tmp_path / "home")
    path = bus_home.participant_dir(ParticipantId.parse(CLIENT)) / "messages.sqlite"
    MessageLog.open(path, participant=CLIENT, identity=None).close()
    _sql(path, "DROP TABLE alembic_version", "DROP INDEX records_recorded_at")
    runner = CliRunner()
    args = ["--home", str(bus_home.root), "--as", CLIENT, "--storage", "sqlite:"]
    before = runner.invoke(storage, ["status", *args], catch_exceptions=False)
    assert "revision unversioned" in before.output and "run govbus storage migrate" in before.output
    done = runner.invoke(storage, ["migrate", *args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert f"revision unversioned -> {SCHEMA_VERSION}" in done.output
    again = runner.invoke(storage, ["migrate", *args], catch_exceptions=False)
    assert "nothing to do" in again.output
