"""A handler's direct reply and its delivery's settlement reach the broker together, reply first.

The RabbitMQ transport hands a reply made by the handler of a delivery to its I/O thread with that
delivery's settlement (one wake-up instead of two); these tests pin what callers see: the reply always
arrives, whatever the settlement, and an explicit settlement inside the handler sends it at once.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from bus.transport import Delivery, OutgoingMessage, Transport
from tests.transport.conftest import SERVICE, Bus, wait_for


def _request(client: Transport, body: bytes, timeout: float = 15) -> bytes:
    return client.request(SERVICE, OutgoingMessage(body, message_id=uuid.uuid4().hex), timeout=timeout).body


def test_reply_of_a_handler_that_fails_afterwards_still_arrives_and_the_message_is_dead_lettered(
    bus: Bus,
) -> None:
    provider, client = bus.connect(), bus.connect()
    queue = bus.service(provider)
    dead_letters = provider.topology.dead_letter_queue(queue)

    def answer_then_fail(delivery: Delivery) -> None:
        provider.reply(delivery, OutgoingMessage(b"<answered/>", message_id=uuid.uuid4().hex))
        raise RuntimeError("after the reply")

    with provider.consume(queue, answer_then_fail):
        assert _request(client, b"<q/>") == b"<answered/>"
        wait_for(lambda: provider.queue_depth(dead_letters) == 1, what="the rejected request dead-lettered")
    assert provider.queue_depth(queue) == 0


def test_settling_inside_the_handler_sends_the_reply_before_the_handler_returns(bus: Bus) -> None:
    provider, client = bus.connect(), bus.connect()
    queue = bus.service(provider)
    replied = threading.Event()
    handler_done = threading.Event()

    def answer_ack_then_wait(delivery: Delivery) -> None:
        provider.reply(delivery, OutgoingMessage(b"<early/>", message_id=uuid.uuid4().hex))
        delivery.ack()
        replied.wait(15)  # the caller has the reply while this handler still runs
        handler_done.set()

    with provider.consume(queue, answer_ack_then_wait):
        assert _request(client, b"<q/>") == b"<early/>"
        assert not handler_done.is_set()
        replied.set()
        wait_for(handler_done.is_set, what="the handler to finish")
    assert provider.queue_depth(queue) == 0


@pytest.mark.parametrize("calls", [20])
def test_every_reply_of_concurrent_handlers_goes_to_its_own_caller(bus: Bus, calls: int) -> None:
    provider, client = bus.connect(), bus.connect()
    queue = bus.service(provider)

    def echo(delivery: Delivery) -> None:
        provider.reply(
            delivery, OutgoingMessage(b"<r>" + delivery.body + b"</r>", message_id=uuid.uuid4().hex)
        )

    results: dict[int, bytes] = {}

    def caller(n: int) -> None:
        results[n] = _request(client, f"<q>{n}</q>".encode())

    with provider.consume(queue, echo, concurrency=4):
        threads = [threading.Thread(target=caller, args=(n,)) for n in range(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert results == {n: f"<r><q>{n}</q></r>".encode() for n in range(calls)}
