"""Byte-level message transport: one interface, an embedded broker and RabbitMQ.

``connect("memory://")`` gives the in-process broker (the default for demos and handler tests);
``connect("amqp://user:pass@host:5672/vhost")`` or ``amqps://`` gives RabbitMQ through pika;
``connect("amqp://h1:5672/,amqp://h2:5672/")`` names the nodes of a RabbitMQ cluster, tried in order.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bus.transport.base import (
    INLINE,
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
from bus.transport.urls import join_broker_urls, mask_url, split_broker_urls

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
    ``url`` may list several amqp(s) URLs, comma-separated: the transport connects to the first that
    answers and, when its connection is lost, to the next one that answers (see ``AmqpConnection``).
    Raises ``Fault(BROKER_UNAVAILABLE)`` naming the URL (password masked) when the broker is unreachable,
    ``ValueError`` for an unknown scheme or a list that is not all amqp(s).
    """
    topology = Topology(prefix=prefix, delivery_limit=delivery_limit)
    urls = split_broker_urls(url)
    schemes = {urlsplit(each).scheme.lower() for each in urls}
    if len(urls) > 1:
        if not schemes <= {"amqp", "amqps"}:
            raise ValueError(f"a list of broker URLs must all be amqp:// or amqps://, got {mask_url(url)!r}")
        from bus.transport.rabbitmq import RabbitMQTransport

        return RabbitMQTransport(join_broker_urls(urls), topology, **options)
    url = urls[0]
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
    "INLINE",
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
    "join_broker_urls",
    "mask_url",
    "split_broker_urls",
]
