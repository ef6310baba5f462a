"""The participant's state store (state.sqlite, or its ``state`` schema) under schema versions, on SQLite and
PostgreSQL: a new store is stamped at its newest revision by whichever opens it first (the idempotency store
or the sent notifications); one written before versions were kept, without the ``owner`` column, is refused
until ``govbus storage migrate`` upgrades it, keeping its answered ids and notification digests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.schema_versions import SchemaVersionError, stored_revision
from bus.sql import postgres_ddl
from sdk.compose import open_idempotency
from sdk.idempotency import Claim
from sdk.receipts import SentNotifications
from sdk.state import STATE_FILE, ParticipantState
from sdk.storage import Storage
from sdk.storage_cli import storage as storage_cli
from tests.helpers.storage import DIALECTS, fresh_storage, test_participant

# state.sqlite as earlier releases wrote it, before the ``owner`` column of ``handled`` existed.
OLD_STATE = (
    "CREATE TABLE handled (id TEXT PRIMARY KEY, digest TEXT NOT NULL, state TEXT NOT NULL,"
    " response BLOB, keep_until REAL NOT NULL);\n"
    "CREATE TABLE sent_notifications (id TEXT PRIMARY KEY, digest TEXT NOT NULL,"
    " service TEXT NOT NULL, sent_at REAL NOT NULL);"
)
SERVICE = "MA/GOV/X/s/svc/v1"


@pytest.fixture(params=DIALECTS)
def home_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BusHome, Storage]]:
    """A bus home and a participant's storage in it (its directory, or its PostgreSQL schemas)."""
    home = BusHome.at(tmp_path / "home")
    participant = test_participant()
    directory = home.participant_dir(ParticipantId.parse(participant))
    with fresh_storage(request.param, directory, participant) as where:
        yield home, where


def _cli(home: BusHome, where: Storage, command: str) -> str:
    args = [command, "--home", str(home.root), "--as", where.participant, "--storage", where.url]
    result = CliRunner().invoke(storage_cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _old_state(where: Storage, *, with_owner: bool = False) -> None:
    """A state store as an earlier release left it: one answered id, one notification sent."""
    database = where.database(STATE_FILE)
    script = OLD_STATE if where.dialect == "sqlite" else postgres_ddl(OLD_STATE)
    with database.transaction() as conn:
        for statement in script.split(";\n"):
            conn.execute(statement)
        if with_owner:
            conn.execute("ALTER TABLE handled ADD COLUMN owner TEXT")
        conn.execute(
            "INSERT INTO handled (id, digest, state, response, keep_until) VALUES (?, ?, 'done', ?, ?)",
            ("m1", "d1", b"<answer/>", time.time() + 3600),
        )
        conn.execute("INSERT INTO sent_notifications VALUES ('n1', 'nd1', ?, 1.0)", (SERVICE,))


def _columns(where: Storage) -> set[str]:
    state = ParticipantState.open(where)
    if where.dialect == "sqlite":
        return {str(row[1]) for row in state.fetchall("PRAGMA table_info(handled)")}
    rows = state.fetchall(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'handled'"
    )
    return {str(row[0]) for row in rows}


def test_a_new_state_store_is_stamped_at_its_newest_revision(home_storage) -> None:
    home, where = home_storage
    handled = open_idempotency(where)
    try:
        assert handled.begin("m1", "d1", redelivered=False, keep_until=time.time() + 60).claim is Claim.NEW
        handled.finish("m1", b"<answer/>")
    finally:
        handled.close()
    sent = SentNotifications.open(where)  # the same store, already at its revision: accepted
    sent.add("n1", "nd1", SERVICE)  # type: ignore[arg-type]
    with sent.reading() as conn:
        assert stored_revision(conn, where.dialect) == "0002" == ParticipantState.MIGRATIONS.head()
    assert "owner" in _columns(where)
    output = _cli(home, where, "status")
    assert "participant state" in output and "revision 0002, newest 0002: up to date" in output


def test_an_old_state_store_without_owner_is_refused_then_migrated_keeping_its_rows(home_storage) -> None:
    home, where = home_storage
    _old_state(where)
    with pytest.raises(SchemaVersionError, match=r"participant state.*no schema revision.*storage migrate"):
        open_idempotency(where)
    with pytest.raises(SchemaVersionError, match="participant state"):
        SentNotifications.open(where)
    assert "participant state" in _cli(home, where, "status")
    assert "revision unversioned, newest 0002: run govbus storage migrate" in _cli(home, where, "status")
    done = _cli(home, where, "migrate")
    assert "participant state" in done and "revision unversioned -> 0002" in done
    assert "owner" in _columns(where)
    handled = open_idempotency(where)
    try:  # the id answered before the upgrade is still answered from the store, not handled again
        again = handled.begin("m1", "d1", redelivered=False, keep_until=time.time() + 60)
        assert (again.claim, again.response) == (Claim.DONE, b"<answer/>")
        assert handled.begin("m2", "d2", redelivered=False, keep_until=time.time() + 60).claim is Claim.NEW
    finally:
        handled.close()
    assert SentNotifications.open(where).digest("n1") == "nd1"
    assert "nothing to do" in _cli(home, where, "migrate")


def test_an_old_state_store_that_has_its_owner_column_is_adopted_as_it_is(home_storage) -> None:
    home, where = home_storage
    _old_state(where, with_owner=True)  # the column earlier releases added when they opened the store
    assert "revision unversioned -> 0002" in _cli(home, where, "migrate")
    assert "owner" in _columns(where)
    assert SentNotifications.open(where).digest("n1") == "nd1"
