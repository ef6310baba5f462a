"""Schema versions of every store (Alembic, ``bus.schema_versions``), on SQLite and PostgreSQL: a new store
is stamped at its newest revision, a store written before versions were kept is refused until
``govbus storage migrate`` upgrades it in place (its rows kept), and ``govbus storage status`` reports
each store of a participant."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.audit.anchor import _SCHEMA as ANCHOR_BASELINE
from bus.audit.anchor import AnchorStore
from bus.audit.connection import PostgresLocation
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.schema_versions import SchemaVersionError, stored_revision
from bus.sql import postgres_ddl
from sdk.storage import Storage, schema_name
from sdk.storage_cli import STORES_GROUP, known_stores, storage
from teleservices.access_tracker.store import AccessRegister
from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.store import OfficeStore
from teleservices.mail_office.store.schema import SCHEMA as OFFICE_V1
from teleservices.mail_office.store.schema import postgres_statements, statements
from teleservices.signature_book.store import BookStore
from tests.helpers.storage import DIALECTS, fresh_storage, test_participant


@pytest.fixture(params=DIALECTS)
def home_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BusHome, Storage]]:
    """A bus home and a participant's storage in it (its directory, or its PostgreSQL schemas)."""
    home = BusHome.at(tmp_path / "home")
    participant = test_participant()
    directory = home.participant_dir(ParticipantId.parse(participant))
    with fresh_storage(request.param, directory, participant) as where:
        yield home, where


def _location(where: Storage, file_name: str) -> Path | PostgresLocation:
    if where.dialect == "sqlite":
        return where.data_dir / file_name
    return PostgresLocation(where.url, schema_name(where.participant, file_name))


def _cli(home: BusHome, where: Storage, command: str) -> str:
    args = [command, "--home", str(home.root), "--as", where.participant, "--storage", where.url]
    result = CliRunner().invoke(storage, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _old_office(where: Storage) -> None:
    """A mail office as written before Alembic: schema version 1, no signature circuits, one counter."""
    database = where.database(OfficeStore.FILE_NAME)
    postgres = database.dialect == "postgresql"
    with database.transaction() as conn:
        for statement in postgres_statements(OFFICE_V1) if postgres else statements(OFFICE_V1):
            conn.execute(statement)
        conn.execute("INSERT INTO counters (register, year, last) VALUES ('A', 2026, 41)")
        if postgres:
            conn.execute("CREATE TABLE user_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO user_version (version) VALUES (1)")
        else:
            conn.execute("PRAGMA user_version = 1")


def test_every_new_store_is_stamped_at_its_newest_revision(home_storage) -> None:
    _, where = home_storage
    assert len(known_stores()) > 5  # the message log and the entry points' stores
    for point in entry_points(group=STORES_GROUP):
        kind = point.load()
        if kind is AnchorStore:
            continue  # opened on a location, not a storage: see the anchor store's test
        store = kind.open(where.data_dir, where) if kind is BookStore else kind.open(where)
        with store.reading() as conn:
            assert stored_revision(conn, where.dialect) == kind.SCHEMA_VERSION == kind.MIGRATIONS.head(), kind
        store.close()
        again = kind.open(where.data_dir, where) if kind is BookStore else kind.open(where)
        again.close()  # opened again at its revision: accepted


def test_an_old_office_is_refused_then_upgraded_in_place_keeping_its_rows(home_storage) -> None:
    home, where = home_storage
    _old_office(where)
    with pytest.raises(ConfigurationError, match=r"no schema revision.*govbus storage migrate"):
        OfficeStore.open(where)
    before = _cli(home, where, "status")
    assert (
        "mail office" in before and "revision unversioned, newest 0002: run govbus storage migrate" in before
    )
    done = _cli(home, where, "migrate")
    assert "mail office" in done and "revision unversioned -> 0002" in done
    office = OfficeStore.open(where)
    with office.write() as tx:
        assert tx.mails.next_counter("A", 2026) == 42  # the old counter carried on, no gap, no reset
    with office.reading() as conn:
        assert conn.execute("SELECT count(*) FROM signature_circuits").fetchone()[0] == 0  # revision 0002
    assert "nothing to do" in _cli(home, where, "migrate")


def test_a_store_from_before_versions_is_adopted_by_its_baseline(home_storage) -> None:
    _, where = home_storage
    database = where.database(AccessRegister.FILE_NAME, schema=AccessRegister.SCHEMA)  # the old way
    with database.transaction() as conn:
        conn.execute(
            "INSERT INTO accesses (subject, client, provider, service, purpose, message_id, request_hash,"
            " accessed) VALUES ('AB1', 'X', 'P', 'S', 'control', 'm1', 'h', '2026-01-01')"
        )
    with pytest.raises(SchemaVersionError, match="access register"):
        AccessRegister.open(where)
    before, after = AccessRegister.MIGRATIONS.migrate(_location(where, AccessRegister.FILE_NAME))
    assert (before, after) == (None, AccessRegister.SCHEMA_VERSION)
    register = AccessRegister.open(where)
    assert register.fetchone("SELECT client FROM accesses WHERE message_id = 'm1'")[0] == "X"


def test_status_reports_each_store_of_a_participant(home_storage) -> None:
    home, where = home_storage
    OfficeStore.open(where).close()
    AccessRegister.open(where).close()
    output = _cli(home, where, "status")
    assert "mail office" in output and "access register" in output
    assert output.count("up to date") == 2
    assert "signature book" not in output  # never created: nothing to report or migrate


def test_an_anchor_store_from_before_versions_is_refused_then_migrated(home_storage) -> None:
    home, where = home_storage
    location = _location(where, AnchorStore.FILE_NAME)
    database = where.database(AnchorStore.FILE_NAME)
    with database.transaction() as conn:  # the anchor store as earlier releases created it
        for statement in ANCHOR_BASELINE:
            conn.execute(postgres_ddl(statement) if where.dialect == "postgresql" else statement)
    # Opening checks the schema only; the trust store is used when a checkpoint is accepted.
    with pytest.raises(SchemaVersionError, match="anchor store"):
        AnchorStore.open(location, None)  # type: ignore[arg-type]
    assert "anchor store" in _cli(home, where, "migrate")
    AnchorStore.open(location, None).close()  # type: ignore[arg-type]
    assert "anchor store" in _cli(home, where, "status") and "up to date" in _cli(home, where, "status")
