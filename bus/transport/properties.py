"""Received AMQP properties and headers to a ``Message``: one defensive parser for every transport.

Properties and headers are not signed: any participant allowed to publish can set them to anything,
and pika hands over what it decoded (``bytes`` when a short string is not UTF-8, any AMQP field type in
a header). Rules, identical on RabbitMQ and on the embedded broker:

- ``message_id``, ``correlation_id``, ``reply_to``, ``content_type``: text of 1 to 255 printable
  characters, else treated as absent.
- ``x-delivery-count``: an integer from 0 to ``MAX_DELIVERY_COUNT``, else treated as absent (0).
  ``x-first-death-reason|queue|exchange``: such text, else removed. ``x-death``: a list of tables whose
  ``count`` is a non-negative integer and whose ``reason``, ``queue`` and ``exchange`` are text; other
  entries are removed, and a header of another type too.
- What was treated as absent or removed is named (never its value) in ``Message.anomalies``; the
  message is handled as usual.
- A ``content-encoding`` other than ``identity``/``binary``/UTF-8, or a ``content-type`` whose
  ``charset`` is not UTF-8, refuses the message: ``Message.refusal`` is ``Client.MalformedMessage``.
  A body over the consumer's byte limit refuses it with ``Client.OversizedMessage`` and is not kept
  (``body`` is empty), so a consumer never buffers more than its limit per message. Receivers of a
  refused message record the fault and dead-letter it.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message as MimeHeader
from typing import Any

import structlog

from bus.faults import Fault, FaultCode
from bus.transport.base import Message

log = structlog.get_logger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
"""A consumer's per-message limit: the envelope's (``bus.xml.DEFAULT_MAX_BYTES``), checked on arrival."""
MAX_SHORT_TEXT = 255
MAX_DELIVERY_COUNT = 2**31 - 1
IDENTITY_ENCODINGS = frozenset({"identity", "binary", "utf-8", "utf8"})
_DEATH_TEXT = ("reason", "queue", "exchange")
_FIRST_DEATH = ("x-first-death-reason", "x-first-death-queue", "x-first-death-exchange")


def short_text(value: object) -> str | None:
    """``value`` when it is text of 1-255 printable characters, else None."""
    if isinstance(value, str) and 0 < len(value) <= MAX_SHORT_TEXT and value.isprintable():
        return value
    return None


def _text(value: object, name: str, anomalies: list[str]) -> str | None:
    """``short_text(value)``; a value present but refused is named in ``anomalies``."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value) <= MAX_SHORT_TEXT and value.isprintable():
        return value
    anomalies.append(name)
    return None


def count(value: object, limit: int = MAX_DELIVERY_COUNT) -> int | None:
    """``value`` when it is an integer (not a bool) from 0 to ``limit``, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit:
        return value
    return None


def _name(value: object) -> bool:
    """A queue or exchange name, a reason: printable text of 0-255 characters (the default exchange is "")."""
    return value == "" or short_text(value) is not None


def _death(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    if "count" in entry and count(entry["count"]) is None:
        return False
    return all(key not in entry or _name(entry[key]) for key in _DEATH_TEXT)


def _headers(raw: object, anomalies: list[str]) -> tuple[dict[str, Any], int]:
    """The headers with every header govbus reads checked; the delivery count."""
    if raw is None:
        return {}, 0
    if not isinstance(raw, dict):
        anomalies.append("headers")
        return {}, 0
    headers = raw
    delivery_count = 0
    if "x-delivery-count" in headers:
        parsed = count(headers["x-delivery-count"])
        if parsed is None:
            anomalies.append("x-delivery-count")
            headers = {k: v for k, v in headers.items() if k != "x-delivery-count"}
        else:
            delivery_count = parsed
    for key in _FIRST_DEATH:
        if key in headers and not _name(headers[key]):
            anomalies.append(key)
            headers = {k: v for k, v in headers.items() if k != key}
    if "x-death" in headers:
        deaths = headers["x-death"]
        kept = [entry for entry in deaths if _death(entry)] if isinstance(deaths, list) else []
        if not isinstance(deaths, list) or len(kept) != len(deaths):
            anomalies.append("x-death")
            headers = {k: v for k, v in headers.items() if k != "x-death"}
            if kept:
                headers["x-death"] = kept
    return headers, delivery_count


def _refusal(content_type: str | None, content_encoding: object) -> Fault | None:
    if content_encoding is not None and content_encoding != "":
        text = short_text(content_encoding)
        if text is None or text.strip().lower() not in IDENTITY_ENCODINGS:
            shown = repr(text) if text is not None else "of another type"
            return Fault(
                FaultCode.MALFORMED_MESSAGE,
                f"content-encoding {shown}: govbus bodies are sent as they are (identity)",
            )
    if content_type is not None:
        header = MimeHeader()
        header["content-type"] = content_type
        charset = header.get_param("charset")
        if isinstance(charset, str) and charset.strip().lower() not in ("utf-8", "utf8"):
            return Fault(
                FaultCode.MALFORMED_MESSAGE, f"content-type charset {charset!r}: govbus bodies are UTF-8"
            )
    return None


def received(
    body: bytes,
    *,
    message_id: object,
    correlation_id: object,
    reply_to: object,
    content_type: object,
    headers: Mapping[str, Any] | None,
    exchange: str,
    routing_key: str,
    redelivered: bool,
    content_encoding: object = None,
    max_bytes: int | None = None,
    queue: str | None = None,
) -> Message:
    """The message as delivered, its properties and headers checked (see the module docstring).

    ``max_bytes``: the consumer's per-message limit (None: no limit, as for ``get`` and replies).
    """
    anomalies: list[str] = []
    checked_headers, delivery_count = _headers(headers, anomalies)
    checked_id = _text(message_id, "message_id", anomalies)
    checked_correlation = _text(correlation_id, "correlation_id", anomalies)
    checked_reply_to = _text(reply_to, "reply_to", anomalies)
    checked_type = _text(content_type, "content_type", anomalies)
    refusal = None
    if checked_type is not None or content_encoding is not None:
        refusal = _refusal(checked_type, content_encoding)
    if max_bytes is not None and len(body) > max_bytes:
        refusal = Fault(
            FaultCode.OVERSIZED_MESSAGE, f"{len(body)} bytes is over this consumer's {max_bytes}-byte limit"
        )
        body = b""
    message = Message(
        body=body,
        message_id=checked_id,
        correlation_id=checked_correlation,
        reply_to=checked_reply_to,
        headers=checked_headers,
        exchange=exchange,
        routing_key=routing_key,
        redelivered=redelivered,
        delivery_count=delivery_count,
        content_type=checked_type,
        anomalies=tuple(anomalies) if anomalies else (),
        refusal=refusal,
    )
    if anomalies or refusal is not None:
        log.warning(
            "delivery with malformed properties",
            queue=queue or routing_key,
            message_id=message.message_id,
            ignored=list(anomalies),
            fault=None if refusal is None else str(refusal.code),
        )
    return message


def from_pika(method: Any, properties: Any, body: bytes, *, max_bytes: int | None = None) -> Message:
    """A message delivered by pika (``Basic.Deliver``, ``Basic.GetOk`` or ``Basic.Return``)."""
    return received(
        body,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        headers=properties.headers,
        exchange=method.exchange,
        routing_key=method.routing_key,
        redelivered=bool(getattr(method, "redelivered", False)),
        max_bytes=max_bytes,
    )
