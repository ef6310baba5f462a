"""``RabbitMQTransport``: the facade over one connection's collaborators, all on its one I/O thread.

- ``AmqpConnection`` (connection.py): the pika ``SelectConnection``, its I/O thread, the wake-up queue
  from caller threads, reconnection with capped jittered backoff, heartbeats.
- ``Publisher`` (publisher.py): the confirm-mode publishing channel, ``publish``/``publish_many``,
  returns of mandatory messages, re-sending after a loss, requests and their replies.
- ``Consumers`` (consumers.py): one channel per consumer, deliveries to worker pools, settlements back
  through the wake-up queue, resuming after a loss.
- ``Operations`` (operations.py): declarations, deletions, queue depth and ``get``.

Replies (see ``ReplyMode``): ``direct`` consumes ``amq.rabbitmq.reply-to`` (no-ack) on the publishing
channel: no queue, fastest, at-most-once: a reply sent while the client is disconnected, or to a client
that has gone, is dropped silently. ``queue`` consumes a per-client exclusive queue: a reply is stored
(the provider gets a confirm, or UNROUTABLE once the client has gone), but the queue dies with the
client's connection. Either way a lost reply is recovered by the caller retrying with the same message
id, and the provider answering the duplicate idempotently. A request still waiting when the connection
(or the publishing channel) is lost is re-sent once the channel is back, within its timeout.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pika

from bus.faults import Fault
from bus.transport.base import (
    ConsumerHandle,
    Delivery,
    Handler,
    Message,
    OutgoingMessage,
    Publication,
    ReplyMode,
    Transport,
    check_consume_arguments,
    check_window,
    closed_fault,
    settle_after_receipt,
)
from bus.transport.properties import DEFAULT_MAX_MESSAGE_BYTES
from bus.transport.rabbitmq.connection import AmqpConnection
from bus.transport.rabbitmq.consumers import Consumers
from bus.transport.rabbitmq.operations import Operations
from bus.transport.rabbitmq.publisher import Publisher, prepare
from bus.transport.rabbitmq.tls import BrokerTls
from bus.transport.topology import Topology, is_direct_reply_address
from bus.transport.urls import mask_url, split_broker_urls

DEFAULT_HEARTBEAT = 30
DEFAULT_CONNECT_TIMEOUT = 10.0


def connection_parameters(
    url: str, *, heartbeat: int | None, connect_timeout: float | None, name: str
) -> pika.URLParameters:
    """pika's parameters for ``url``: our defaults where neither the caller nor the URL chose."""
    try:
        params = pika.URLParameters(url)
    except Exception as error:
        raise ValueError(f"invalid broker URL {mask_url(url)!r}: {error}") from None
    query = parse_qs(urlsplit(url).query)
    if heartbeat is not None:
        params.heartbeat = heartbeat
    elif "heartbeat" not in query:
        params.heartbeat = DEFAULT_HEARTBEAT
    for option in ("stack_timeout", "socket_timeout"):
        if connect_timeout is not None or option not in query:
            setattr(params, option, connect_timeout or DEFAULT_CONNECT_TIMEOUT)
    params.connection_attempts = 1
    params.client_properties = {"connection_name": name}
    return params


class RabbitMQTransport(Transport):
    """One pika connection with its own I/O thread; see the module docstring.

    Options: ``reply_mode`` (``direct`` or ``queue``); ``heartbeat`` in seconds (default: the URL's
    ``heartbeat`` query parameter, else 30; 0 turns heartbeats off);
    ``publish_timeout``: how long a publish waits for its confirm, across reconnections, before
    BROKER_UNAVAILABLE; ``operation_timeout``: the same for topology operations, ``get`` and ``consume``;
    ``connect_attempts``: tries of the first connection before ``connect`` fails, each bounded by
    ``connect_timeout`` (TCP, TLS and AMQP handshakes; default: the URL's ``stack_timeout`` and
    ``socket_timeout``, else 10 s); ``max_backoff``: cap of the delay between reconnection attempts;
    ``max_message_bytes``: a consumer refuses a larger body on arrival (OVERSIZED_MESSAGE) without
    keeping it, so one consumer buffers at most ``prefetch * max_message_bytes``; ``participant``: the
    participant whose own broker identity this connection uses (reply mode ``queue``, its reply queue
    named for it and bound to the replies exchange); ``tls``: the bus CA and client certificate of an
    ``amqps://`` connection (see ``BrokerTls``).

    ``url`` may be a comma-separated list of the nodes of one cluster: the first that answers is used,
    and after a loss the others are tried first (``AmqpConnection``); ``connect_attempts`` then counts
    rounds over the whole list.
    """

    def __init__(
        self,
        url: str,
        topology: Topology | None = None,
        *,
        reply_mode: ReplyMode | str = ReplyMode.DIRECT,
        heartbeat: int | None = None,
        publish_timeout: float = 30.0,
        operation_timeout: float = 30.0,
        connect_attempts: int = 3,
        connect_timeout: float | None = None,
        max_backoff: float = 10.0,
        connection_name: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        participant: str | None = None,
        tls: BrokerTls | None = None,
    ) -> None:
        self.url = mask_url(url)
        self.topology = topology or Topology()
        self.reply_mode = ReplyMode(reply_mode)
        name = connection_name or f"govbus {self.topology.prefix} pid {os.getpid()}"
        urls = split_broker_urls(url)
        params = [
            connection_parameters(each, heartbeat=heartbeat, connect_timeout=connect_timeout, name=name)
            for each in urls
        ]
        if tls is not None:
            for each_params, each_url in zip(params, urls, strict=True):
                tls.apply(each_params, each_url)
        if participant is not None:
            # its own broker identity: no default exchange, so replies come through the replies exchange
            self.reply_mode = ReplyMode.QUEUE
            self.declares_topology = False
        self._closed = False
        self._close_lock = threading.Lock()
        self._io = AmqpConnection(
            params,
            self.url,
            connect_attempts=connect_attempts,
            max_backoff=max_backoff,
            addresses=[mask_url(each) for each in urls],
        )
        self._publisher = Publisher(
            self._io,
            reply_mode=self.reply_mode,
            reply_queue=self.topology.reply_queue(uuid.uuid4().hex, participant),
            publish_timeout=publish_timeout,
            reply_exchange=self.topology.replies_exchange if participant is not None else None,
        )
        self._consumers = Consumers(
            self._io,
            self._publisher.enqueue,
            operation_timeout=operation_timeout,
            max_message_bytes=max_message_bytes,
        )
        self._operations = Operations(
            self._io, self.topology, self._consumers.settler, operation_timeout=operation_timeout
        )
        self._io.start()

    @property
    def connected(self) -> bool:
        """True while the connection is open (it may still be re-establishing channels)."""
        return self._io.connected.is_set()

    @property
    def address(self) -> str:
        """The URL (password masked) of the broker node connected now, or last connected to."""
        return self._io.address

    @property
    def reconnections(self) -> int:
        """How many times the connection was re-established since ``connect``."""
        return self._io.reconnections

    def __repr__(self) -> str:
        return f"<RabbitMQTransport {self.url} prefix={self.topology.prefix}>"

    # -- topology ---------------------------------------------------------------------------------

    def declare_exchanges(self) -> None:
        self._check_open()
        self._operations.declare_exchanges()

    def declare_queue(
        self, name: str, arguments: Mapping[str, Any], bindings: Iterable[tuple[str, str]]
    ) -> None:
        self._check_open()
        self._operations.declare_queue(name, arguments, bindings)

    def delete_queue(self, name: str) -> None:
        self._check_open()
        self._operations.delete_queue(name)

    def delete_exchange(self, name: str) -> None:
        self._check_open()
        self._operations.delete_exchange(name)

    def purge_queue(self, name: str) -> int:
        self._check_open()
        return self._operations.purge_queue(name)

    def queue_depth(self, name: str) -> int:
        self._check_open()
        return self._operations.queue_depth(name)

    # -- messages ---------------------------------------------------------------------------------

    def publish(
        self, exchange: str, routing_key: str, message: OutgoingMessage, *, mandatory: bool = True
    ) -> None:
        self._check_open()
        self._publisher.publish(exchange, routing_key, message, mandatory)

    def publish_many(self, publications: Iterable[Publication], *, window: int = 256) -> list[Fault | None]:
        check_window(window)
        self._check_open()
        return self._publisher.publish_many(publications, window)

    def reply(self, delivery: Delivery | Message, message: OutgoingMessage) -> None:
        """As ``Transport.reply``; a direct reply-to reply returns once handed to the I/O thread.

        The broker can report neither delivery nor loss of a direct reply, so waiting for its confirm
        would add a round trip and guarantee nothing more. Made by the handler of ``delivery`` before
        settling it, the reply is handed over with the settlement (published first; see consumers.py).
        A reply to a reply queue made by an inline handler (on the I/O thread) is not waited for either:
        a failure is logged, not raised.
        """
        request = delivery.message if isinstance(delivery, Delivery) else delivery
        reply_to = request.reply_to
        direct = reply_to is not None and is_direct_reply_address(reply_to)
        if not reply_to or not (direct or self._io.on_io_thread()):
            super().reply(delivery, message)
            return
        self._check_open()
        if message.correlation_id is None:
            message = replace(message, correlation_id=request.message_id)
        if direct:
            pending = self._publisher.direct_reply(reply_to, message)
        else:  # an inline handler cannot wait for the confirm: the publisher logs a failure
            pending = self._publisher.unwaited(self.reply_exchange(reply_to), reply_to, message)
        if not self._consumers.hold_reply(request, pending):
            self._publisher.send([pending])

    def answer_to_inbox(self, delivery: Delivery, participant: str, message: OutgoingMessage) -> None:
        """As ``Transport.answer_to_inbox``, returning at once: the receipt goes to the I/O thread and the
        delivery is settled there when its confirm (or failure) arrives, so no handler waits for it."""
        self._check_open()
        pending = prepare(self.topology.inbox_exchange, participant, message, True)
        settle = delivery.settle_later()

        def settled(future: Future[Any]) -> None:
            error = future.exception()
            settle_after_receipt(settle, error if isinstance(error, Fault) else None, message)

        pending.future.add_done_callback(settled)
        if self._io.on_io_thread():
            self._publisher.enqueue([pending])
        else:
            self._publisher.send([pending])

    def request(self, service: str, message: OutgoingMessage, *, timeout: float) -> Message:
        self._check_open()
        return self._publisher.request(self.topology.requests_exchange, service, message, timeout)

    def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 32, concurrency: int = 4
    ) -> ConsumerHandle:
        self._check_open()
        check_consume_arguments(prefetch, concurrency)
        return self._consumers.consume(queue, handler, prefetch, concurrency)

    def get(self, queue: str) -> Delivery | None:
        self._check_open()
        return self._operations.get(queue)

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._consumers.cancel_all(30.0)
        self._io.submit(self._shutdown)
        self._io.join(30)

    def _shutdown(self) -> None:
        fault = closed_fault(self.url)
        self._io.closing = True
        self._publisher.fail_all(fault)
        self._consumers.fail_all(fault)
        self._io.shutdown()
