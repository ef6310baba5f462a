"""A transactional outbox and its pump: what a participant owes others, kept until they have it.

A state change writes the messages it causes in its own transaction (``Outbox.enqueue`` with the
transaction's connection), so none is lost when the process stops before they are sent. ``OutboxPump``
drains an ``OutboxSource`` on its own thread, woken after a change (``wake``) and every ``interval``
seconds: messages go in order; after a failure, that recipient's later messages wait for the next
round and the recipient is held back with exponential backoff while the others go on. Delivery is at
least once; receivers drop duplicates by message id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

import structlog

from sdk.backoff import RecipientBackoff
from sdk.periodic import Periodic
from sdk.store import Connection, Database

log = structlog.get_logger(__name__)


class Addressed(Protocol):
    """An outbox message: it names its recipient."""

    @property
    def recipient(self) -> str: ...


M = TypeVar("M", bound=Addressed)


class OutboxSource(Protocol[M]):
    """Where a pump takes pending messages from and reports what became of them."""

    def pending(self, limit: int, exclude: Collection[str]) -> Sequence[M]:
        """The oldest unsent messages, in order, except those to ``exclude``."""
        ...

    def delivered(self, message: M, result: object) -> None:
        """``message`` reached its recipient, which answered ``result``."""
        ...

    def failed(self, message: M, error: Exception) -> None:
        """Sending ``message`` failed; it stays pending."""
        ...


class OutboxPump(Generic[M]):
    """Drains ``source`` with ``send`` on its own thread, so no handler waits for a recipient."""

    def __init__(
        self,
        name: str,
        source: OutboxSource[M],
        send: Callable[[M], object],
        *,
        interval: float = 5.0,
        max_backoff: float = 300.0,
        batch: int = 100,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.source = source
        self.send = send
        self.batch = batch
        self.backoff = RecipientBackoff(
            base=interval, maximum=max_backoff, event=f"{name}.recipient_backoff", monotonic=monotonic
        )
        self._periodic = Periodic(name, self.drain, interval=interval)

    def start(self) -> OutboxPump[M]:
        self._periodic.start()
        return self

    def wake(self) -> None:
        """Drain soon (after a state change); never blocks."""
        self._periodic.wake()

    def stop(self, timeout: float = 15.0) -> None:
        """Let the running round finish (up to ``timeout`` s) and drain no more."""
        self._periodic.stop(timeout)

    def drain(self, exclude: Collection[str] = ()) -> int:
        """One pass over the outbox, skipping recipients in backoff (and ``exclude``); return how many went."""
        total = 0
        failed: set[str] = set(exclude)
        while not self._periodic.stopping:
            pending = self.source.pending(self.batch, {*self.backoff.held(), *failed})
            sent = 0
            for message in pending:
                recipient = message.recipient
                if recipient in failed:
                    continue
                try:
                    result = self.send(message)
                except Exception as error:  # the message stays for a later round
                    self.source.failed(message, error)
                    self.backoff.failed(recipient, error)
                    failed.add(recipient)
                    log.warning(f"{self.name}.not_delivered", recipient=recipient, error=str(error))
                    continue
                self.source.delivered(message, result)
                self.backoff.succeeded(recipient)
                sent += 1
            total += sent
            if len(pending) < self.batch or sent == 0:
                return total
        return total


OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered_at, seq);
"""
"""The ``outbox`` table of ``Outbox``: add it to the store's schema."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message waiting in an ``Outbox``."""

    seq: int
    message_id: str
    recipient: str
    kind: str
    body: bytes
    attempts: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Outbox:
    """The ``outbox`` table of a store's database, as an ``OutboxSource`` of ``OutboxMessage``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def enqueue(conn: Connection, *, message_id: str, recipient: str, kind: str, body: bytes) -> None:
        """Add a message inside the transaction of the change that causes it."""
        conn.execute(
            "INSERT INTO outbox (message_id, recipient, kind, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (message_id, recipient, kind, body, _now()),
        )

    def pending(self, limit: int, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        with self.database.reading() as conn:
            held = sorted(set(exclude))
            rows = conn.execute(_PENDING.format(held=_held_clause(len(held))), (*held, limit)).fetchall()
        return [OutboxMessage(row[0], row[1], row[2], row[3], bytes(row[4]), row[5]) for row in rows]

    def delivered(self, message: OutboxMessage, result: object = None) -> None:
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?",
                (_now(), message.seq),
            )

    def failed(self, message: OutboxMessage, error: Exception) -> None:
        with self.database.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (f"{type(error).__name__}: {error}"[:1000], message.seq),
            )

    def size(self) -> int:
        """How many messages still wait for delivery."""
        with self.database.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0])


_PENDING = (
    "SELECT seq, message_id, recipient, kind, body, attempts FROM outbox WHERE delivered_at IS NULL{held}"
    " ORDER BY seq LIMIT ?"
)


def _held_clause(count: int) -> str:
    """``AND recipient NOT IN (?, ...)`` for ``count`` held-back recipients (nothing when there are none)."""
    return f" AND recipient NOT IN ({', '.join(['?'] * count)})" if count else ""


__all__ = ["OUTBOX_SCHEMA", "Addressed", "Outbox", "OutboxMessage", "OutboxPump", "OutboxSource"]
