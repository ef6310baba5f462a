"""The idempotency store on PostgreSQL: the same claims as on SQLite, and claims that hold across hosts.

Each store instance stands for a worker (on this host or another): it names itself as the owner of its
claims and is alive while its presence connection is. A worker killed on another host is a process
killed here with SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdk.compose import open_idempotency
from sdk.idempotency import Claim
from sdk.idempotency_postgres import PostgresIdempotencyStore
from sdk.storage import Storage
from tests.helpers.storage import fresh_storage

KEEP = time.time() + 3600


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Storage]:
    with fresh_storage("postgresql", tmp_path) as storage:
        yield storage


def _worker(storage: Storage) -> PostgresIdempotencyStore:
    store = open_idempotency(storage)
    assert isinstance(store, PostgresIdempotencyStore)
    return store


def _begin_in_thread(store: PostgresIdempotencyStore, message_id: str) -> tuple[threading.Thread, list]:
    found: list = []
    thread = threading.Thread(
        target=lambda: found.append(store.begin(message_id, "d", redelivered=True, keep_until=KEEP)),
        daemon=True,
    )
    thread.start()
    return thread, found


def test_an_id_is_claimed_once_answered_from_the_store_and_refused_with_other_content(pg: Storage) -> None:
    host_a, host_b = _worker(pg), _worker(pg)
    assert host_a.begin("m", "d", redelivered=False, keep_until=KEEP).claim is Claim.NEW
    copy: list = []  # a copy re-sent by the client waits while host_a runs it, then gets its answer
    waiting = threading.Thread(
        target=lambda: copy.append(host_b.begin("m", "d", redelivered=False, keep_until=KEEP)), daemon=True
    )
    waiting.start()
    waiting.join(1.0)
    assert waiting.is_alive() and copy == []
    host_a.finish("m", b"<answer/>")
    waiting.join(30)
    assert [(b.claim, b.response) for b in copy] == [(Claim.DONE, b"<answer/>")]
    done = host_b.begin("m", "d", redelivered=True, keep_until=KEEP)
    assert (done.claim, done.response) == (Claim.DONE, b"<answer/>")
    assert host_b.begin("m", "other", redelivered=False, keep_until=KEEP).claim is Claim.CONFLICT
    host_a.close()
    host_b.close()


def test_a_redelivery_during_the_first_run_waits_for_its_answer(pg: Storage) -> None:
    store = _worker(pg)
    assert store.begin("m", "d", redelivered=False, keep_until=KEEP).claim is Claim.NEW
    thread, found = _begin_in_thread(store, "m")
    thread.join(0.5)
    assert thread.is_alive() and found == []
    store.finish("m", b"<answer/>")
    thread.join(10)
    assert [(b.claim, b.response) for b in found] == [(Claim.DONE, b"<answer/>")]
    store.close()


def test_a_redelivery_during_a_run_that_fails_runs_it_again(pg: Storage) -> None:
    store = _worker(pg)
    store.begin("m", "d", redelivered=False, keep_until=KEEP)
    thread, found = _begin_in_thread(store, "m")
    store.abandon("m")
    thread.join(10)
    assert [b.claim for b in found] == [Claim.NEW]
    store.close()


def test_a_redelivery_to_another_host_while_the_first_still_runs_waits_for_its_answer(pg: Storage) -> None:
    host_a, host_b = _worker(pg), _worker(pg)
    host_a.begin("m", "d", redelivered=False, keep_until=KEEP)
    thread, found = _begin_in_thread(host_b, "m")
    thread.join(0.5)
    assert thread.is_alive() and found == []
    host_a.finish("m", b"<answer/>")
    thread.join(10)
    assert [(b.claim, b.response) for b in found] == [(Claim.DONE, b"<answer/>")]
    host_a.close()
    host_b.close()


def test_one_host_takes_over_the_claim_of_a_host_that_stopped(pg: Storage) -> None:
    stopped, host_b, host_c = _worker(pg), _worker(pg), _worker(pg)
    stopped.begin("m", "d", redelivered=False, keep_until=KEEP)
    stopped.close()
    assert host_b.begin("m", "d", redelivered=True, keep_until=KEEP).claim is Claim.NEW
    thread, found = _begin_in_thread(host_c, "m")  # b took it over and is alive: c waits for b
    thread.join(0.5)
    assert thread.is_alive() and found == []
    host_b.finish("m", b"<answer/>")
    thread.join(10)
    assert [(b.claim, b.response) for b in found] == [(Claim.DONE, b"<answer/>")]
    host_c.close()
    host_b.close()


_CLAIM_AND_HANG = """
import sys, time
from pathlib import Path
from sdk.compose import open_idempotency
from sdk.storage import Storage
store = open_idempotency(Storage(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
store.begin("m", "d", redelivered=False, keep_until=time.time() + 3600)
print("claimed", flush=True)
time.sleep(60)
"""


def test_the_claim_of_a_worker_killed_on_another_host_is_taken_over(pg: Storage) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CLAIM_AND_HANG, str(pg.data_dir), pg.participant, pg.url],
        stdout=subprocess.PIPE,
    ) as other:
        try:
            assert other.stdout is not None and other.stdout.readline() == b"claimed\n"
            here = _worker(pg)
            thread, found = _begin_in_thread(here, "m")
            thread.join(0.5)
            assert thread.is_alive() and found == []  # the other worker is alive: wait for it
            other.send_signal(signal.SIGKILL)
            thread.join(15)
            assert [b.claim for b in found] == [Claim.NEW]
            here.close()
        finally:
            other.kill()
