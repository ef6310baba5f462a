"""Retention: sealed archives stay linked to the live log, and the two verify together."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bus.audit import AuditError, MessageLog
from bus.audit.archive import archive_log
from bus.audit.verify import ProblemKind, verify_log
from bus.cli.audit import exit_code
from bus.envelope.model import parse_timestamp
from tests.audit.builders import FIELD, Exchange, connect, record_exchange, rewrite, rows, write_log
from tests.helpers.pki import CLIENT, COMMUNE


def write_in_rounds(path, home, rounds: int, per_round: int = 3) -> None:
    """Exchanges in rounds, each round recorded strictly later than the one before (rounds of 2 x per_round)."""
    with MessageLog.open(path, identity=home.identity(CLIENT), checkpoint_every=4) as log:
        for _ in range(rounds):
            time.sleep(0.003)
            for _ in range(per_round):
                record_exchange(log, home, Exchange())
            time.sleep(0.003)


def round_start(path, round_index: int, per_round: int = 3) -> str:
    seq = round_index * per_round * 2 + 1
    return connect(path).execute("SELECT recorded_at FROM records WHERE seq = ?", (seq,)).fetchone()[0]


@pytest.fixture
def live(tmp_path, home):
    path = tmp_path / "logs" / "messages.sqlite"
    write_in_rounds(path, home, rounds=3)
    return path


def test_archive_and_live_log_verify_together(live, home, trust) -> None:
    cutoff = parse_timestamp(round_start(live, 1))
    result = archive_log(live, cutoff, identity=home.identity(CLIENT), trust=trust)
    assert result is not None and (result.first_seq, result.last_seq) == (1, 6)
    assert result.path.parent == live.parent and not result.path.stat().st_mode & 0o222
    assert connect(live).execute("SELECT min(seq), count(*) FROM records").fetchone() == (7, 12)
    report = verify_log([live], trust)
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq, report.records, len(report.files)) == (1, 18, 18, 2)
    assert report.envelopes_verified == 18


def test_two_archives_chain_to_the_live_log(live, home, trust) -> None:
    for index in (1, 2):
        assert archive_log(
            live, parse_timestamp(round_start(live, index)), identity=home.identity(CLIENT), trust=trust
        )
    write_log(live, home, [Exchange()])
    report = verify_log([live], trust)
    assert report.ok, report.problems
    assert (report.last_seq, len(report.files), report.uncovered) == (20, 3, 0)
    assert (
        archive_log(live, parse_timestamp(round_start(live, 2)), identity=home.identity(CLIENT), trust=trust)
        is None
    )


def test_the_live_log_alone_verifies_and_says_what_it_skipped(live, home, trust) -> None:
    archive_log(live, parse_timestamp(round_start(live, 1)), identity=home.identity(CLIENT), trust=trust)
    report = verify_log([live], trust, include_archives=False)
    assert report.ok, report.problems
    assert report.first_seq == 7 and any("archived" in w for w in report.warnings)


def test_a_missing_archive_makes_verification_incomplete(live, home, trust) -> None:
    result = archive_log(
        live, parse_timestamp(round_start(live, 1)), identity=home.identity(CLIENT), trust=trust
    )
    moved = result.path.with_name("elsewhere.sqlite")
    result.path.rename(moved)
    report = verify_log([live], trust)
    assert report.ok and exit_code(report) == 4 and report.missing_archives
    assert exit_code(verify_log([live, moved], trust)) == 0


def test_tampering_inside_an_archive_is_detected(live, home, trust) -> None:
    result = archive_log(
        live, parse_timestamp(round_start(live, 1)), identity=home.identity(CLIENT), trust=trust
    )
    result.path.chmod(0o644)
    connect(result.path).execute("UPDATE records SET purpose = 'x' WHERE seq = 2")
    report = verify_log([live], trust)
    assert (report.first_problem.seq, report.first_problem.kind) == (2, ProblemKind.MODIFIED)


def test_a_rewritten_archive_does_not_link_to_the_live_log(live, home, trust) -> None:
    result = archive_log(
        live, parse_timestamp(round_start(live, 1)), identity=home.identity(CLIENT), trust=trust
    )
    result.path.chmod(0o644)
    archived = connect(result.path)
    records = rows(archived)
    records[1][FIELD["fault_reason"]] = "rewritten"
    rewrite(archived, records, rehash=True)
    archived.execute("DELETE FROM checkpoints")
    report = verify_log([live], trust)
    assert not report.ok
    assert {p.kind for p in report.problems} >= {ProblemKind.LINK}


def test_a_deleted_prefix_without_archive_is_not_an_archive(live, home, trust) -> None:
    conn = connect(live)
    head = conn.execute("SELECT hash FROM records WHERE seq = 4").fetchone()[0]
    conn.execute("DELETE FROM records WHERE seq <= 4")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'base_seq'")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'base_hash'", (head,))
    report = verify_log([live], trust)
    assert (report.first_problem.seq, report.first_problem.kind) == (1, ProblemKind.MISSING)


def test_a_tampered_log_is_never_sealed(live, home, trust) -> None:
    connect(live).execute("UPDATE records SET purpose = 'x' WHERE seq = 2")
    with pytest.raises(AuditError, match="does not verify"):
        archive_log(live, parse_timestamp(round_start(live, 1)), identity=home.identity(CLIENT), trust=trust)
    assert not list(live.parent.glob("messages.archive.*"))


def test_only_the_participant_can_archive(live, home, trust) -> None:
    with pytest.raises(AuditError, match="is the log of"):
        archive_log(live, parse_timestamp(round_start(live, 1)), identity=home.identity(COMMUNE), trust=trust)


def test_the_writer_keeps_appending_after_an_archive(live, home, trust) -> None:
    with MessageLog.open(live, identity=home.identity(CLIENT)) as log:
        record_exchange(log, home, Exchange())
        archive_log(
            live,
            parse_timestamp("2999-01-01T00:00:00.000Z"),
            identity=home.identity(CLIENT),
            trust=trust,
        )
        assert sqlite3.connect(live).execute("SELECT count(*) FROM records").fetchone() == (0,)
        record_exchange(log, home, Exchange())
        assert log.head()[0] == 22
    report = verify_log([live], trust)
    assert report.ok, report.problems
    assert report.last_seq == 22
