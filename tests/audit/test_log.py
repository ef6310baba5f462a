"""Writing the log: records, rejected messages, modes, checkpoints, concurrency, damage on reopen."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bus.audit import AuditError, LogClosed, LogDamaged, MessageLog
from bus.audit.checkpoint import verify_checkpoint
from bus.audit.record import RAW_CAP
from bus.audit.verify import verify_log
from bus.faults import FaultCode
from tests.audit.builders import MARKER, Exchange, record_exchange, request, response, write_log
from tests.helpers.pki import CLIENT, COMMUNE


def test_records_chain_in_sequence_and_verify(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(path, identity=home.identity(CLIENT), checkpoint_every=None) as log:
        head, raw = request(home)
        first = log.record("out", raw, header=head, outcome="sent")
        answer, reply = response(home, head, raw)
        second = log.record("in", reply, header=answer, outcome="accepted")
        assert (first.seq, second.seq) == (1, 2)
        assert log.head() == (2, second.hash)
        assert second.recorded_at >= first.recorded_at
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert (report.records, report.envelopes_verified, report.uncovered) == (2, 2, 0)


def test_rejected_messages_are_kept_as_received_with_their_fault_code(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    head, raw = request(home)
    forged = raw.replace(b"public-procurement", b"public-procuremenX")
    huge = b"<x>" + b"A" * (RAW_CAP * 2) + b"</x>"
    with MessageLog.open(path, identity=home.identity(CLIENT)) as log:
        log.record(
            "in",
            forged,
            header=None,
            outcome="rejected",
            fault_code=FaultCode.INVALID_SIGNATURE,
            fault_reason="bad",
        )
        log.record("in", huge, header=None, outcome="rejected", fault_code=FaultCode.MALFORMED_MESSAGE)
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT outcome, fault_code, fault_reason, header_origin, message_id, size, stored_size, length(raw) "
        "FROM records ORDER BY seq"
    ).fetchall()
    assert rows[0] == (
        "rejected", "Client.InvalidSignature", "bad", "unverified", head.id, len(forged), len(forged), len(forged)
    )  # fmt: skip
    assert rows[1] == ("rejected", "Client.MalformedMessage", None, "none", None, len(huge), RAW_CAP, RAW_CAP)
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert (report.unverified_checked, report.truncated, report.envelopes_verified) == (2, 1, 0)


def test_metadata_mode_stores_no_payload_bytes(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(path, identity=home.identity(CLIENT)) as log:
        for _ in range(3):
            record_exchange(log, home, Exchange(mode="metadata"))
        _, raw = request(home)
        log.record("in", raw, header=None, outcome="rejected", fault_code="Client.Replay", mode="metadata")
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("messages.sqlite"))
    assert MARKER.encode() not in data
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT count(*) FROM records WHERE raw IS NOT NULL OR stored_size != 0"
    ).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM records WHERE length(sha256) = 64").fetchone() == (7,)
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert (report.metadata_only, report.envelopes_verified) == (7, 0)


def test_service_modes_choose_metadata_per_service(tmp_path, home) -> None:
    path = tmp_path / "messages.sqlite"
    head, raw = request(home)
    modes = {str(head.service): "metadata"}
    with MessageLog.open(path, identity=home.identity(CLIENT), service_modes=modes) as log:
        log.record("out", raw, header=head, outcome="sent")
        log.record("out", raw, header=head, outcome="sent", mode="full")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT mode, raw IS NULL FROM records ORDER BY seq").fetchall() == [
        ("metadata", 1),
        ("full", 0),
    ]


@pytest.mark.parametrize(
    ("direction", "outcome", "fault", "with_header"),
    [
        ("in", "sent", None, True),
        ("out", "accepted", None, True),
        ("in", "rejected", None, False),
        ("in", "refused", None, True),
        ("in", "accepted", None, False),
        ("sideways", "accepted", None, True),
        ("in", "lost", None, True),
    ],
)
def test_inconsistent_records_are_refused(tmp_path, home, direction, outcome, fault, with_header) -> None:
    head, raw = request(home)
    with MessageLog.open(tmp_path / "messages.sqlite", identity=home.identity(CLIENT)) as log:
        with pytest.raises(ValueError):
            log.record(
                direction, raw, header=head if with_header else None, outcome=outcome, fault_code=fault
            )
        assert log.head()[0] == 0


def test_the_sdk_outcomes_are_accepted(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    head, raw = request(home)
    answer, reply = response(home, head, raw)
    fault_header, fault = response(home, head, raw, kind="fault")
    with MessageLog.open(path, identity=home.identity(CLIENT)) as log:
        log.record("out", raw, header=head, outcome="sent")
        log.record("in", reply, header=answer, outcome="duplicate")
        log.record("in", reply, header=answer, outcome="duplicate-in-flight")
        log.record("in", reply, header=answer, outcome="refused", fault_code="Client.AccessDenied")
        log.record("in", fault, header=fault_header, outcome="fault", fault_code="Server.HandlerError")
        log.record("out", raw, header=head, outcome="failed", fault_code="Server.Unroutable")
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert report.envelopes_verified == 5


def test_checkpoints_every_n_records_and_on_close_are_valid(tmp_path, home, trust) -> None:
    seen = []
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(
        path, identity=home.identity(CLIENT), checkpoint_every=3, on_checkpoint=seen.append
    ) as log:
        for _ in range(4):
            record_exchange(log, home, Exchange())
        assert [c.seq for c in seen] == [3, 6]
        again = log.checkpoint()
        assert again.seq == 8 and log.checkpoint() == again
    assert [c.seq for c in seen] == [3, 6, 8]
    for checkpoint in seen:
        assert str(verify_checkpoint(checkpoint, trust.store()).participant) == CLIENT
    assert verify_log([path], trust).checkpoints_valid == 3


def test_a_checkpoint_interval_signs_idle_heads(tmp_path, home) -> None:
    signed = threading.Event()
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(
        path,
        identity=home.identity(CLIENT),
        checkpoint_every=None,
        checkpoint_interval=0.05,
        on_checkpoint=lambda c: signed.set(),
    ) as log:
        record_exchange(log, home, Exchange())
        assert signed.wait(30)
        assert log.latest_checkpoint().seq == 2


def test_a_log_without_identity_records_but_cannot_sign(tmp_path, home) -> None:
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(path, identity=None, participant=CLIENT) as log:
        record_exchange(log, home, Exchange())
        with pytest.raises(AuditError, match="cannot sign"):
            log.checkpoint()


def test_a_log_belongs_to_one_participant(tmp_path, home) -> None:
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange()])
    with pytest.raises(AuditError, match="is the log of"):
        MessageLog.open(path, identity=home.identity(COMMUNE))


def test_a_closed_log_refuses_records(tmp_path, home) -> None:
    log = MessageLog.open(tmp_path / "messages.sqlite", identity=home.identity(CLIENT))
    log.close()
    log.close()
    head, raw = request(home)
    with pytest.raises(LogClosed):
        log.record("out", raw, header=head, outcome="sent")


def test_reopening_continues_the_chain(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange()] * 2)
    write_log(path, home, [Exchange()] * 2)
    report = verify_log([path], trust)
    assert report.ok and report.last_seq == 8


def test_two_writers_on_one_file_keep_one_chain(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    one = MessageLog.open(path, identity=home.identity(CLIENT))
    two = MessageLog.open(path, identity=home.identity(CLIENT))
    for _ in range(3):
        record_exchange(one, home, Exchange())
        record_exchange(two, home, Exchange())
    one.close()
    two.close()
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert report.last_seq == 12


def test_concurrent_threads_keep_a_valid_chain(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    signed = [request(home) for _ in range(40)]
    refs = []
    errors = []
    with MessageLog.open(path, identity=home.identity(CLIENT), checkpoint_every=25) as log:

        def work(offset: int) -> None:
            try:
                for index in range(offset, len(signed) * 5, 8):
                    head, raw = signed[index % len(signed)]
                    refs.append(log.record("out", raw, header=head, outcome="sent"))
            except Exception as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert sorted(ref.seq for ref in refs) == list(range(1, 201))
    report = verify_log([path], trust)
    assert report.ok, report.problems
    assert report.checkpoints_valid >= 2 and report.uncovered == 0


def test_a_damaged_last_record_stops_appending(tmp_path, home) -> None:
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange()] * 2)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE records SET raw = substr(raw, 1, 100) WHERE seq = 4")
    conn.commit()
    conn.close()
    with pytest.raises(LogDamaged, match="last record"):
        MessageLog.open(path, identity=home.identity(CLIENT))


def test_a_torn_file_is_detected_not_accepted(tmp_path, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange()] * 30)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size - 4096 * 3)
    report = verify_log([path], trust)
    assert not report.ok
    assert report.first_problem is not None
    with pytest.raises(AuditError):
        MessageLog.open(path, identity=home.identity(CLIENT))
