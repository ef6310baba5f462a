"""Received AMQP properties and headers to a ``Message``: one parser for every transport."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bus.transport.base import Message


def received(
    body: bytes,
    *,
    message_id: Any,
    correlation_id: Any,
    reply_to: Any,
    content_type: Any,
    headers: Mapping[str, Any] | None,
    exchange: str,
    routing_key: str,
    redelivered: bool,
) -> Message:
    """The message as delivered."""
    headers = headers or {}
    return Message(
        body=body,
        message_id=message_id,
        correlation_id=correlation_id,
        reply_to=reply_to,
        headers=headers,
        exchange=exchange,
        routing_key=routing_key,
        redelivered=redelivered,
        delivery_count=int(headers.get("x-delivery-count", 0)),
        content_type=content_type,
    )


def from_pika(method: Any, properties: Any, body: bytes) -> Message:
    """A message delivered by pika (``Basic.Deliver``, ``Basic.GetOk`` or ``Basic.Return``)."""
    return received(
        body,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        content_type=properties.content_type,
        headers=properties.headers,
        exchange=method.exchange,
        routing_key=method.routing_key,
        redelivered=bool(getattr(method, "redelivered", False)),
    )
