"""Fault-test fixtures: a bus on the real RabbitMQ whose teleservice workers run in their own processes.

Broker and node come from ``$GOVBUS_TEST_BROKER`` and ``$GOVBUS_TEST_RABBITMQ_NODE`` (see
tests/helpers/rabbitmq.py); every test has its own name prefix and deletes its queues afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sdk.testing import TestBus
from tests.conftest import RABBITMQ_URL
from tests.faults.harness import Worker
from tests.faults.service import (
    ARCHIVE,
    BACKUP,
    CLIENT,
    EVENT,
    NOTIFIER,
    OUTSIDER,
    PROVIDER,
    SUBSCRIBER,
    WORK,
)

APPS = {"provider": PROVIDER, "backup": BACKUP, "subscriber": SUBSCRIBER, "archive": ARCHIVE}

StartWorker = Callable[..., Worker]


@pytest.fixture
def fault_bus(tmp_path: Path) -> Iterator[TestBus]:
    """WORK served by the provider (and backup) to the client; EVENT from the notifier to both subscribers."""
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as bus:
        bus.publish(WORK, provider=PROVIDER, clients=[CLIENT])
        bus.publish(WORK, provider=BACKUP, clients=[CLIENT])
        bus.publish(EVENT, provider=NOTIFIER, clients=[SUBSCRIBER, ARCHIVE])
        bus.participant(OUTSIDER)
        bus.sign_catalogue()
        yield bus


@pytest.fixture
def workers(fault_bus: TestBus, tmp_path: Path) -> Iterator[StartWorker]:
    """``workers("provider")`` starts that app of tests.faults.service with ``govbus run``; all stop at the end."""
    started: list[Worker] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(app: str, *, broker: str = RABBITMQ_URL, threads: int = 4, prefetch: int = 64) -> Worker:
        own = logs / f"worker-{len(started) + 1}"  # two workers of one app never share a log file
        own.mkdir()
        worker = Worker(fault_bus, app, APPS[app], own, broker=broker, threads=threads, prefetch=prefetch)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()
