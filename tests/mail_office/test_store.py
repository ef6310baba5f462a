"""The office database on the SDK's store base: a versioned schema, created once, refused when foreign."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.store import DATABASE_FILE, SCHEMA_VERSION, OfficeStore

from .conftest import PORTAL, letter, mef_config


def test_an_office_keeps_its_letters_when_it_is_opened_again(tmp_path: Path) -> None:
    office = MailOffice.create(tmp_path, mef_config())
    number = office.deposit(letter("Demande de mutation"), channel=PORTAL).registration_number
    again = MailOffice(tmp_path)
    assert again.show(number).subject == "Demande de mutation"
    with sqlite3.connect(tmp_path / DATABASE_FILE) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_database_at_another_revision_is_refused_with_what_to_run(tmp_path: Path) -> None:
    OfficeStore.open(tmp_path)
    with sqlite3.connect(tmp_path / DATABASE_FILE) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    with pytest.raises(ConfigurationError, match=r"at schema revision 0001.*govbus storage migrate"):
        OfficeStore.open(tmp_path)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = OfficeStore.open(tmp_path)
    with pytest.raises(RuntimeError), store.write() as tx:
        assert tx.mails.next_counter("A", 2026) == 1
        raise RuntimeError("the registration failed")
    with store.write() as tx:
        assert tx.mails.next_counter("A", 2026) == 1  # the counter was rolled back: no gap
