"""The message log in PostgreSQL: one hash chain with writers on several connections (hosts), verified
by ``govbus audit verify`` through its offline copy, tampering in the database found in the copy."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from bus.audit import AuditError, MessageLog
from bus.audit.connection import PostgresLocation
from bus.audit.export import export_postgres_log, postgres_location
from bus.audit.verify import verify_log
from sdk.postgres import drop_schemas
from sdk.storage import participant_prefix
from tests.audit.builders import Exchange, record_exchange, request
from tests.helpers.pki import CLIENT
from tests.helpers.storage import POSTGRES_URL


@pytest.fixture
def location(home) -> Iterator[PostgresLocation]:
    """CLIENT's log in a schema of its own (a per-test prefix), dropped afterwards."""
    participant = str(home.identity(CLIENT).participant)
    where = postgres_location(POSTGRES_URL, participant)
    unique = PostgresLocation(POSTGRES_URL, f"t{threading.get_ident() % 10**6}_{where.schema}"[:63])
    drop_schemas(POSTGRES_URL, unique.schema)
    yield unique
    drop_schemas(POSTGRES_URL, unique.schema)


def test_a_postgres_log_chains_checkpoints_and_verifies_through_its_copy(tmp_path, home, trust, location):
    with MessageLog.open(location, identity=home.identity(CLIENT), checkpoint_every=4) as log:
        for _ in range(5):
            record_exchange(log, home, Exchange())
        assert log.head()[0] == 10
    copy = export_postgres_log(location, tmp_path / "messages.sqlite")
    report = verify_log([copy], trust)
    assert report.ok, report.problems
    assert (report.records, report.envelopes_verified, report.uncovered) == (10, 10, 0)
    assert report.checkpoints_valid >= 3


def test_writers_on_two_hosts_keep_one_gap_free_chain(tmp_path, home, trust, location):
    """Two logs on their own connections (as two hosts), eight threads each: one chain, no gap, no fork."""
    signed = [request(home) for _ in range(20)]
    one = MessageLog.open(location, identity=home.identity(CLIENT), checkpoint_every=30)
    two = MessageLog.open(location, identity=home.identity(CLIENT), checkpoint_every=30)
    refs, errors = [], []

    def work(log: MessageLog, offset: int) -> None:
        try:
            for index in range(offset, 160, 8):
                head, raw = signed[index % len(signed)]
                refs.append(log.record("out", raw, header=head, outcome="sent"))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(log, n)) for log in (one, two) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    one.close()
    two.close()
    assert not errors
    assert sorted(ref.seq for ref in refs) == list(range(1, 321))
    assert len({ref.hash for ref in refs}) == 320
    report = verify_log([export_postgres_log(location, tmp_path / "messages.sqlite")], trust)
    assert report.ok, report.problems
    assert report.last_seq == 320 and report.uncovered == 0


def test_reopening_a_postgres_log_continues_its_chain(tmp_path, home, trust, location):
    with MessageLog.open(location, identity=home.identity(CLIENT)) as log:
        record_exchange(log, home, Exchange())
        first_id = log.log_id
    with MessageLog.open(location, identity=home.identity(CLIENT)) as log:
        record_exchange(log, home, Exchange())
        assert log.log_id == first_id and log.head()[0] == 4
    report = verify_log([export_postgres_log(location, tmp_path / "messages.sqlite")], trust)
    assert report.ok and report.last_seq == 4


def test_an_edit_in_the_database_shows_in_the_copy(tmp_path, home, trust, location):
    with MessageLog.open(location, identity=home.identity(CLIENT)) as log:
        for _ in range(3):
            record_exchange(log, home, Exchange())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'UPDATE "{location.schema}".records SET client = %s WHERE seq = 3', ("FORGED/X/Y",))
    report = verify_log([export_postgres_log(location, tmp_path / "messages.sqlite")], trust)
    assert not report.ok
    assert report.first_problem is not None and report.first_problem.seq == 3


def test_copying_a_log_that_is_not_there_is_a_clear_error(tmp_path, location):
    with pytest.raises(AuditError, match="no message log there"):
        export_postgres_log(location, tmp_path / "messages.sqlite")
    assert not (tmp_path / "messages.sqlite").exists()


def test_govbus_audit_verify_reads_a_postgres_log(tmp_path, home, run):
    participant = str(home.identity(CLIENT).participant)
    location = postgres_location(POSTGRES_URL, participant)
    drop_schemas(POSTGRES_URL, participant_prefix(participant))
    try:
        with MessageLog.open(location, identity=home.identity(CLIENT), checkpoint_every=2) as log:
            for _ in range(2):
                record_exchange(log, home, Exchange())
        result = run("audit", "verify", POSTGRES_URL, "--as", participant, "--home", home.home.root)
        assert result.exit_code == 0, result.output + result.stderr
        assert "4" in result.output
        missing = run("audit", "verify", POSTGRES_URL, "--home", home.home.root)
        assert missing.exit_code == 2 and "--as PARTICIPANT" in missing.stderr
        with MessageLog.open(location, participant=participant, identity=None) as unsigned:
            head, raw = request(home)
            unsigned.record("out", raw, header=head, outcome="sent")  # record 5: no checkpoint covers it
        signed = run("audit", "checkpoint", POSTGRES_URL, "--as", participant, "--home", home.home.root)
        assert signed.exit_code == 0, signed.stderr
        with MessageLog.open(location, identity=None) as log:
            latest = log.latest_checkpoint()
            assert latest is not None and latest.seq == 5  # signed in the database, not in a copy
        refused = run("audit", "archive", POSTGRES_URL, "--as", participant, "--before", "2030-01-01")
        assert refused.exit_code == 2 and "govbus audit copy" in refused.stderr
        out = tmp_path / "copy.sqlite"
        copied = run("audit", "copy", POSTGRES_URL, out, "--as", participant)
        assert copied.exit_code == 0, copied.stderr
        assert "record 5" in copied.output and out.is_file()
    finally:
        drop_schemas(POSTGRES_URL, participant_prefix(participant))


def test_a_log_whose_connection_the_server_dropped_reconnects(tmp_path, home, trust, location):
    """A PostgreSQL restart (here: the server ends the log's session) fails at most the write in flight."""
    with MessageLog.open(location, identity=home.identity(CLIENT)) as log:
        record_exchange(log, home, Exchange())
        backend = log._conn.raw.info.backend_pid
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        head, raw = request(home)
        try:
            log.record("out", raw, header=head, outcome="sent")
        except AuditError:
            log.record("out", raw, header=head, outcome="sent")  # the write in flight failed: sent again
        assert log._conn.raw.info.backend_pid != backend
        assert log.head()[0] == 3
    report = verify_log([export_postgres_log(location, tmp_path / "messages.sqlite")], trust)
    assert report.ok and report.last_seq == 3
