"""Byte-level message transport: one interface, an embedded broker and RabbitMQ.

``connect("memory://")`` gives the in-process broker (the default for demos and handler tests);
``connect("amqp://user:pass@host:5672/vhost")`` or ``amqps://`` gives RabbitMQ through pika.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bus.transport.base import (
    ConsumerHandle,
    Delivery,
    Handler,
    Message,
    OutgoingMessage,
    Publication,
    ReplyMode,
    Settlement,
    TopologyError,
    Transport,
)
from bus.transport.topology import DEFAULT_DELIVERY_LIMIT, DEFAULT_PREFIX, Topology
from bus.transport.urls import mask_url

SCHEMES = ("memory", "amqp", "amqps")


def connect(
    url: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
    **options: Any,
) -> Transport:
    """Open a transport for ``url``; ``prefix`` names this bus's exchanges and queues.

    Options for both schemes: ``reply_mode`` (``"direct"`` or ``"queue"``), ``max_message_bytes`` (a
    consumer refuses a larger body on arrival, OVERSIZED_MESSAGE; default 10 MiB). For RabbitMQ, see
    ``RabbitMQTransport`` (``heartbeat``, ``publish_timeout``, ``connect_attempts``, ...).
    Raises ``Fault(BROKER_UNAVAILABLE)`` naming the URL (password masked) when the broker is unreachable,
    ``ValueError`` for an unknown scheme.
    """
    topology = Topology(prefix=prefix, delivery_limit=delivery_limit)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        from bus.transport.memory import MemoryTransport
        from bus.transport.memory_broker import MemoryBroker

        parts = urlsplit(url)
        name = (parts.netloc + parts.path).strip("/")
        return MemoryTransport(MemoryBroker.named(name), topology, url=url, **options)
    if scheme in ("amqp", "amqps"):
        from bus.transport.rabbitmq import RabbitMQTransport

        return RabbitMQTransport(url, topology, **options)
    raise ValueError(f"unknown broker URL scheme in {mask_url(url)!r}: use one of {', '.join(SCHEMES)}")


__all__ = [
    "ConsumerHandle",
    "Delivery",
    "Handler",
    "Message",
    "OutgoingMessage",
    "Publication",
    "ReplyMode",
    "Settlement",
    "Topology",
    "TopologyError",
    "Transport",
    "connect",
    "mask_url",
]
