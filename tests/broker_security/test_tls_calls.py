"""The SDK on a provisioned bus over TLS: participants log in with their certificate (EXTERNAL) or their
password, calls and notifications work, and a revoked participant loses its broker access."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pika
import pika.exceptions
import pytest

from bus.broker.management import Management
from bus.ids import ParticipantId
from sdk.client import Client
from sdk.compose import open_node
from sdk.node import Node
from tests.attacks.conftest import wait_until
from tests.broker_security.conftest import FUND, PREFIX, SecureBus
from tests.broker_security.node import AMQPS_PORT
from tests.sdk.echo import CLIENT, ECHO, NOTE, NOTIFIER, PROVIDER, EchoService, Ping, fund

pytestmark = pytest.mark.slow

CERTIFICATE_LOGIN = f"amqps://localhost:{AMQPS_PORT}/"


@pytest.fixture
def nodes(secure_bus: SecureBus) -> Iterator[list[Node]]:
    opened: list[Node] = []
    yield opened
    for node in opened:
        node.close()


def node(nodes: list[Node], bus: SecureBus, participant: str, url: str = CERTIFICATE_LOGIN) -> Node:
    opened = open_node(participant, home=bus.home, broker=url, prefix=PREFIX)
    nodes.append(opened)
    return opened


def login_of(bus: SecureBus, participant: str, expected: str, since: float) -> str:
    """How ``participant``'s connections opened at or after ``since`` (epoch seconds) logged in, as the
    broker reports them: ``expected`` once every such connection shows it (the statistics lag, and a
    closed connection of an earlier test may stay listed for a while, so only this test's count); else,
    after 20 s, what was listed."""
    api = Management(bus.node.management_url)
    last = ""

    def seen() -> bool:
        nonlocal last
        rows = api.request("GET", "/connections?columns=user,auth_mechanism,ssl,connected_at") or []
        logins = {
            f"{r['auth_mechanism']} ssl={r['ssl']}"
            for r in rows
            if r.get("user") == participant and r.get("connected_at", 0) >= int(since * 1000)
        }
        last = ", ".join(sorted(logins))
        return logins == {expected}

    try:
        wait_until(seen, 20, f"the connection of {participant}")
    except AssertionError:
        return last
    return expected


def test_a_call_over_amqps_with_certificate_login(secure_bus: SecureBus, nodes: list[Node]) -> None:
    since, echo = time.time(), EchoService()
    running = echo.app.start(node(nodes, secure_bus, PROVIDER))
    try:
        client = Client(node=node(nodes, secure_bus, CLIENT))
        answer = client.call(PROVIDER, ECHO, Ping(text="over TLS"), purpose="test", timeout=10)
        assert answer.text == "over TLS"
        assert answer.by == f"{PROVIDER} for {CLIENT} (test)"
        assert login_of(secure_bus, PROVIDER, "EXTERNAL ssl=True", since) == "EXTERNAL ssl=True"
        assert login_of(secure_bus, CLIENT, "EXTERNAL ssl=True", since) == "EXTERNAL ssl=True"
    finally:
        running.stop()


def test_a_call_with_the_password_fallback(secure_bus: SecureBus, nodes: list[Node]) -> None:
    since, echo = time.time(), EchoService()
    running = echo.app.start(node(nodes, secure_bus, PROVIDER))
    try:
        url = secure_bus.password_url(CLIENT, tls=True)
        client = Client(node=node(nodes, secure_bus, CLIENT, url))
        assert client.call(PROVIDER, ECHO, Ping(text="by password"), timeout=10).text == "by password"
        assert login_of(secure_bus, CLIENT, "PLAIN ssl=True", since) == "PLAIN ssl=True"
    finally:
        running.stop()


def test_a_notification_and_its_receipt(secure_bus: SecureBus, nodes: list[Node]) -> None:
    subscriber, seen = fund(FUND)
    running = subscriber.start(node(nodes, secure_bus, FUND))
    try:
        notifier = Client(node=node(nodes, secure_bus, NOTIFIER))
        result = notifier.notify(NOTE, Ping(text="deceased"), timeout=10)
        assert seen == ["deceased"]
        assert [str(r.subscriber) for r in result.receipts] == [FUND]
    finally:
        running.stop()


def test_a_revoked_participant_loses_its_broker_access(secure_bus: SecureBus, nodes: list[Node]) -> None:
    home, client = secure_bus.home, ParticipantId.parse(CLIENT)
    connection = secure_bus.raw_external(home.participant_cert(client), home.participant_key(client))
    secure_bus.authority.revoke(client)
    try:
        output = secure_bus.provision()
        assert f"removed: {CLIENT}" in output
        # its open connection is closed by the broker ...
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            connection.channel()
            connection.process_data_events(2)
        # ... and it cannot log in again, by certificate or by password
        with pytest.raises(pika.exceptions.AMQPConnectionError) as refused:
            secure_bus.raw_external(home.participant_cert(client), home.participant_key(client))
        assert "ACCESS_REFUSED" in str(refused.value) or "403" in str(refused.value)
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            secure_bus.raw(CLIENT)
    finally:
        secure_bus.authority.issue(client, force=True)
        secure_bus.provision()
