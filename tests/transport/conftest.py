"""Transport fixtures: every test runs on a fresh embedded broker and on the real RabbitMQ.

RabbitMQ is ``$GOVBUS_TEST_BROKER`` (default amqp://guest:guest@127.0.0.1:5672/); connection faults are
injected with ``rabbitmqctl``, on node ``$GOVBUS_TEST_RABBITMQ_NODE`` when that broker is not the default
node.

Each test gets its own name prefix, so tests (and other people's runs on the same broker) never share a
queue; what a test declared is deleted afterwards. The broker is never mocked.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bus.transport import Transport, connect

RABBITMQ_URL = os.environ.get("GOVBUS_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
RABBITMQ_NODE = os.environ.get("GOVBUS_TEST_RABBITMQ_NODE")  # rabbitmqctl -n, for a node not the default
SERVICE = "MA/GOV/CNSS/attestations/cnss.attestation/v1"
NOTICE = "MA/COM/RABAT/etat-civil/death.notice/v1"


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def rabbitmqctl(*args: str) -> str:
    node = ["-n", RABBITMQ_NODE] if RABBITMQ_NODE else []
    command = ["rabbitmqctl", "-q", *node, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


class Bus:
    """One isolated bus for a test: transports on the same broker and prefix, cleaned up afterwards."""

    def __init__(self, kind: str, url: str, prefix: str) -> None:
        self.kind = kind
        self.url = url
        self.prefix = prefix
        self._transports: list[Transport] = []
        self._declared: list[Callable[[Transport], None]] = []

    @property
    def rabbitmq(self) -> bool:
        return self.kind == "rabbitmq"

    def connect(self, **options: Any) -> Transport:
        transport = connect(self.url, prefix=self.prefix, **options)
        self._transports.append(transport)
        return transport

    def service(self, transport: Transport, service: str = SERVICE) -> str:
        """Declare a service; return its queue name."""
        transport.declare_service(service)
        self._declared.append(lambda t: t.delete_service(service))
        return transport.topology.service_queue(service)

    def subscription(self, transport: Transport, subscriber: str, service: str = NOTICE) -> str:
        transport.declare_subscription(subscriber, service)
        self._declared.append(lambda t: t.delete_subscription(subscriber, service))
        return transport.topology.subscription_queue(subscriber, service)

    def inbox(self, transport: Transport, participant: str) -> str:
        transport.declare_inbox(participant)
        self._declared.append(lambda t: t.delete_inbox(participant))
        return transport.topology.inbox_queue(participant)

    def close_connections(self) -> int:
        """Force-close this test's RabbitMQ connections from the broker side (as close_all_connections
        would, without disturbing anyone else using the broker); return how many."""
        listing = rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
        mine = f'"connection_name","govbus {self.prefix} '
        pids = [line.split("\t", 1)[0] for line in listing.splitlines() if mine in line]
        for pid in pids:  # the table format's pid (the JSON one, #PID<...>, is refused)
            rabbitmqctl("close_connection", pid, "govbus test: forced close")
        return len(pids)

    def cleanup(self) -> None:
        for transport in self._transports:
            transport.close()
        if self._declared or self.rabbitmq:
            with connect(self.url, prefix=self.prefix) as admin:
                for delete in self._declared:
                    delete(admin)
                admin.delete_exchanges()


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    prefix = "t" + uuid.uuid4().hex[:12]
    url = f"memory://{prefix}" if request.param == "memory" else RABBITMQ_URL
    test_bus = Bus(request.param, url, prefix)
    try:
        yield test_bus
    finally:
        test_bus.cleanup()


@pytest.fixture
def rabbit_bus() -> Iterator[Bus]:
    """RabbitMQ only: for connection-level behaviour the embedded broker does not have."""
    test_bus = Bus("rabbitmq", RABBITMQ_URL, "t" + uuid.uuid4().hex[:12])
    try:
        yield test_bus
    finally:
        test_bus.cleanup()
