"""Publishing messages with forged AMQP properties, as an attacker with publish rights would.

On RabbitMQ with raw pika (no govbus code on the sending side); on the embedded broker through a
transport, with the forged values set past ``OutgoingMessage``'s own checks.
"""

from __future__ import annotations

from typing import Any

import pika

from bus.transport import OutgoingMessage, Transport
from bus.transport.memory import MemoryTransport

_FIELDS = ("message_id", "correlation_id", "reply_to", "content_type", "content_encoding")


def forge(transport: Transport, url: str, queue: str, body: bytes, **properties: Any) -> None:
    """Publish ``body`` straight to ``queue`` with exactly these properties (``headers`` included)."""
    if isinstance(transport, MemoryTransport):
        message = OutgoingMessage(body, message_id="placeholder")
        for name in ("headers", *_FIELDS):
            object.__setattr__(message, name, properties.get(name))
        if message.headers is None:
            object.__setattr__(message, "headers", {})
        transport.broker.publish("", queue, message, mandatory=True)
        return
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "", queue, body, pika.BasicProperties(delivery_mode=2, **properties), mandatory=True
        )
    finally:
        connection.close()
