"""``MemoryTransport``: a connection to the embedded broker (``memory://`` and ``memory://NAME``).

Brokers are process-wide and looked up by name (see ``memory_broker``); each transport is one
connection: its consumers, its unsettled deliveries, its reply address and its reply queue.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any

from bus.faults import Fault
from bus.transport.base import (
    ConsumerHandle,
    Delivery,
    Handler,
    Message,
    OutgoingMessage,
    Publication,
    ReplyMode,
    TopologyError,
    Transport,
    check_consume_arguments,
    check_window,
    closed_fault,
    effective_mandatory,
)
from bus.transport.memory_broker import MemoryBroker, MemoryConsumer, topic_matches
from bus.transport.properties import DEFAULT_MAX_MESSAGE_BYTES
from bus.transport.topology import DIRECT_REPLY_TO, Topology
from bus.transport.waiters import ReplyWaiters, timeout_fault


@dataclass(eq=False, slots=True)
class _Call:
    future: Future[Any] = field(default_factory=Future)


class MemoryTransport(Transport):
    """A connection to a ``MemoryBroker``; ``max_message_bytes`` as for ``RabbitMQTransport``."""

    def __init__(
        self,
        broker: MemoryBroker,
        topology: Topology | None = None,
        *,
        reply_mode: ReplyMode | str = ReplyMode.DIRECT,
        url: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.broker = broker
        self.max_message_bytes = max_message_bytes
        self.topology = topology or Topology()
        self.reply_mode = ReplyMode(reply_mode)
        self.url = url or f"memory://{broker.name}"
        self._id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._closed = False
        self._consumers: set[MemoryConsumer] = set()
        self._calls: ReplyWaiters[_Call] = ReplyWaiters()
        self._reply_address = broker.register_reply_target(self._on_reply)
        self._reply_queue: str | None = None
        if self.reply_mode is ReplyMode.QUEUE:
            self._reply_queue = self.topology.reply_queue(self._id)
            broker.declare_queue(self._reply_queue, {}, owner=self._id)
            consumer = MemoryConsumer(broker, self._id, self._reply_queue, callback=self._on_reply)
            broker.add_consumer(consumer)

    # -- topology ---------------------------------------------------------------------------------

    def declare_exchanges(self) -> None:
        self._check_open()
        for exchange in self.topology.exchanges():
            self.broker.declare_exchange(exchange.name, exchange.kind)

    def declare_queue(
        self, name: str, arguments: Mapping[str, Any], bindings: Iterable[tuple[str, str]]
    ) -> None:
        self._check_open()
        self.broker.declare_queue(name, arguments)
        for exchange, routing_key in bindings:
            self.broker.bind(name, exchange, routing_key)

    def delete_queue(self, name: str) -> None:
        self._check_open()
        self.broker.delete_queue(name)

    def delete_exchange(self, name: str) -> None:
        self._check_open()
        self.broker.delete_exchange(name)

    def purge_queue(self, name: str) -> int:
        self._check_open()
        return self.broker.purge(name)

    def queue_depth(self, name: str) -> int:
        self._check_open()
        return self.broker.depth(name)

    # -- messages ---------------------------------------------------------------------------------

    def publish(
        self, exchange: str, routing_key: str, message: OutgoingMessage, *, mandatory: bool = True
    ) -> None:
        self._check_open()
        if message.reply_to == DIRECT_REPLY_TO:
            message = replace(message, reply_to=self._reply_address)
        self.broker.publish(
            exchange, routing_key, message, mandatory=effective_mandatory(routing_key, mandatory)
        )

    def publish_many(self, publications: Iterable[Publication], *, window: int = 256) -> list[Fault | None]:
        check_window(window)
        results: list[Fault | None] = []
        for item in publications:
            try:
                self.publish(item.exchange, item.routing_key, item.message, mandatory=item.mandatory)
            except Fault as fault:
                results.append(fault)
            else:
                results.append(None)
        return results

    def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 32, concurrency: int = 4
    ) -> ConsumerHandle:
        self._check_open()
        check_consume_arguments(prefetch, concurrency)
        consumer = MemoryConsumer(
            self.broker,
            self._id,
            queue,
            handler=handler,
            prefetch=prefetch,
            concurrency=max(1, concurrency),  # INLINE: one handler thread, never the publisher's
            max_bytes=self.max_message_bytes,
        )
        try:
            self.broker.add_consumer(consumer)
        except TopologyError:
            consumer.stop_by_broker()
            raise
        with self._lock:
            self._consumers.add(consumer)
        return consumer

    def get(self, queue: str) -> Delivery | None:
        self._check_open()
        return self.broker.get(queue, self._id)

    def request(self, service: str, message: OutgoingMessage, *, timeout: float) -> Message:
        self._check_open()
        call = _Call()
        self._calls.add(message.message_id, call)
        try:
            reply_to = self._reply_queue or self._reply_address
            self.publish(self.topology.requests_exchange, service, replace(message, reply_to=reply_to))
            reply: Message = call.future.result(timeout)
            return reply
        except FutureTimeout:
            raise timeout_fault(message.message_id, service, timeout) from None
        finally:
            self._calls.discard(message.message_id, call)

    def _on_reply(self, reply: Message) -> None:
        self._calls.deliver(reply)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._consumers)
        for consumer in consumers:
            consumer.cancel()
        for call in self._calls.all():
            if not call.future.done():
                call.future.set_exception(closed_fault(self.url))
        self.broker.unregister_reply_target(self._reply_address)
        if self._reply_queue is not None:
            self.broker.delete_queue(self._reply_queue)
        self.broker.return_unsettled(self._id)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self.url} prefix={self.topology.prefix}>"


__all__ = ["MemoryBroker", "MemoryTransport", "topic_matches"]
