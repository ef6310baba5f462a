"""Consumers with concurrency INLINE (0): the handler runs on the thread that receives the deliveries.

On RabbitMQ that is the connection's I/O thread: no hand-over to a worker and back. These tests pin what a
provider sees: replies (direct or to a reply queue) arrive and settlements are kept; a handler that
would wait for the broker from that thread gets a clear error instead of hanging the connection, and
its message is dead-lettered, not lost.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from bus.transport import INLINE, Delivery, OutgoingMessage
from bus.transport.rabbitmq import RabbitMQTransport
from tests.transport.conftest import SERVICE, Bus, wait_for


@pytest.mark.parametrize("reply_mode", ["direct", "queue"])
def test_an_inline_handler_answers_every_call(bus: Bus, reply_mode: str) -> None:
    provider, client = bus.connect(), bus.connect(reply_mode=reply_mode)
    queue = bus.service(provider)
    threads: set[str] = set()

    def answer(delivery: Delivery) -> None:
        threads.add(threading.current_thread().name)
        provider.reply(
            delivery, OutgoingMessage(b"<ok>" + delivery.body + b"</ok>", message_id=uuid.uuid4().hex)
        )

    with provider.consume(queue, answer, concurrency=INLINE):
        for index in range(20):
            body = f"<n>{index}</n>".encode()
            reply = client.request(SERVICE, OutgoingMessage(body, message_id=uuid.uuid4().hex), timeout=15)
            assert reply.body == b"<ok>" + body + b"</ok>"
        wait_for(lambda: provider.queue_depth(queue) == 0, what="every request acknowledged")
    if isinstance(provider, RabbitMQTransport):
        assert threads == {"govbus-amqp-io"}  # no worker thread was used
    else:
        assert len(threads) == 1  # the embedded broker runs an inline consumer on one thread


def test_an_inline_handler_waiting_for_the_broker_is_refused_and_its_message_dead_lettered(
    rabbit_bus: Bus,
) -> None:
    provider, client = rabbit_bus.connect(), rabbit_bus.connect()
    queue = rabbit_bus.service(provider)
    dead_letters = provider.topology.dead_letter_queue(queue)
    errors: list[BaseException] = []

    def publish_inside(delivery: Delivery) -> None:
        try:
            provider.publish("", queue, OutgoingMessage(b"<again/>", message_id=uuid.uuid4().hex))
        except RuntimeError as error:
            errors.append(error)
            raise

    with provider.consume(queue, publish_inside, concurrency=INLINE):
        client.publish(
            provider.topology.requests_exchange, SERVICE, OutgoingMessage(b"<q/>", message_id="m1")
        )
        wait_for(lambda: provider.queue_depth(dead_letters) == 1, what="the message dead-lettered")
        # the connection survived: the same consumer still takes messages
        client.publish(
            provider.topology.requests_exchange, SERVICE, OutgoingMessage(b"<q/>", message_id="m2")
        )
        wait_for(lambda: provider.queue_depth(dead_letters) == 2, what="the second message dead-lettered")
    assert len(errors) == 2
    assert "concurrency >= 1" in str(errors[0])
    assert provider.queue_depth(queue) == 0


def test_inline_is_a_valid_concurrency_and_a_negative_one_is_not(bus: Bus) -> None:
    provider = bus.connect()
    queue = bus.service(provider)
    with pytest.raises(ValueError, match="concurrency >= 0"):
        provider.consume(queue, lambda delivery: None, concurrency=-1)
