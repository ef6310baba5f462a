"""A handler three times slower than the heartbeat interval keeps its worker's connection."""

from __future__ import annotations

import pytest

from sdk import Client
from sdk.testing import TestBus
from tests.conftest import RABBITMQ_URL
from tests.faults.conftest import StartWorker
from tests.faults.service import CLIENT, PROVIDER, WORK, Work
from tests.helpers.rabbitmq import Connection, connections

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

HEARTBEAT = 2
HANDLER_MS = 6000


def _with_heartbeat(url: str, seconds: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}heartbeat={seconds}"


def _worker_connections(prefix: str, pid: int) -> list[Connection]:
    return [c for c in connections() if c.name == f"govbus {prefix} pid {pid}"]


def test_a_handler_slower_than_the_heartbeat_keeps_its_connection(
    fault_bus: TestBus, workers: StartWorker
) -> None:
    provider = workers("provider", broker=_with_heartbeat(RABBITMQ_URL, HEARTBEAT), threads=1)
    before = _worker_connections(fault_bus.prefix, provider.pid)
    assert [c.heartbeat for c in before] == [HEARTBEAT], before  # the worker runs with the 2 s heartbeat

    client = Client(node=fault_bus.node(CLIENT))
    done = client.call(PROVIDER, WORK, Work(text="slow", delay_ms=HANDLER_MS), timeout=60, retries=0)

    assert done.text == "slow" and done.pid == provider.pid
    assert (
        _worker_connections(fault_bus.prefix, provider.pid) == before
    )  # the same connection, never reopened
    assert [(e.started, e.runs) for e in provider.effects().values()] == [(1, 1)]
    assert [line["event"] for line in provider.lines() if line.get("level") in ("warning", "error")] == []
