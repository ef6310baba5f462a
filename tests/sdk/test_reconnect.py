"""Providers and clients survive the broker closing their connections (RabbitMQ only)."""

from __future__ import annotations

import pytest

from sdk.testing import TestBus
from tests.conftest import RABBITMQ_URL
from tests.helpers.rabbitmq import close_connections
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping

pytestmark = pytest.mark.rabbitmq


def test_calls_go_through_after_every_connection_was_closed_by_force(tmp_path):
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        service = EchoService()
        bus.start(service.app)
        client = bus.client(CLIENT)
        assert client.call(PROVIDER, ECHO, Ping(text="before")).text == "before"
        assert close_connections(bus.prefix) >= 1
        answers = [client.call(PROVIDER, ECHO, Ping(text=f"after {i}"), timeout=30).text for i in range(5)]
        assert answers == [f"after {i}" for i in range(5)]
        assert service.seen[-5:] == answers
        assert bus.transport.reconnections >= 1  # the connection really was closed and re-opened
