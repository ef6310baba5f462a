"""The idempotency store on PostgreSQL: one ``handled`` table shared by every host of a participant.

Same contract as ``SqliteIdempotencyStore`` (``sdk.idempotency``), with claims that hold across hosts:
- a new id is claimed by one ``INSERT ... ON CONFLICT DO NOTHING`` (one round trip, the usual case);
- anything else is decided on the row locked with ``SELECT ... FOR UPDATE``, so two hosts never both
  take over one claim;
- each store instance names itself (host, process, instance) as the owner of its claims and holds a
  session advisory lock on that name on a connection of its own for as long as it lives. A claim's owner
  is alive while its lock is held: a worker killed on any host drops its connection, PostgreSQL releases
  the lock, and the redelivered message is taken over; a live owner (its broker connection lost) is
  waited for, so a handler never runs twice at once for one id, whichever host gets the redelivery.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg
import structlog

from sdk.idempotency import POLL_SECONDS, WAITING, Begin, Claim, process_token
from sdk.postgres import PostgresDatabase, lock_key
from sdk.state import settle_state

log = structlog.get_logger(__name__)

PURGE_SECONDS = 60.0


class PostgresIdempotencyStore:
    """The idempotency store of one participant in its PostgreSQL schema (``database``).

    The schema is the participant's state store (``sdk.state``): created at its newest revision if new,
    refused with ``SchemaVersionError`` at another revision.
    """

    def __init__(self, database: PostgresDatabase) -> None:
        settle_state(database)
        self._pool = database.pool
        table = database.qualified("handled")
        self._claim = (
            f"INSERT INTO {table} (id, digest, state, keep_until, owner) VALUES (%s, %s, 'running', %s, %s)"  # noqa: S608
            " ON CONFLICT (id) DO NOTHING"
        )
        self._locked = f"SELECT digest, state, response, owner FROM {table} WHERE id = %s FOR UPDATE"  # noqa: S608
        self._take_over = f"UPDATE {table} SET owner = %s WHERE id = %s"  # noqa: S608
        self._finish = f"UPDATE {table} SET state = 'done', response = %s WHERE id = %s"  # noqa: S608
        self._abandon = f"DELETE FROM {table} WHERE id = %s AND state = 'running'"  # noqa: S608
        self._purge = f"DELETE FROM {table} WHERE keep_until < %s"  # noqa: S608
        self._owner = f"{socket.gethostname()}/{process_token(os.getpid())}/{uuid.uuid4().hex[:12]}"
        self._presence: psycopg.Connection[Any] = psycopg.connect(database.url, autocommit=True)
        self._presence.execute("SELECT pg_advisory_lock(%s)", (lock_key(self._owner),))
        self._lock = threading.Lock()
        self._purged_at = 0.0
        self._running: dict[str, threading.Event] = {}  # claims this store gave out, not yet settled

    @property
    def owner(self) -> str:
        """The name this store gives its claims (host, process, instance)."""
        return self._owner

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
        self._purge_now_and_then()
        with self._pool.connection() as conn:
            if conn.execute(self._claim, (message_id, digest, keep_until, self._owner)).rowcount == 1:
                return self._claimed(message_id), None
            with conn.transaction():
                row = conn.execute(self._locked, (message_id,)).fetchone()
                if row is None:  # purged or abandoned meanwhile
                    conn.execute(self._claim, (message_id, digest, keep_until, self._owner))
                    return self._claimed(message_id), None
                stored_digest, state, response, owner = row
                if stored_digest != digest:
                    return Begin(Claim.CONFLICT), None
                if state == "done":
                    return Begin(Claim.DONE, bytes(response)), None
                with self._lock:
                    running = self._running.get(message_id)
                if running is not None:
                    return Begin(Claim.IN_FLIGHT), running.wait
                if owner is not None and owner != self._owner and _alive(conn, owner):
                    return Begin(Claim.IN_FLIGHT), partial(time.sleep, POLL_SECONDS)
                if not redelivered:
                    return Begin(Claim.IN_FLIGHT), None  # only a broker redelivery takes a dead claim over
                conn.execute(self._take_over, (self._owner, message_id))  # its owner died: take it over
                return self._claimed(message_id), None

    def _claimed(self, message_id: str) -> Begin:
        with self._lock:
            self._running[message_id] = threading.Event()
        return Begin(Claim.NEW)

    def finish(self, message_id: str, response: bytes) -> None:
        with self._pool.connection() as conn:
            conn.execute(self._finish, (response, message_id))
        self._settled(message_id)

    def abandon(self, message_id: str) -> None:
        """Forget a claim whose handling failed before an answer existed, so a retry runs again."""
        with self._pool.connection() as conn:
            conn.execute(self._abandon, (message_id,))
        self._settled(message_id)

    def _settled(self, message_id: str) -> None:
        with self._lock:
            running = self._running.pop(message_id, None)
        if running is not None:
            running.set()

    def _purge_now_and_then(self) -> None:
        now = time.time()
        with self._lock:
            if now - self._purged_at <= PURGE_SECONDS:
                return
            self._purged_at = now
        with self._pool.connection() as conn:
            conn.execute(self._purge, (now,))

    def close(self) -> None:
        """Release this store's presence: its unfinished claims may now be taken over."""
        self._presence.close()


def _alive(conn: psycopg.Connection[Any], owner: str) -> bool:
    """Whether the store named ``owner`` still holds its presence lock (on any host)."""
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(owner),)).fetchone()
    return row is not None and not row[0]


__all__ = ["PostgresIdempotencyStore"]
