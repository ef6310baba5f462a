"""The idempotency store when a message comes back while this process still handles it."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from sdk.idempotency import Claim, SqliteIdempotencyStore, process_token

KEEP = time.time() + 3600


def _begin_in_thread(store: SqliteIdempotencyStore, message_id: str) -> tuple[threading.Thread, list]:
    found: list = []
    thread = threading.Thread(
        target=lambda: found.append(store.begin(message_id, "d", redelivered=True, keep_until=KEEP)),
        daemon=True,
    )
    thread.start()
    return thread, found


def test_a_redelivery_during_the_first_run_waits_for_its_answer(tmp_path: Path) -> None:
    store = SqliteIdempotencyStore(tmp_path / "state.sqlite")
    assert store.begin("m", "d", redelivered=False, keep_until=KEEP).claim is Claim.NEW
    thread, found = _begin_in_thread(store, "m")
    thread.join(0.5)
    assert thread.is_alive() and found == []
    store.finish("m", b"<answer/>")
    thread.join(10)
    assert [(b.claim, b.response) for b in found] == [(Claim.DONE, b"<answer/>")]


def test_a_redelivery_during_a_run_that_fails_runs_it_again(tmp_path: Path) -> None:
    store = SqliteIdempotencyStore(tmp_path / "state.sqlite")
    store.begin("m", "d", redelivered=False, keep_until=KEEP)
    thread, found = _begin_in_thread(store, "m")
    store.abandon("m")
    thread.join(10)
    assert [b.claim for b in found] == [Claim.NEW]


def test_a_claim_left_by_a_dead_worker_is_taken_over_at_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    SqliteIdempotencyStore(path).begin("m", "d", redelivered=False, keep_until=KEEP)
    restarted = SqliteIdempotencyStore(path)
    assert restarted.begin("m", "d", redelivered=False, keep_until=KEEP).claim is Claim.IN_FLIGHT
    assert restarted.begin("m", "d", redelivered=True, keep_until=KEEP).claim is Claim.NEW


def _claimed_by(path: Path, process: subprocess.Popen[bytes]) -> SqliteIdempotencyStore:
    """A store whose 'm' is running in ``process`` (a worker process sharing the store)."""
    store = SqliteIdempotencyStore(path)
    store.begin("m", "d", redelivered=False, keep_until=KEEP)
    owner = process_token(process.pid)
    assert owner is not None
    store._db.execute("UPDATE handled SET owner = ? WHERE id = 'm'", (owner,))
    return SqliteIdempotencyStore(path)  # this worker's own store


def test_a_redelivery_while_another_live_worker_runs_it_waits_for_its_answer(tmp_path: Path) -> None:
    with subprocess.Popen(["sleep", "60"]) as other:
        try:
            store = _claimed_by(tmp_path / "state.sqlite", other)
            thread, found = _begin_in_thread(store, "m")
            thread.join(0.5)
            assert thread.is_alive() and found == []
            SqliteIdempotencyStore(tmp_path / "state.sqlite").finish("m", b"<answer/>")  # the other worker
            thread.join(10)
            assert [(b.claim, b.response) for b in found] == [(Claim.DONE, b"<answer/>")]
        finally:
            other.kill()


def test_a_claim_of_a_worker_process_that_died_is_taken_over_even_before_it_is_reaped(tmp_path: Path) -> None:
    with subprocess.Popen(["sleep", "60"]) as other:
        store = _claimed_by(tmp_path / "state.sqlite", other)
        other.kill()  # a zombie until its parent (the govbus run supervisor) waits for it
        stat = Path(f"/proc/{other.pid}/stat")
        deadline = time.monotonic() + 10
        while stat.exists() and ") Z " not in stat.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        thread, found = _begin_in_thread(store, "m")
        thread.join(10)
        assert [b.claim for b in found] == [Claim.NEW]
