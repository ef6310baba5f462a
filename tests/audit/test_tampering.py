"""Every way of removing or changing history is detected, and the first broken record is named.

The log under attack holds 12 verifying records with signed checkpoints at 4, 8 and 12. Positions:
the first record, one in the middle, the last.
"""

from __future__ import annotations

import hashlib

import pytest

from bus.audit.verify import ProblemKind, verify_log
from bus.cli.audit import exit_code
from tests.audit.builders import FIELD, connect, rewrite, rows

POSITIONS = {"first": 1, "middle": 6, "last": 12}


def first_broken(path, trust):
    report = verify_log([path], trust)
    assert not report.ok
    assert exit_code(report) == 1
    return report.first_problem, report


@pytest.fixture(params=list(POSITIONS))
def position(request) -> int:
    return POSITIONS[request.param]


def test_the_untouched_log_verifies(log_path, trust) -> None:
    report = verify_log([log_path], trust)
    assert report.ok, report.problems
    assert (report.records, report.checkpoints_valid, report.envelopes_verified, report.uncovered) == (
        12,
        3,
        12,
        0,
    )


def test_deleting_a_record(log_path, trust, position) -> None:
    connect(log_path).execute("DELETE FROM records WHERE seq = ?", (position,))
    problem, _ = first_broken(log_path, trust)
    assert problem.seq == position
    assert problem.kind in (ProblemKind.MISSING, ProblemKind.TRUNCATED)


def test_deleting_a_record_and_renumbering(log_path, trust, position) -> None:
    records = [r for r in rows(connect(log_path)) if r[FIELD["seq"]] != position]
    for values in records:
        if values[FIELD["seq"]] > position:
            values[FIELD["seq"]] -= 1
    rewrite(connect(log_path), records, rehash=False)
    problem, _ = first_broken(log_path, trust)
    assert problem.seq == position
    assert problem.kind in (ProblemKind.MODIFIED, ProblemKind.TRUNCATED)


@pytest.mark.parametrize(
    ("field", "value"), [("purpose", "tax-audit"), ("client", "MA/GOV/DGI/impots"), ("size", 1)]
)
def test_editing_a_field(log_path, trust, position, field, value) -> None:
    connect(log_path).execute(f"UPDATE records SET {field} = ? WHERE seq = ?", (value, position))
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (position, ProblemKind.MODIFIED)


def test_editing_the_stored_envelope(log_path, trust, position) -> None:
    conn = connect(log_path)
    raw = conn.execute("SELECT raw FROM records WHERE seq = ?", (position,)).fetchone()[0]
    conn.execute("UPDATE records SET raw = ? WHERE seq = ?", (raw.replace(b"Atlas", b"Atlaz"), position))
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (position, ProblemKind.PAYLOAD)


def test_editing_the_envelope_and_its_digests(log_path, trust, position) -> None:
    conn = connect(log_path)
    raw = conn.execute("SELECT raw FROM records WHERE seq = ?", (position,)).fetchone()[0]
    changed = raw.replace(b"Atlas", b"Atlaz")
    digest = hashlib.sha256(changed).hexdigest()
    conn.execute(
        "UPDATE records SET raw = ?, sha256 = ?, stored_sha256 = ? WHERE seq = ?",
        (changed, digest, digest, position),
    )
    problem, report = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (position, ProblemKind.MODIFIED)
    assert any(p.kind is ProblemKind.ENVELOPE and p.seq == position for p in report.problems)


def test_editing_an_unsigned_field_and_rehashing_the_whole_chain(log_path, trust, position) -> None:
    """Only the signed checkpoints can catch this forger: the first one after the edit is named."""
    records = rows(connect(log_path))
    records[position - 1][FIELD["fault_reason"]] = "nothing happened"
    rewrite(connect(log_path), records, rehash=True)
    problem, report = first_broken(log_path, trust)
    covering = next(c for c in (4, 8, 12) if c >= position)
    assert (problem.kind, problem.seq) == (ProblemKind.REHASHED, covering)
    since = covering - 4
    assert (
        f"after record {since} up to {covering}" if since else f"from the start up to {covering}"
    ) in problem.message
    assert [p.kind for p in report.problems] == [ProblemKind.REHASHED]


def test_editing_a_signed_field_and_rehashing_the_whole_chain(log_path, trust, position) -> None:
    """A field the envelope also carries is caught at the record itself, and by the checkpoint."""
    records = rows(connect(log_path))
    records[position - 1][FIELD["purpose"]] = "tax-audit"
    rewrite(connect(log_path), records, rehash=True)
    problem, report = first_broken(log_path, trust)
    assert (problem.kind, problem.seq) == (ProblemKind.INCONSISTENT, position)
    assert "purpose" in problem.message
    assert any(p.kind is ProblemKind.REHASHED for p in report.problems)


def test_reordering_two_records(log_path, trust, position) -> None:
    records = rows(connect(log_path))
    a, b = (position - 1, position) if position < 12 else (position - 2, position - 1)
    seq = FIELD["seq"]
    records[a], records[b] = records[b], records[a]
    records[a][seq], records[b][seq] = records[b][seq], records[a][seq]
    rewrite(connect(log_path), records, rehash=False)
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (a + 1, ProblemKind.MODIFIED)


def test_truncating_the_log(log_path, trust, position) -> None:
    connect(log_path).execute("DELETE FROM records WHERE seq >= ?", (position,))
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (position, ProblemKind.TRUNCATED)
    assert f"records {position}..12 were removed" in problem.message


def test_inserting_a_record(log_path, trust, position) -> None:
    records = rows(connect(log_path))
    seq = FIELD["seq"]
    copy = list(records[(position + 2) % 12])
    copy[seq] = position
    for values in records:
        if values[seq] >= position:
            values[seq] += 1
    records.insert(position - 1, copy)
    rewrite(connect(log_path), records, rehash=False)
    problem, _ = first_broken(log_path, trust)
    assert problem.seq == position and problem.kind is ProblemKind.MODIFIED


def test_inserting_a_record_with_a_correct_hash(log_path, trust, position) -> None:
    """A careful forger hashes the inserted record onto its predecessor: the record after it breaks
    (or, when a checkpoint was signed at the inserted position, that checkpoint names it)."""
    records = rows(connect(log_path))
    seq = FIELD["seq"]
    copy = list(records[(position + 2) % 12])
    copy[seq] = position
    copy[FIELD["recorded_at"]] = records[position - 1][FIELD["recorded_at"]]
    for values in records:
        if values[seq] >= position:
            values[seq] += 1
    records.insert(position - 1, copy)
    rewrite(connect(log_path), records[:position], rehash=True)
    conn = connect(log_path)
    placeholders = ", ".join("?" * len(records[0]))
    for values in records[position:]:
        conn.execute(f"INSERT INTO records VALUES ({placeholders})", values)
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) in (
        (position + 1, ProblemKind.MODIFIED),
        (position, ProblemKind.REHASHED),
    )


def test_a_record_appended_after_the_last_checkpoint_is_reported_as_unsigned(log_path, trust) -> None:
    records = rows(connect(log_path))
    extra = list(records[3])
    extra[FIELD["seq"]] = 13
    extra[FIELD["recorded_at"]] = records[-1][FIELD["recorded_at"]]
    rewrite(connect(log_path), [*records, extra], rehash=True)
    report = verify_log([log_path], trust)
    assert report.ok
    assert report.uncovered == 1 and report.covered_seq == 12


def test_changing_the_base_hash(log_path, trust) -> None:
    connect(log_path).execute("UPDATE meta SET value = ? WHERE key = 'base_hash'", ("11" * 32,))
    problem, _ = first_broken(log_path, trust)
    assert (problem.seq, problem.kind) == (1, ProblemKind.MODIFIED)
