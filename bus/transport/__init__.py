"""Byte-level message transport: one interface, an embedded broker and RabbitMQ.

``connect("memory://")`` gives the in-process broker (the default for demos and handler tests);
``connect("amqp://user:pass@host:5672/vhost")`` or ``amqps://`` gives RabbitMQ through pika.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

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

SCHEMES = ("memory", "amqp", "amqps")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(
    url: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
    **options: Any,
) -> Transport:
    """Open a transport for ``url``; ``prefix`` names this bus's exchanges and queues.

    Options for both schemes: ``reply_mode`` (``"direct"`` or ``"queue"``). For RabbitMQ, see
    ``RabbitMQTransport`` (``heartbeat``, ``publish_timeout``, ``connect_attempts``, ...).
    Raises ``Fault(BROKER_UNAVAILABLE)`` naming the URL (password masked) when the broker is unreachable,
    ``ValueError`` for an unknown scheme.
    """
    topology = Topology(prefix=prefix, delivery_limit=delivery_limit)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        from bus.transport.memory import MemoryBroker, MemoryTransport

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
