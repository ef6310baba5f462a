"""Idempotency: a request or notification id is handled once; a repeat gets the stored answer.

This is also the persistent replay guard of providers and subscribers: the same id with other content
is a replay (``Client.Replay``); the same bytes again are a retry and get the same signed answer, so an
attacker who replays a captured request only obtains the answer already given.

A claim left ``running`` by a worker that died is taken over when the broker redelivers the message
(``redelivered`` is set only after the previous consumer's channel closed or it gave the message back).
A redelivery that arrives while the first delivery still runs, in this process or in another live
worker process sharing the store (its connection was lost meanwhile, so the broker gave the message
back), waits for that run and gets its answer: the handler never runs twice at once for one id.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

import structlog

from sdk.state import settle_state

log = structlog.get_logger(__name__)

WAITING = "redelivered while a live worker still handles it; waiting for that run"
POLL_SECONDS = 0.1


def process_token(pid: int) -> str | None:
    """``PID:START`` for a running process (START from /proc, so a reused pid names another process),
    the pid alone where /proc is missing; None when no process has that pid or it is a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return str(pid)
    return None if stat[0] in ("Z", "X") else f"{pid}:{stat[19]}"


def _alive(owner: str) -> bool:
    pid = owner.split(":", 1)[0]
    return pid.isdigit() and process_token(int(pid)) == owner


class Claim(StrEnum):
    """What ``begin`` found."""

    NEW = "new"  # run the handler
    DONE = "done"  # answer with the stored response
    IN_FLIGHT = "in-flight"  # another worker is on it right now
    CONFLICT = "conflict"  # same id, other content: a replay


@dataclass(frozen=True, slots=True)
class Begin:
    claim: Claim
    response: bytes | None = None


class IdempotencyStore(Protocol):
    """Where answered ids and their answers are kept."""

    def begin(self, message_id: str, digest: str, *, redelivered: bool, keep_until: float) -> Begin: ...

    def finish(self, message_id: str, response: bytes) -> None: ...

    def abandon(self, message_id: str) -> None: ...


class SqliteIdempotencyStore:
    """The default store: one SQLite file per participant, safe across threads and processes."""

    def __init__(self, path: Path) -> None:
        """Open the store at ``path`` (``state.sqlite``), created at its newest schema revision if new;
        ``SchemaVersionError`` when it is at another revision (``govbus storage migrate`` upgrades it)."""
        settle_state(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._owner = process_token(os.getpid())
        self._lock = threading.Lock()
        self._purged_at = 0.0
        self._running: dict[str, threading.Event] = {}  # claims this store gave out, not yet settled

    def begin(self, message_id: str, digest: str, *, redelivered: bool, keep_until: float) -> Begin:
        """Claim ``message_id``, or say why not.

        Any copy of an id that a live worker still runs (a broker redelivery, or the same request re-sent by a
        client whose reply channel was lost) waits for that run and is then answered from the store.
        """
        waited = False
        while True:
            begin, wait = self._try_begin(message_id, digest, redelivered, keep_until)
            if wait is None:
                return begin
            if not waited:
                log.info(WAITING, id=message_id)
                waited = True
            wait()

    def _try_begin(
        self, message_id: str, digest: str, redelivered: bool, keep_until: float
    ) -> tuple[Begin, Callable[[], object] | None]:
        with self._lock:
            claimed = self._db.execute(  # one statement, one transaction: the usual case, a new id
                "INSERT INTO handled (id, digest, state, keep_until, owner) VALUES (?, ?, 'running', ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (message_id, digest, keep_until, self._owner),
            ).rowcount
            if claimed == 1:
                self._running[message_id] = threading.Event()
                self._purge_now_and_then()
                return Begin(Claim.NEW), None
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT digest, state, response, owner FROM handled WHERE id = ?", (message_id,)
                ).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO handled (id, digest, state, keep_until, owner) VALUES (?, ?, 'running', ?, ?)",
                        (message_id, digest, keep_until, self._owner),
                    )
                    self._running[message_id] = threading.Event()
                    return Begin(Claim.NEW), None
                stored_digest, state, response, owner = row
                if stored_digest != digest:
                    return Begin(Claim.CONFLICT), None
                if state == "done":
                    return Begin(Claim.DONE, response), None
                running = self._running.get(message_id)
                if running is not None:
                    return Begin(Claim.IN_FLIGHT), running.wait
                if owner is not None and owner != self._owner and _alive(owner):
                    return Begin(Claim.IN_FLIGHT), partial(time.sleep, POLL_SECONDS)
                if not redelivered:
                    return Begin(Claim.IN_FLIGHT), None  # only a broker redelivery takes a dead claim over
                self._db.execute("UPDATE handled SET owner = ? WHERE id = ?", (self._owner, message_id))
                self._running[message_id] = threading.Event()  # left by a worker that died: take it over
                return Begin(Claim.NEW), None
            finally:
                self._db.execute("COMMIT")
                self._purge_now_and_then()

    def finish(self, message_id: str, response: bytes) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE handled SET state = 'done', response = ? WHERE id = ?", (response, message_id)
            )
            self._settled(message_id)

    def abandon(self, message_id: str) -> None:
        """Forget a claim whose handling failed before an answer existed, so a retry runs again."""
        with self._lock:
            self._db.execute("DELETE FROM handled WHERE id = ? AND state = 'running'", (message_id,))
            self._settled(message_id)

    def _settled(self, message_id: str) -> None:
        running = self._running.pop(message_id, None)
        if running is not None:
            running.set()

    def _purge_now_and_then(self) -> None:
        now = time.time()
        if now - self._purged_at > 60:
            self._purged_at = now
            self._db.execute("DELETE FROM handled WHERE keep_until < ?", (now,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
