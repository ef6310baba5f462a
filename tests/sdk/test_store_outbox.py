"""The store base (transactions) and the transactional outbox with its pump, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from sdk.outbox import OUTBOX_SCHEMA, Outbox, OutboxMessage, OutboxPump
from sdk.store import Store, scalar


class Ledger(Store):
    FILE_NAME = "ledger.sqlite"
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, text TEXT NOT NULL);" + OUTBOX_SCHEMA
    )

    def add(self, text: str, *, notify: list[str] = (), fail: bool = False) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO entries (text) VALUES (?)", (text,))
            for recipient in notify:
                Outbox.enqueue(
                    db,
                    message_id=f"{text}->{recipient}",
                    recipient=recipient,
                    kind="entry",
                    body=text.encode(),
                )
            if fail:
                raise RuntimeError("the change fails")

    def count(self) -> int:
        with self.reading() as db:
            return int(scalar(db, "SELECT COUNT(*) FROM entries"))


def test_a_transaction_commits_or_rolls_back_with_its_outbox_messages(storage) -> None:
    ledger = Ledger.open(storage)
    outbox = Outbox(ledger.database)
    ledger.add("kept", notify=["A"])
    with pytest.raises(RuntimeError):
        ledger.add("lost", notify=["A", "B"], fail=True)
    assert ledger.count() == 1
    assert [m.message_id for m in outbox.pending(10)] == ["kept->A"]


def test_concurrent_writers_each_get_their_own_transaction(storage) -> None:
    ledger = Ledger.open(storage)
    threads = [threading.Thread(target=ledger.add, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ledger.count() == 8


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_pump_keeps_order_holds_back_a_failing_recipient_and_backs_off(storage) -> None:
    ledger = Ledger.open(storage)
    outbox = Outbox(ledger.database)
    for text in ("one", "two", "three"):
        ledger.add(text, notify=["up", "down"])
    delivered: list[str] = []

    def send(message: OutboxMessage) -> None:
        if message.recipient == "down":
            raise ConnectionError("recipient unreachable")
        delivered.append(message.message_id)

    clock = Clock()
    pump = OutboxPump("ledger-outbox", outbox, send, interval=1.0, max_backoff=8.0, batch=2, monotonic=clock)
    assert pump.drain() == 3
    assert delivered == ["one->up", "two->up", "three->up"]
    assert [m.message_id for m in outbox.pending(10)] == ["one->down", "two->down", "three->down"]
    assert pump.backoff.held() == ["down"]
    assert pump.drain() == 0  # still in backoff: not even tried
    assert next(m for m in outbox.pending(10)).attempts == 1
    clock.now = 1.5
    pump.drain()
    assert next(m for m in outbox.pending(10)).attempts == 2  # tried again, first message only
    assert outbox.size() == 3


def test_the_pump_thread_drains_when_woken(storage) -> None:
    ledger = Ledger.open(storage)
    outbox = Outbox(ledger.database)
    went = threading.Event()
    pump = OutboxPump("ledger-outbox", outbox, lambda message: went.set(), interval=60.0).start()
    try:
        went.clear()
        ledger.add("woken", notify=["A"])
        pump.wake()
        assert went.wait(10)
    finally:
        pump.stop()
    assert outbox.size() == 0
