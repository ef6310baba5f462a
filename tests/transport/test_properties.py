"""Forged AMQP properties and headers (issue 12 item 4), on the embedded broker and on RabbitMQ.

Every message reaches its consumer: a property or header of the wrong type or size is treated as
absent and named in ``Message.anomalies``; a content-encoding or charset govbus does not read refuses
the message (``Message.refusal``); nothing is dead-lettered silently, nothing raises.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal
from typing import Any

import pytest
import structlog

from bus.faults import FaultCode
from bus.logging import configure_logging
from bus.transport import Delivery
from bus.transport.properties import received
from tests.transport.conftest import Bus, wait_for
from tests.transport.forge import forge

BODY = b"<Envelope>request</Envelope>"


def _deliver(bus: Bus, **properties: Any) -> Delivery:
    """Forge one message onto a fresh service queue; return what the consumer got (it acks)."""
    transport = bus.connect()
    queue = bus.service(transport)
    got: list[Delivery] = []
    done = threading.Event()

    def handler(delivery: Delivery) -> None:
        got.append(delivery)
        done.set()

    with transport.consume(queue, handler, prefetch=4, concurrency=1):
        forge(transport, bus.url, queue, BODY, **properties)
        assert done.wait(15), "the forged message never reached the consumer"
        dead_letters = transport.topology.dead_letter_queue(queue)
        assert transport.queue_depth(dead_letters) == 0
    return got[0]


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"x-delivery-count": "abc"}, "x-delivery-count"),
        ({"x-delivery-count": -1}, "x-delivery-count"),
        ({"x-delivery-count": 2**62}, "x-delivery-count"),
        ({"x-delivery-count": True}, "x-delivery-count"),
        ({"x-delivery-count": Decimal("1.5")}, "x-delivery-count"),
        ({"x-delivery-count": ["1"]}, "x-delivery-count"),
        ({"x-death": "abc"}, "x-death"),
        ({"x-death": [1, "two"]}, "x-death"),
        ({"x-death": [{"count": "many", "queue": "q", "reason": "rejected"}]}, "x-death"),
        ({"x-first-death-reason": 7}, "x-first-death-reason"),
        ({"x-first-death-queue": "\x1b[2Jq"}, "x-first-death-queue"),
    ],
)
def test_a_header_govbus_reads_with_a_wrong_type_or_value_is_ignored(
    bus: Bus, headers: dict[str, Any], named: str
) -> None:
    delivery = _deliver(bus, message_id="m-1", headers=headers)
    assert delivery.delivery_count == 0
    assert named in delivery.message.anomalies
    assert named not in delivery.headers
    assert delivery.refusal is None
    assert delivery.body == BODY
    assert delivery.settlement is not None and delivery.settlement.value == "ack"


def test_a_forged_delivery_count_within_bounds_is_read_as_sent(bus: Bus) -> None:
    delivery = _deliver(bus, message_id="m-2", headers={"x-delivery-count": 3, "other": b"\xff"})
    assert delivery.delivery_count == 3
    assert delivery.message.anomalies == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("message_id", "\x1b]0;owned\x07"),
        ("correlation_id", "x" * 254 + "\x00"),
        ("reply_to", "line\nbreak"),
        ("content_type", "\t"),
    ],
)
def test_an_id_or_address_with_control_characters_is_treated_as_absent(
    bus: Bus, name: str, value: str
) -> None:
    properties: dict[str, Any] = {"message_id": "m-3", name: value}
    delivery = _deliver(bus, **properties)
    assert getattr(delivery.message, name) is None
    assert name in delivery.message.anomalies


def test_an_id_that_is_not_utf8_is_treated_as_absent(bus: Bus) -> None:
    if bus.rabbitmq:  # pika hands over bytes for a short string that is not UTF-8
        delivery = _deliver(bus, message_id=b"\xff\xfe\xfd", correlation_id=b"\xc3")
    else:
        delivery = _deliver(bus, message_id=b"\xff\xfe\xfd", correlation_id=12345)
    assert delivery.message_id is None and delivery.correlation_id is None
    assert set(delivery.message.anomalies) == {"message_id", "correlation_id"}


@pytest.mark.parametrize(
    "properties",
    [
        {"content_encoding": "gzip"},
        {"content_encoding": "utf-16"},
        {"content_type": "application/xml; charset=ISO-8859-1"},
        {"content_type": 'text/xml; charset="utf-16"'},
    ],
)
def test_an_encoding_govbus_does_not_read_refuses_the_message(bus: Bus, properties: dict[str, Any]) -> None:
    delivery = _deliver(bus, message_id="m-4", **properties)
    assert delivery.refusal is not None
    assert delivery.refusal.code is FaultCode.MALFORMED_MESSAGE


@pytest.mark.parametrize(
    "properties",
    [
        {"content_encoding": "identity"},
        {"content_encoding": "UTF-8"},
        {"content_type": "application/xml; charset=utf-8"},
        {"content_type": "application/xml"},
    ],
)
def test_identity_and_utf8_are_accepted(bus: Bus, properties: dict[str, Any]) -> None:
    delivery = _deliver(bus, message_id="m-5", **properties)
    assert delivery.refusal is None and delivery.message.anomalies == ()


def test_a_handler_traceback_carries_no_message_content(bus: Bus) -> None:
    """A failing handler is logged with its traceback, but no frame's locals (they hold the body)."""
    secret = b"<Envelope>SECRET-CONTENT-4242</Envelope>"
    transport = bus.connect()
    queue = bus.service(transport)
    stream = io.StringIO()
    saved = structlog.get_config()
    configure_logging("INFO", stream=stream)
    try:

        def handler(delivery: Delivery) -> None:
            body = delivery.body
            raise RuntimeError(f"cannot handle {len(body)} bytes")

        with transport.consume(queue, handler, prefetch=1, concurrency=1):
            forge(transport, bus.url, queue, secret, message_id="m-6")
            dead_letters = transport.topology.dead_letter_queue(queue)
            wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the dead letter")
            wait_for(lambda: "handler failed" in stream.getvalue(), what="the log line")
    finally:
        structlog.configure(**saved)
    logged = stream.getvalue()
    assert "RuntimeError" in logged and "cannot handle" in logged
    assert "SECRET-CONTENT" not in logged


def test_an_oversized_body_is_refused_and_not_kept() -> None:
    message = received(
        b"x" * 101,
        message_id="m",
        correlation_id=None,
        reply_to=None,
        content_type=None,
        headers=None,
        exchange="",
        routing_key="q",
        redelivered=False,
        max_bytes=100,
    )
    assert message.body == b""
    assert message.refusal is not None and message.refusal.code is FaultCode.OVERSIZED_MESSAGE


def test_the_consumer_limit_is_the_envelope_limit() -> None:
    from bus.transport.properties import DEFAULT_MAX_MESSAGE_BYTES
    from bus.xml import DEFAULT_MAX_BYTES

    assert DEFAULT_MAX_MESSAGE_BYTES == DEFAULT_MAX_BYTES


def test_a_consumer_refuses_an_oversized_body_on_arrival_without_keeping_it(bus: Bus) -> None:
    transport = bus.connect(max_message_bytes=1000)
    queue = bus.service(transport)
    got: dict[str, Delivery] = {}

    def handler(delivery: Delivery) -> None:
        assert delivery.message_id is not None
        got[delivery.message_id] = delivery
        if delivery.refusal is not None:
            delivery.reject()

    sizes = {"fits": 1000, "over": 1001, "far-over": 200_000}
    with transport.consume(queue, handler, prefetch=8, concurrency=2):
        for message_id, size in sizes.items():
            forge(transport, bus.url, queue, b"x" * size, message_id=message_id)
        wait_for(lambda: len(got) == 3, what="three deliveries")
        dead_letters = transport.topology.dead_letter_queue(queue)
        wait_for(lambda: transport.queue_depth(dead_letters) == 2, what="two dead letters")
    assert got["fits"].body == b"x" * 1000 and got["fits"].refusal is None
    for message_id in ("over", "far-over"):
        refusal = got[message_id].refusal
        assert got[message_id].body == b""
        assert refusal is not None and refusal.code is FaultCode.OVERSIZED_MESSAGE
        assert str(sizes[message_id]) in refusal.reason
    kept = transport.get(dead_letters)
    assert kept is not None and len(kept.body) in (1001, 200_000)  # get() has no limit: the DLQ keeps all
    kept.requeue()


@pytest.mark.parametrize("value", ["x" * 256, "", 7, ["id"], b"id"])
def test_ids_longer_than_a_short_string_or_not_text_are_treated_as_absent(value: object) -> None:
    """What RabbitMQ cannot carry (over 255 bytes) the embedded broker could: both are refused alike."""
    message = received(
        b"",
        message_id=value,
        correlation_id=value,
        reply_to=value,
        content_type=None,
        headers=None,
        exchange="",
        routing_key="q",
        redelivered=False,
    )
    assert (message.message_id, message.correlation_id, message.reply_to) == (None, None, None)
    assert message.anomalies == ("message_id", "correlation_id", "reply_to")
