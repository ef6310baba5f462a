"""Publishing and consuming on both brokers: confirms, routing, settlement, fan-out, batches."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from bus.faults import Fault, FaultCode
from bus.transport import Delivery, OutgoingMessage, Publication, TopologyError
from tests.transport.conftest import NOTICE, SERVICE, Bus, wait_for


def message(body: bytes = b"<x/>", **fields: object) -> OutgoingMessage:
    return OutgoingMessage(body, message_id=uuid.uuid4().hex, **fields)  # type: ignore[arg-type]


def test_publish_consume_ack(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    received: list[Delivery] = []
    sent = [message(f"<m n='{i}'/>".encode(), headers={"x-govbus-kind": "request"}) for i in range(10)]
    with transport.consume(queue, received.append, prefetch=4, concurrency=2):
        for item in sent:
            transport.publish(transport.topology.requests_exchange, SERVICE, item)
        wait_for(lambda: len(received) == 10, what="10 deliveries")
        wait_for(lambda: all(d.settlement == "ack" for d in received), what="acks")
    assert sorted(d.message_id for d in received) == sorted(m.message_id for m in sent)
    first = next(d for d in received if d.message_id == sent[0].message_id)
    assert first.body == sent[0].body
    assert first.headers["x-govbus-kind"] == "request"
    assert first.routing_key == SERVICE
    assert (first.redelivered, first.delivery_count) == (False, 0)
    assert transport.queue_depth(queue) == 0
    assert transport.get(queue) is None


def test_unroutable_publishes_raise(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    for exchange, routing_key in [
        (transport.topology.requests_exchange, "MA/GOV/NOBODY/x/none/v1"),
        ("", f"{bus.prefix}.no-such-queue"),
        (f"{bus.prefix}.no-such-exchange", SERVICE),
    ]:
        with pytest.raises(Fault) as caught:
            transport.publish(exchange, routing_key, message())
        assert caught.value.code is FaultCode.UNROUTABLE
    transport.publish(
        transport.topology.requests_exchange, "MA/GOV/NOBODY/x/none/v1", message(), mandatory=False
    )
    transport.publish(transport.topology.requests_exchange, SERVICE, message())
    assert transport.queue_depth(queue) == 1


def test_settlement_from_the_handler_and_from_get(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    transport.publish("", queue, message(b"<first/>"))
    first = transport.get(queue)
    assert first is not None and first.body == b"<first/>"
    assert transport.get(queue) is None
    first.requeue()
    again = wait_for(lambda: transport.get(queue), what="the requeued message")
    assert (again.message_id, again.redelivered, again.delivery_count) == (first.message_id, True, 1)
    again.reject()
    wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the rejected message in the DLQ")
    again.ack()  # a second settlement is ignored
    assert again.settlement == "reject"


def test_handler_may_settle_itself(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    seen: list[str] = []

    def handler(delivery: Delivery) -> None:
        seen.append(delivery.body.decode())
        if delivery.body == b"<refuse/>":
            delivery.reject()
        else:
            delivery.ack()

    with transport.consume(queue, handler):
        transport.publish("", queue, message(b"<refuse/>"))
        transport.publish("", queue, message(b"<take/>"))
        wait_for(lambda: len(seen) == 2, what="two deliveries")
    dead_letters = transport.topology.dead_letter_queue(queue)
    wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the refused message in the DLQ")
    assert transport.queue_depth(queue) == 0


def test_competing_consumers_share_the_work(bus: Bus) -> None:
    first, second = bus.connect(), bus.connect()
    queue = bus.service(first)
    by_consumer: dict[str, list[str]] = {"first": [], "second": []}

    def worker(name: str):
        def handle(delivery: Delivery) -> None:
            time.sleep(0.05)
            by_consumer[name].append(delivery.message_id or "")

        return handle

    with (
        first.consume(queue, worker("first"), prefetch=1, concurrency=1),
        second.consume(queue, worker("second"), prefetch=1, concurrency=1),
    ):
        for _ in range(20):
            first.publish("", queue, message())
        wait_for(lambda: sum(map(len, by_consumer.values())) == 20, what="20 deliveries")
    assert by_consumer["first"] and by_consumer["second"]
    assert len(set(by_consumer["first"]) | set(by_consumer["second"])) == 20


def test_notification_fans_out_to_every_subscriber(bus: Bus) -> None:
    transport = bus.connect()
    with pytest.raises(Fault) as caught:
        transport.notify(NOTICE, message())  # nobody subscribed yet, not even the exchange exists
    assert caught.value.code is FaultCode.UNROUTABLE
    funds = ["MA/GOV/CMR/pensions", "MA/GOV/CNSS/pensions", "MA/GOV/RCAR/pensions"]
    queues = [bus.subscription(transport, fund) for fund in funds]
    bus.subscription(transport, "MA/GOV/CIMR/pensions", "MA/COM/RABAT/etat-civil/birth.notice/v1")
    notice = message(b"<deces/>")
    transport.notify(NOTICE, notice)
    for queue in queues:
        delivery = wait_for(lambda queue=queue: transport.get(queue), what=f"the notice in {queue}")
        assert (delivery.message_id, delivery.body) == (notice.message_id, b"<deces/>")
        delivery.ack()
    other = transport.topology.subscription_queue(
        "MA/GOV/CIMR/pensions", "MA/COM/RABAT/etat-civil/birth.notice/v1"
    )
    assert transport.queue_depth(other) == 0


def test_receipts_land_in_the_durable_inbox(bus: Bus) -> None:
    transport = bus.connect()
    inbox = bus.inbox(transport, "MA/COM/RABAT/etat-civil")
    receipt = message(b"<receipt/>", correlation_id="notice-1")
    transport.send_to_inbox("MA/COM/RABAT/etat-civil", receipt)
    delivery = wait_for(lambda: transport.get(inbox), what="the receipt")
    assert (delivery.message_id, delivery.correlation_id) == (receipt.message_id, "notice-1")
    delivery.ack()
    with pytest.raises(Fault) as caught:
        transport.send_to_inbox("MA/GOV/UNKNOWN/nobody", message())
    assert caught.value.code is FaultCode.UNROUTABLE


def test_publish_many_confirms_each_message(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    exchange = transport.topology.requests_exchange
    batch = [Publication(exchange, SERVICE, message()) for _ in range(600)]
    batch[300] = Publication(exchange, "MA/GOV/NOBODY/x/none/v1", message())
    results = transport.publish_many(batch, window=64)
    assert len(results) == 600
    assert isinstance(results[300], Fault) and results[300].code is FaultCode.UNROUTABLE
    assert results[:300] == [None] * 300 and results[301:] == [None] * 299
    assert transport.queue_depth(queue) == 599


def test_one_transport_serves_many_threads(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            for _ in range(40):
                transport.publish("", queue, message())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=publisher) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert transport.queue_depth(queue) == 320


def test_cancel_returns_unsettled_messages(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    started, release = threading.Event(), threading.Event()

    def slow(delivery: Delivery) -> None:
        started.set()
        release.wait(10)

    consumer = transport.consume(queue, slow, prefetch=5, concurrency=1)
    for _ in range(3):
        transport.publish("", queue, message())
    assert started.wait(10)
    threading.Timer(0.3, release.set).start()
    consumer.cancel()
    assert not consumer.active
    # One message was handled and acked; the two prefetched behind it went back to the queue.
    wait_for(lambda: transport.queue_depth(queue) == 2, what="two messages back in the queue")
    returned = transport.get(queue)
    assert returned is not None and returned.redelivered
    returned.ack()


def test_missing_queues_are_topology_errors(bus: Bus) -> None:
    transport = bus.connect()
    missing = f"{bus.prefix}.svc.missing"
    with pytest.raises(TopologyError):
        transport.consume(missing, lambda delivery: None)
    with pytest.raises(TopologyError):
        transport.queue_depth(missing)
    with pytest.raises(TopologyError):
        transport.get(missing)
    queue = bus.service(transport)
    transport.publish("", queue, message())
    assert transport.queue_depth(queue) == 1


def test_closed_transport_refuses_work(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    transport.close()
    with pytest.raises(Fault) as caught:
        transport.publish("", queue, message())
    assert caught.value.code is FaultCode.BROKER_UNAVAILABLE
    transport.close()


def test_requeued_messages_come_first_in_the_order_returned(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    for name in "ABC":
        transport.publish("", queue, message(f"<{name}/>".encode()))
    first, second = transport.get(queue), transport.get(queue)
    assert first is not None and second is not None
    second.requeue()
    first.requeue()
    order = []
    for _ in range(3):
        delivery = wait_for(lambda: transport.get(queue), what="a message")
        order.append(delivery.body)
        delivery.ack()
    assert order == [b"<B/>", b"<A/>", b"<C/>"]  # as RabbitMQ 3.10 quorum queues with a delivery limit


def test_deleting_the_queue_cancels_its_consumer(bus: Bus) -> None:
    transport = bus.connect()
    queue = bus.service(transport)
    consumer = transport.consume(queue, lambda delivery: None)
    assert consumer.active
    transport.delete_queue(queue)
    wait_for(lambda: not consumer.active, what="the consumer's cancellation")
    consumer.cancel()
