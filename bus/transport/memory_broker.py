"""The embedded in-process broker behind ``memory://`` and ``memory://NAME``, with RabbitMQ's semantics.

Brokers are process-wide and looked up by name: a provider and a client connecting to the same URL in one
process meet; a new name is a new, empty broker. ``memory://`` is the default broker.

What behaves as on RabbitMQ 3.10 with govbus's topology: direct and topic exchanges, the default exchange
(routing key = queue name), mandatory publishing (unroutable raises), prefetch, ack / reject / requeue,
the ``redelivered`` flag, quorum ``x-delivery-count`` and delivery limit, dead-lettering with ``x-death``
and ``x-first-death-*`` headers, per-message TTL applied at the head of the queue (expired messages are
dead-lettered even with no consumer), exclusive queues, and direct reply-to. A publish returns once the
message is enqueued: that is its confirm. Nothing is persisted: the broker lives as long as the process.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, ClassVar

import structlog

from bus.faults import Fault, FaultCode
from bus.transport.base import (
    ConsumerHandle,
    Delivery,
    Handler,
    Message,
    OutgoingMessage,
    Settlement,
    TopologyError,
    WorkerPool,
)
from bus.transport.properties import received
from bus.transport.topology import DIRECT_REPLY_TO, ExchangeKind, is_direct_reply_address

log = structlog.get_logger(__name__)


@lru_cache(maxsize=4096)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on '.', ``*`` is one word, ``#`` is zero or more words."""
    words, keys = pattern.split("."), routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(words):
            return j == len(keys)
        if words[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(keys) + 1))
        return j < len(keys) and words[i] in ("*", keys[j]) and match(i + 1, j + 1)

    return match(0, 0)


@dataclass(slots=True)
class _Stored:
    body: bytes
    message: OutgoingMessage
    exchange: str
    routing_key: str
    headers: dict[str, Any]
    expires_at: float | None
    delivery_count: int = 0
    redelivered: bool = False


@dataclass(slots=True)
class _Exchange:
    kind: ExchangeKind
    bindings: dict[str, set[str]] = field(default_factory=dict)

    def route(self, routing_key: str) -> set[str]:
        if self.kind is ExchangeKind.DIRECT:
            return set(self.bindings.get(routing_key, ()))
        queues: set[str] = set()
        for pattern, bound in self.bindings.items():
            if topic_matches(pattern, routing_key):
                queues |= bound
        return queues


@dataclass(slots=True)
class _Unacked:
    stored: _Stored
    owner: str
    consumer: MemoryConsumer | None


@dataclass(slots=True)
class _Queue:
    name: str
    arguments: dict[str, Any]
    owner: str | None
    ready: deque[_Stored] = field(default_factory=deque)
    returned: int = 0  # how many messages at the head of ``ready`` were returned
    unacked: dict[int, _Unacked] = field(default_factory=dict)
    consumers: list[MemoryConsumer] = field(default_factory=list)
    next_consumer: int = 0

    def pop(self) -> _Stored:
        if self.returned:
            self.returned -= 1
        return self.ready.popleft()

    @property
    def quorum(self) -> bool:
        return self.arguments.get("x-queue-type") == "quorum"

    @property
    def delivery_limit(self) -> int | None:
        limit = self.arguments.get("x-delivery-limit")
        return int(limit) if limit is not None and self.quorum else None


def dead_letter_headers(stored: _Stored, queue: str, reason: str) -> dict[str, Any]:
    """The headers of a dead-lettered copy, as RabbitMQ 3.10 writes them: ``x-death`` (newest first, one
    entry per queue and reason with its count) and the ``x-first-death-*`` headers, set once.

    ``x-death`` entries that are not tables (a publisher may forge the header) are dropped.
    """
    headers = {k: v for k, v in stored.headers.items() if k != "x-delivery-count"}
    death: dict[str, Any] = {
        "count": 1,
        "reason": reason,
        "queue": queue,
        "time": datetime.now(UTC).replace(microsecond=0),
        "exchange": stored.exchange,
        "routing-keys": [stored.routing_key],
    }
    if stored.message.expiration_ms is not None:
        death["original-expiration"] = str(stored.message.expiration_ms)
    previous_deaths = headers.get("x-death")
    deaths = (
        [dict(d) for d in previous_deaths if isinstance(d, dict)] if isinstance(previous_deaths, list) else []
    )
    for previous in deaths:
        if previous.get("queue") == queue and previous.get("reason") == reason:
            deaths.remove(previous)
            count = previous.get("count")
            death["count"] = (count if isinstance(count, int) and not isinstance(count, bool) else 0) + 1
            break
    headers["x-death"] = [death, *deaths]
    for key, value in (("reason", reason), ("queue", queue), ("exchange", stored.exchange)):
        headers.setdefault(f"x-first-death-{key}", value)
    return headers


class MemoryBroker:
    """One in-process broker; every method is thread-safe (one lock guards the whole broker)."""

    _registry: ClassVar[dict[str, MemoryBroker]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def named(cls, name: str) -> MemoryBroker:
        """The process-wide broker called ``name``, created on first use."""
        with cls._registry_lock:
            broker = cls._registry.get(name)
            if broker is None:
                broker = cls._registry[name] = cls(name)
            return broker

    @classmethod
    def forget(cls, name: str) -> None:
        """Drop a named broker from the registry (its open transports keep the old one)."""
        with cls._registry_lock:
            cls._registry.pop(name, None)

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._lock = threading.RLock()
        self._exchanges: dict[str, _Exchange] = {}
        self._queues: dict[str, _Queue] = {}
        self._reply_targets: dict[str, Callable[[Message], None]] = {}
        self._tags = itertools.count(1)
        self._expiries: list[tuple[float, int, str]] = []
        self._expiry_seq = itertools.count()
        self._expiry_wakeup = threading.Condition(self._lock)
        self._sweeper: threading.Thread | None = None

    # -- topology ---------------------------------------------------------------------------------

    def declare_exchange(self, name: str, kind: ExchangeKind) -> None:
        with self._lock:
            existing = self._exchanges.get(name)
            if existing is None:
                self._exchanges[name] = _Exchange(kind)
            elif existing.kind is not kind:
                raise TopologyError(f"exchange {name!r} exists with type {existing.kind}, not {kind}")

    def delete_exchange(self, name: str) -> None:
        with self._lock:
            self._exchanges.pop(name, None)

    def declare_queue(self, name: str, arguments: Mapping[str, Any], owner: str | None = None) -> None:
        with self._lock:
            existing = self._queues.get(name)
            if existing is None:
                self._queues[name] = _Queue(name, dict(arguments), owner)
                return
            if existing.owner is not None and existing.owner != owner:
                raise TopologyError(f"queue {name!r} is exclusive to another connection")
            if existing.arguments != dict(arguments):
                raise TopologyError(
                    f"queue {name!r} exists with arguments {existing.arguments}, not {dict(arguments)}"
                )

    def bind(self, queue: str, exchange: str, routing_key: str) -> None:
        with self._lock:
            self._queue(queue)
            self._exchange(exchange).bindings.setdefault(routing_key, set()).add(queue)

    def delete_queue(self, name: str) -> None:
        with self._lock:
            queue = self._queues.pop(name, None)
            if queue is None:
                return
            for exchange in self._exchanges.values():
                for bound in exchange.bindings.values():
                    bound.discard(name)
            consumers = list(queue.consumers)
            queue.consumers.clear()
        for consumer in consumers:
            log.warning("consumer cancelled: queue deleted", queue=name)
            consumer.stop_by_broker()

    def purge(self, name: str) -> int:
        with self._lock:
            queue = self._queue(name)
            count = len(queue.ready)
            queue.ready.clear()
            queue.returned = 0
            return count

    def depth(self, name: str) -> int:
        with self._lock:
            queue = self._queue(name)
            self._expire_heads(queue)
            return len(queue.ready)

    def _queue(self, name: str) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise TopologyError(f"no queue {name!r}")
        return queue

    def _exchange(self, name: str) -> _Exchange:
        exchange = self._exchanges.get(name)
        if exchange is None:
            raise TopologyError(f"no exchange {name!r}")
        return exchange

    # -- publishing -------------------------------------------------------------------------------

    def publish(self, exchange: str, routing_key: str, message: OutgoingMessage, *, mandatory: bool) -> None:
        """Route and enqueue a message; raise ``Fault(UNROUTABLE)`` when mandatory and no queue took it."""
        if exchange == "" and is_direct_reply_address(routing_key):
            with self._lock:
                target = self._reply_targets.get(routing_key)
            if target is not None:
                target(_received(message, exchange, routing_key, bytes(message.body), dict(message.headers)))
            return
        with self._lock:
            if exchange == "":
                queues = {routing_key} if routing_key in self._queues else set()
            else:
                found = self._exchanges.get(exchange)
                if found is None:
                    raise Fault(FaultCode.UNROUTABLE, f"exchange {exchange!r} does not exist")
                queues = found.route(routing_key)
            if not queues:
                if mandatory:
                    raise Fault(FaultCode.UNROUTABLE, f"no queue bound to {exchange!r} for {routing_key!r}")
                return
            body = bytes(message.body)
            expires_at = None
            if message.expiration_ms is not None:
                expires_at = time.monotonic() + message.expiration_ms / 1000
            for name in sorted(queues):
                queue = self._queues[name]
                stored = _Stored(body, message, exchange, routing_key, dict(message.headers), expires_at)
                self._enqueue(queue, stored)

    def _enqueue(self, queue: _Queue, stored: _Stored) -> None:
        queue.ready.append(stored)
        if stored.expires_at is not None:
            heapq.heappush(self._expiries, (stored.expires_at, next(self._expiry_seq), queue.name))
            self._start_sweeper()
            self._expiry_wakeup.notify()
        self._dispatch(queue)

    # -- consuming --------------------------------------------------------------------------------

    def add_consumer(self, consumer: MemoryConsumer) -> None:
        with self._lock:
            queue = self._queue(consumer.queue)
            if queue.owner is not None and queue.owner != consumer.owner:
                raise TopologyError(f"queue {queue.name!r} is exclusive to another connection")
            queue.consumers.append(consumer)
            self._dispatch(queue)

    def remove_consumer(self, consumer: MemoryConsumer) -> None:
        with self._lock:
            queue = self._queues.get(consumer.queue)
            if queue is not None and consumer in queue.consumers:
                queue.consumers.remove(consumer)

    def return_unsettled(self, owner: str, consumer: MemoryConsumer | None = None) -> None:
        """Return what ``owner`` (or only ``consumer``) holds unsettled, as a closed channel would."""
        with self._lock:
            for queue in list(self._queues.values()):
                tags = [
                    tag
                    for tag, entry in queue.unacked.items()
                    if entry.owner == owner and (consumer is None or entry.consumer is consumer)
                ]
                if tags:
                    self._return(queue, [queue.unacked.pop(tag).stored for tag in tags])
                    self._dispatch(queue)

    def get(self, name: str, owner: str) -> Delivery | None:
        with self._lock:
            queue = self._queue(name)
            self._expire_heads(queue)
            if not queue.ready:
                return None
            return self._deliver(queue, queue.pop(), owner, None)

    def _dispatch(self, queue: _Queue) -> None:
        while queue.ready and queue.consumers:
            self._expire_heads(queue)
            if not queue.ready:
                return
            consumer = self._next_consumer(queue)
            if consumer is None:
                return
            stored = queue.pop()
            if consumer.auto_ack:
                consumer.submit(self._message(queue, stored), None)
                continue
            consumer.in_flight += 1
            consumer.submit(None, self._deliver(queue, stored, consumer.owner, consumer))

    def _next_consumer(self, queue: _Queue) -> MemoryConsumer | None:
        count = len(queue.consumers)
        for offset in range(count):
            candidate = queue.consumers[(queue.next_consumer + offset) % count]
            if candidate.auto_ack or candidate.in_flight < candidate.prefetch:
                queue.next_consumer = (queue.next_consumer + offset + 1) % count
                return candidate
        return None

    def _deliver(
        self, queue: _Queue, stored: _Stored, owner: str, consumer: MemoryConsumer | None
    ) -> Delivery:
        tag = next(self._tags)
        queue.unacked[tag] = _Unacked(stored, owner, consumer)
        max_bytes = consumer.max_bytes if consumer is not None else None
        message = self._message(queue, stored, max_bytes)
        return Delivery(message, queue.name, partial(self._settle, queue.name, tag))

    def _message(self, queue: _Queue, stored: _Stored, max_bytes: int | None = None) -> Message:
        headers = dict(stored.headers)  # each delivery its own copy, as off the wire
        if queue.quorum and stored.delivery_count:  # as RabbitMQ 3.10: set from the first return on
            headers["x-delivery-count"] = stored.delivery_count
        return _received(
            stored.message,
            stored.exchange,
            stored.routing_key,
            stored.body,
            headers,
            stored.redelivered,
            max_bytes,
        )

    def _settle(self, name: str, tag: int, outcome: Settlement) -> None:
        with self._lock:
            queue = self._queues.get(name)
            entry = queue.unacked.pop(tag, None) if queue is not None else None
            if queue is None or entry is None:
                log.debug("settlement of a message no longer held", queue=name, outcome=str(outcome))
                return
            if entry.consumer is not None:
                entry.consumer.in_flight -= 1
            if outcome is Settlement.REJECT:
                self._dead_letter(queue, entry.stored, "rejected")
            elif outcome is Settlement.REQUEUE:
                self._return(queue, [entry.stored])
            self._dispatch(queue)

    def _return(self, queue: _Queue, returned: list[_Stored]) -> None:
        """As RabbitMQ 3.10 quorum queues: without a delivery limit, to the tail; with one, ahead of the
        messages never delivered, in the order they were returned."""
        limit = queue.delivery_limit
        to_tail = queue.quorum and limit is None
        for stored in returned:
            stored.redelivered = True
            if queue.quorum:
                stored.delivery_count += 1
            if limit is not None and stored.delivery_count > limit:
                self._dead_letter(queue, stored, "delivery_limit")
            elif to_tail:
                queue.ready.append(stored)
            else:
                queue.ready.insert(queue.returned, stored)
                queue.returned += 1

    # -- dead letters and expiry ------------------------------------------------------------------

    def _dead_letter(self, queue: _Queue, stored: _Stored, reason: str) -> None:
        exchange_name = queue.arguments.get("x-dead-letter-exchange")
        exchange = self._exchanges.get(exchange_name) if isinstance(exchange_name, str) else None
        if exchange_name is None or exchange is None:
            log.info("message dropped: no dead-letter exchange", queue=queue.name, reason=reason)
            return
        routing_key = str(queue.arguments.get("x-dead-letter-routing-key", stored.routing_key))
        headers = dead_letter_headers(stored, queue.name, reason)
        message = replace(stored.message, expiration_ms=None)
        for name in sorted(exchange.route(routing_key)):
            target = self._queues.get(name)
            if target is not None:
                self._enqueue(
                    target, _Stored(stored.body, message, exchange_name, routing_key, headers, None)
                )

    def _expire_heads(self, queue: _Queue) -> None:
        now = time.monotonic()
        while queue.ready and queue.ready[0].expires_at is not None and queue.ready[0].expires_at <= now:
            self._dead_letter(queue, queue.pop(), "expired")

    def _start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = threading.Thread(
                target=self._sweep, name=f"govbus-memory-ttl-{self.name}", daemon=True
            )
            self._sweeper.start()

    def _sweep(self) -> None:
        with self._lock:
            while True:
                if not self._expiries:
                    self._expiry_wakeup.wait()
                    continue
                delay = self._expiries[0][0] - time.monotonic()
                if delay > 0:
                    self._expiry_wakeup.wait(delay)
                    continue
                _, _, name = heapq.heappop(self._expiries)
                queue = self._queues.get(name)
                if queue is not None:
                    self._expire_heads(queue)

    # -- direct reply-to --------------------------------------------------------------------------

    def register_reply_target(self, callback: Callable[[Message], None]) -> str:
        address = f"{DIRECT_REPLY_TO}.{uuid.uuid4().hex}"
        with self._lock:
            self._reply_targets[address] = callback
        return address

    def unregister_reply_target(self, address: str) -> None:
        with self._lock:
            self._reply_targets.pop(address, None)


def _received(
    message: OutgoingMessage,
    exchange: str,
    routing_key: str,
    body: bytes,
    headers: dict[str, Any],
    redelivered: bool = False,
    max_bytes: int | None = None,
) -> Message:
    return received(
        body,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        headers=headers,
        exchange=exchange,
        routing_key=routing_key,
        redelivered=redelivered,
        max_bytes=max_bytes,
    )


class MemoryConsumer(ConsumerHandle):
    """A consumer: deliveries go to a worker pool, or to a callback for auto-ack (reply) consumers."""

    def __init__(
        self,
        broker: MemoryBroker,
        owner: str,
        queue: str,
        *,
        handler: Handler | None = None,
        callback: Callable[[Message], None] | None = None,
        prefetch: int = 1,
        concurrency: int = 1,
        max_bytes: int | None = None,
    ) -> None:
        self.queue = queue
        self.max_bytes = max_bytes
        self.owner = owner
        self.prefetch = prefetch
        self.in_flight = 0
        self.auto_ack = callback is not None
        self._broker = broker
        self._handler = handler
        self._callback = callback
        self._active = True
        self._workers = WorkerPool(queue, concurrency) if handler is not None else None

    @property
    def active(self) -> bool:
        return self._active

    def submit(self, message: Message | None, delivery: Delivery | None) -> None:
        """Called under the broker lock: hand over without blocking."""
        if message is not None and self._callback is not None:
            self._callback(message)
        elif delivery is not None and self._workers is not None and self._handler is not None:
            self._workers.submit(self._handler, delivery)

    def cancel(self, timeout: float = 30.0) -> None:
        if not self._active:
            return
        self._active = False
        self._broker.remove_consumer(self)
        workers = self._workers
        if workers is None:
            return
        workers.shutdown()
        workers.then(timeout, lambda: self._broker.return_unsettled(self.owner, self))

    def stop_by_broker(self) -> None:
        self._active = False
        if self._workers is not None:
            self._workers.shutdown()
