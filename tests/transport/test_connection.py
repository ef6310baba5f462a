"""Connection-level behaviour: unreachable brokers, forced reconnections, handlers slower than heartbeats."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

from bus.faults import Fault, FaultCode
from bus.transport import Delivery, OutgoingMessage, connect, mask_url
from bus.transport.rabbitmq import RabbitMQTransport
from tests.transport.conftest import SERVICE, Bus, wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_broker_is_a_clear_fault_with_the_password_masked() -> None:
    url = f"amqp://agency:s3cret@127.0.0.1:{free_port()}/"
    with pytest.raises(Fault) as caught:
        connect(url, connect_attempts=2)
    assert caught.value.code is FaultCode.BROKER_UNAVAILABLE
    assert "s3cret" not in str(caught.value)
    assert f"amqp://agency:***@127.0.0.1:{url.split(':')[3].split('/')[0]}/" in caught.value.reason


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown broker URL scheme"):
        connect("kafka://user:pw@host/")
    assert mask_url("amqps://u:pw@h:5671/v") == "amqps://u:***@h:5671/v"
    assert mask_url("memory://demo") == "memory://demo"


@pytest.mark.rabbitmq
def test_consumer_resumes_after_the_broker_closes_its_connection(rabbit_bus: Bus) -> None:
    consumer_side, publisher = rabbit_bus.connect(), rabbit_bus.connect()
    assert isinstance(consumer_side, RabbitMQTransport)
    queue = rabbit_bus.service(consumer_side)
    holding, release = threading.Event(), threading.Event()
    seen: list[tuple[str, bool]] = []

    def handler(delivery: Delivery) -> None:
        seen.append((delivery.message_id or "", delivery.redelivered))
        if delivery.message_id == "held" and not delivery.redelivered:
            holding.set()
            release.wait(30)

    with consumer_side.consume(queue, handler, concurrency=1):
        publisher.publish("", queue, OutgoingMessage(b"<x/>", message_id="held"))
        assert holding.wait(15)
        assert rabbit_bus.close_connections() == 2
        wait_for(lambda: consumer_side.reconnections >= 1, what="the consumer's reconnection")
        release.set()  # its ack goes nowhere: the broker redelivers the message on the new connection
        publisher.publish("", queue, OutgoingMessage(b"<x/>", message_id="after"))
        wait_for(lambda: ("held", True) in seen and ("after", False) in seen, what="redelivery and new work")
    wait_for(lambda: consumer_side.queue_depth(queue) == 0, what="an empty queue")


@pytest.mark.rabbitmq
def test_publisher_and_requests_go_through_after_a_forced_close(rabbit_bus: Bus) -> None:
    provider, client = rabbit_bus.connect(), rabbit_bus.connect()
    assert isinstance(client, RabbitMQTransport)
    queue = rabbit_bus.service(provider)

    def answer(delivery: Delivery) -> None:
        provider.reply(delivery, OutgoingMessage(b"<ok/>", message_id=uuid.uuid4().hex))

    with provider.consume(queue, answer):
        assert (
            client.request(SERVICE, OutgoingMessage(b"<q/>", message_id="before"), timeout=15).body
            == b"<ok/>"
        )
        assert rabbit_bus.close_connections() == 2
        wait_for(lambda: client.reconnections >= 1, what="the client's reconnection")
        client.publish("", queue, OutgoingMessage(b"<x/>", message_id="published-after"))
        reply = client.request(SERVICE, OutgoingMessage(b"<q/>", message_id="after"), timeout=15)
        assert reply.correlation_id == "after"


@pytest.mark.rabbitmq
def test_a_publish_during_the_outage_is_delivered_once_reconnected(rabbit_bus: Bus) -> None:
    publisher = rabbit_bus.connect()
    assert isinstance(publisher, RabbitMQTransport)
    queue = rabbit_bus.service(publisher)
    results: list[BaseException | None] = []
    assert rabbit_bus.close_connections() == 1
    start = time.monotonic()

    def publish_now() -> None:
        try:
            publisher.publish("", queue, OutgoingMessage(b"<x/>", message_id="during"))
            results.append(None)
        except BaseException as error:
            results.append(error)

    for _ in range(20):  # publishes racing the close: each is retried on the new connection
        publish_now()
    assert results == [None] * 20
    assert time.monotonic() - start < 30
    wait_for(lambda: publisher.reconnections >= 1, what="the publisher's reconnection")
    assert publisher.queue_depth(queue) >= 20


@pytest.mark.rabbitmq
def test_a_handler_slower_than_the_heartbeat_keeps_its_connection(rabbit_bus: Bus) -> None:
    transport = rabbit_bus.connect(heartbeat=2)
    assert isinstance(transport, RabbitMQTransport)
    queue = rabbit_bus.service(transport)
    deliveries: list[Delivery] = []

    def slow(delivery: Delivery) -> None:
        deliveries.append(delivery)
        time.sleep(7)  # > 3 heartbeats: a blocked I/O thread would certainly miss two

    with transport.consume(queue, slow, concurrency=1):
        transport.publish("", queue, OutgoingMessage(b"<slow/>", message_id="slow"))
        wait_for(lambda: deliveries and deliveries[0].settlement == "ack", timeout=30, what="the ack")
        time.sleep(1)
    assert [d.redelivered for d in deliveries] == [False]
    assert transport.reconnections == 0
    assert transport.queue_depth(queue) == 0
    assert transport.get(queue) is None
