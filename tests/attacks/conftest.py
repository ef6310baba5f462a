"""Fixtures for the attack tests: a bus with the echo teleservice, on each broker, and the eyes of an
attacker (raw pika on the same RabbitMQ, or raw publishes on the embedded broker)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bus.audit import store
from bus.audit.query import SearchFilter, search
from bus.ids import ParticipantId
from sdk.testing import TestBus
from tests.helpers.fixtures import fresh_pki, pki
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, OUTSIDER, PROVIDER

__all__ = ["bus", "fresh_pki", "log_records", "pki", "wait_until"]


@pytest.fixture
def bus(broker_url: str | None, tmp_path) -> Iterator[TestBus]:
    with TestBus(tmp_path / "bus", broker=broker_url) as test_bus:
        test_bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        test_bus.publish(NOTE, provider=NOTIFIER, clients=FUNDS)
        test_bus.participant(OUTSIDER)
        yield test_bus


def log_records(bus: TestBus, participant: str) -> list[Any]:
    """The records of ``participant``'s message log (without their bytes)."""
    path = bus.home.participant_dir(ParticipantId.parse(participant)) / "messages.sqlite"
    if not path.exists():
        return []
    conn = store.connect(path, readonly=True)
    try:
        return list(search(conn, SearchFilter()))
    finally:
        conn.close()


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
