"""Poison messages, delivery limits and expiry all end in the per-queue dead-letter queue."""

from __future__ import annotations

import threading
import uuid

from bus.transport import Delivery, OutgoingMessage
from tests.transport.conftest import SERVICE, Bus, wait_for


def first_death(delivery: Delivery) -> str:
    return str(delivery.headers["x-first-death-reason"])


def test_a_failing_handler_dead_letters_the_message_and_keeps_serving(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    served: list[bytes] = []

    def handler(delivery: Delivery) -> None:
        if delivery.body == b"<poison/>":
            raise ValueError("cannot handle this")
        served.append(delivery.body)

    with transport.consume(queue, handler, concurrency=1):
        transport.publish("", queue, OutgoingMessage(b"<poison/>", message_id="poison"))
        for n in range(3):
            transport.publish("", queue, OutgoingMessage(f"<ok n='{n}'/>".encode(), message_id=f"ok-{n}"))
        wait_for(lambda: len(served) == 3, what="the good messages")
        wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the poison message in the DLQ")
    dead = transport.get(dead_letters)
    assert dead is not None
    assert (dead.message_id, dead.body, first_death(dead)) == ("poison", b"<poison/>", "rejected")
    dead.ack()
    assert transport.queue_depth(queue) == 0


def test_requeued_past_the_delivery_limit_lands_in_the_dlq(bus: Bus) -> None:
    transport = bus.connect(delivery_limit=2)
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    seen: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def always_requeue(delivery: Delivery) -> None:
        with lock:
            seen.append((delivery.redelivered, delivery.delivery_count))
        delivery.requeue()

    with transport.consume(queue, always_requeue, prefetch=1, concurrency=1):
        transport.publish("", queue, OutgoingMessage(b"<again/>", message_id="again"))
        wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the message in the DLQ")
    assert seen == [(False, 0), (True, 1), (True, 2)]
    dead = transport.get(dead_letters)
    assert dead is not None and (dead.message_id, first_death(dead)) == ("again", "delivery_limit")
    dead.ack()


def test_expired_messages_are_dead_lettered_without_a_consumer(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    transport.publish(
        transport.topology.requests_exchange,
        SERVICE,
        OutgoingMessage(b"<late/>", message_id="late", expiration_ms=200),
    )
    transport.publish("", queue, OutgoingMessage(b"<fresh/>", message_id="fresh", expiration_ms=600_000))
    wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the expired message in the DLQ")
    dead = transport.get(dead_letters)
    assert dead is not None and (dead.message_id, first_death(dead)) == ("late", "expired")
    dead.ack()
    fresh = transport.get(queue)
    assert fresh is not None and fresh.message_id == "fresh"
    fresh.ack()


def test_dead_letters_are_kept_per_queue(bus: Bus) -> None:
    transport = bus.connect()
    other = "MA/GOV/CNSS/attestations/cnss.affiliation/v1"
    queues = [bus.service(transport), bus.service(transport, other)]
    for queue in queues:
        transport.publish("", queue, OutgoingMessage(b"<x/>", message_id=uuid.uuid4().hex))
        delivery = transport.get(queue)
        assert delivery is not None
        delivery.reject()
    for queue in queues:
        dead_letters = transport.topology.dead_letter_queue(queue)
        wait_for(
            lambda dlq=dead_letters: transport.queue_depth(dlq) == 1, what=f"one message in {dead_letters}"
        )
