"""The portal's database under schema versions: a new file is stamped at the head, an old one (before
agents could be disabled, before versions were kept) is refused until ``govbus web migrate`` upgrades it,
keeping its rows."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.schema_versions import SchemaVersionError
from web.accounts import Accounts
from web.app import DATABASE_FILE
from web.cli import web
from web.db import HISTORY, SCHEMA_VERSION, Database
from web.workspace.agents import Agents

GOVBUS = str(Path(sys.executable).parent / "govbus")
BASELINE = Path(__file__).parents[2] / "web" / "migrations" / "0001_baseline.py"


def baseline_script() -> str:
    spec = importlib.util.spec_from_file_location("web_migration_0001", BASELINE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.SCRIPT)


def old_database(directory: Path) -> Path:
    """A portal database as govbus wrote it before versions were kept: no disabled_at, no version table."""
    directory.mkdir(parents=True)
    path = directory / DATABASE_FILE
    with sqlite3.connect(path) as conn:
        conn.executescript(baseline_script())
        conn.execute(
            "INSERT INTO users (kind, identifier, name, email, password, created_at) "
            "VALUES ('citizen', 'AB123456', 'Amina Idrissi', 'amina@example.ma', 'hash', '2026-01-02')"
        )
        conn.execute(
            "INSERT INTO agents (login, name, administration, roles, password, created_at) "
            "VALUES ('clerk1', 'Karim Clerk', 'MA/GOV/MAIRIE/bo', 'clerk', 'hash', '2026-01-02')"
        )
    conn.close()
    return path


def test_the_newest_revision_is_the_one_a_new_database_is_created_at() -> None:
    assert HISTORY.head() == SCHEMA_VERSION


def test_a_new_database_is_created_at_the_head_and_opens_again(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    db = Database(path)
    agents = Agents(db)
    assert agents.all() == []
    db.close()
    assert HISTORY.revision(path) == SCHEMA_VERSION
    Database(path).close()  # at the head: opens
    result = CliRunner().invoke(web, ["schema", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"revision {SCHEMA_VERSION}, newest {SCHEMA_VERSION}: up to date" in result.output


def test_an_old_database_is_refused_then_migrated_with_its_rows(tmp_path: Path) -> None:
    data = tmp_path / "portal"
    path = old_database(data)

    with pytest.raises(SchemaVersionError, match=r"no schema revision.*govbus web migrate --data"):
        Database(path)
    refused = CliRunner().invoke(web, ["agent", "list", "--data", str(data)])
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert f"run `govbus web migrate --data {data}`" in refused.output

    result = CliRunner().invoke(web, ["migrate", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert f"revision unversioned -> {SCHEMA_VERSION}" in result.output
    again = CliRunner().invoke(web, ["migrate", "--data", str(data)])
    assert f"at revision {SCHEMA_VERSION}, nothing to do" in again.output

    db = Database(path)
    try:
        user = Accounts(db).by_identifier("AB123456")
        assert user is not None and user.name == "Amina Idrissi"
        agents = Agents(db)
        clerk = agents.by_login("clerk1")
        assert clerk is not None and clerk.name == "Karim Clerk" and not clerk.disabled
        agents.disable(clerk.id)
        disabled = agents.by_login("clerk1")
        assert disabled is not None and disabled.disabled
    finally:
        db.close()


def test_a_database_that_already_had_disabled_at_keeps_its_disabled_agents(tmp_path: Path) -> None:
    path = old_database(tmp_path / "portal")
    with sqlite3.connect(path) as conn:  # the workspace once added the column by hand
        conn.execute("ALTER TABLE agents ADD COLUMN disabled_at TEXT")
        conn.execute("UPDATE agents SET disabled_at = '2026-02-03T10:00:00+00:00'")
    conn.close()
    assert HISTORY.migrate(path) == (None, SCHEMA_VERSION)
    db = Database(path)
    try:
        clerk = Agents(db).by_login("clerk1")
        assert clerk is not None and clerk.disabled
    finally:
        db.close()


def test_the_web_server_refuses_an_old_database_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "portal"
    old_database(data)
    run = subprocess.run(
        [GOVBUS, "web", "--home", str(tmp_path / "bus"), "--data", str(data), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: the portal's database") and "govbus web migrate --data" in lines[0]
    with sqlite3.connect(data / DATABASE_FILE) as conn:  # refused, untouched
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(agents)")}
    conn.close()
    assert "disabled_at" not in columns
