"""Consumers with concurrency INLINE (0): the handler runs on the thread that receives the deliveries;
and receipts whose confirm settles the notification they answer (``answer_to_inbox``).

On RabbitMQ that is the connection's I/O thread: no hand-over to a worker and back. These tests pin what a
provider sees: replies (direct or to a reply queue) arrive and settlements are kept; a handler that
would wait for the broker from that thread gets a clear error instead of hanging the connection, and
its message is dead-lettered, not lost.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from bus.transport import INLINE, Delivery, OutgoingMessage, Settlement
from bus.transport.base import Message
from bus.transport.rabbitmq import RabbitMQTransport
from tests.transport.conftest import NOTICE, SERVICE, Bus, wait_for


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


NOTIFIER = "MA/COM/RABAT/etat-civil"
FUND = "MA/GOV/CMR/pensions"


@pytest.mark.parametrize("concurrency", [INLINE, 2])
def test_a_receipt_is_sent_and_its_notification_acked_once_the_broker_confirmed_it(
    bus: Bus, concurrency: int
) -> None:
    """``answer_to_inbox`` returns at once; the notification leaves its queue once the receipt is in
    the notifier's inbox (the transport acks it on the receipt's confirm)."""
    subscriber, notifier = bus.connect(), bus.connect()
    queue = bus.subscription(subscriber, FUND)
    inbox = bus.inbox(notifier, NOTIFIER)
    receipts: list[bytes] = []

    def answer(delivery: Delivery) -> None:
        receipt = OutgoingMessage(b"<receipt>" + delivery.body + b"</receipt>", message_id=uuid.uuid4().hex)
        subscriber.answer_to_inbox(delivery, NOTIFIER, receipt)
        delivery.ack()  # handed over: does nothing

    def take(delivery: Delivery) -> None:
        receipts.append(delivery.body)

    with subscriber.consume(queue, answer, concurrency=concurrency), notifier.consume(inbox, take):
        for index in range(10):
            notifier.notify(NOTICE, OutgoingMessage(f"<n>{index}</n>".encode(), message_id=uuid.uuid4().hex))
        wait_for(lambda: len(receipts) == 10, what="ten receipts in the inbox")
        wait_for(lambda: subscriber.queue_depth(queue) == 0, what="every notification acked")
    assert sorted(receipts) == sorted(f"<receipt><n>{i}</n></receipt>".encode() for i in range(10))
    assert subscriber.queue_depth(queue) == 0  # nothing came back unacknowledged


def test_a_receipt_nobody_can_take_is_logged_and_its_notification_still_acked(bus: Bus) -> None:
    subscriber, notifier = bus.connect(), bus.connect()
    queue = bus.subscription(subscriber, FUND)
    handled = threading.Event()

    def answer(delivery: Delivery) -> None:  # the notifier has no inbox: the receipt is unroutable
        subscriber.answer_to_inbox(delivery, "MA/GOV/NOBODY/x", OutgoingMessage(b"<r/>", message_id="r1"))
        handled.set()

    with subscriber.consume(queue, answer, concurrency=INLINE):
        notifier.notify(NOTICE, OutgoingMessage(b"<n/>", message_id="n1"))
        assert handled.wait(15)
        wait_for(lambda: subscriber.queue_depth(queue) == 0, what="the notification acked")
    dead_letters = subscriber.topology.dead_letter_queue(queue)
    assert subscriber.queue_depth(dead_letters) == 0


def test_a_handed_over_delivery_is_settled_once_by_its_new_owner() -> None:
    settled: list[Settlement] = []
    message = Message(
        b"<x/>", "m", None, None, {}, exchange="", routing_key="q", redelivered=False, delivery_count=0
    )
    delivery = Delivery(message, "q", settled.append)
    settle = delivery.settle_later()
    delivery.ack()
    delivery.reject()
    assert settled == []
    settle(Settlement.REQUEUE)
    settle(Settlement.ACK)
    assert settled == [Settlement.REQUEUE]
    with pytest.raises(RuntimeError):
        delivery.settle_later()
