"""Consuming on RabbitMQ: one channel per consumer (its own prefetch), resumed after every loss.

Memory: a consumer holds at most ``prefetch`` deliveries, each at most ``max_message_bytes`` (a larger
body is dropped on arrival, on the I/O thread, and its delivery refused with OVERSIZED_MESSAGE), so at
most ``prefetch * max_message_bytes`` bytes of bodies. RabbitMQ 3.10 has no byte-based prefetch
(``prefetch_size`` is NOT_IMPLEMENTED) and no per-queue message size limit (only the broker-wide
``max_message_size``, 128 MiB by default): this limit is the consumer's own.

Invariants: deliveries arrive on the I/O thread and go to the consumer's worker pool without blocking;
``ack``/``reject``/``requeue`` come back through ``AmqpConnection.submit`` (no other hop, no other lock).
A consumer with concurrency ``INLINE`` (0) has no pool: its handler runs on the I/O thread itself and its
settlement (with its reply) is written at once, as a hand-written pika consumer does: no hand-over, no
wake-up, no context switch. Such a handler must not wait for the broker (``check_may_wait`` refuses
it), and while it runs the connection reads nothing, heartbeats included: one slower than
``SLOW_INLINE_SECONDS`` is logged with the advice to give the consumer threads.
A direct reply to the delivery a worker is handling rides with that delivery's settlement: both reach the
I/O thread in one hand-over, the reply published first (one wake-up of the I/O thread per message instead
of two). A reply made outside a handler, or after the settlement, is sent at once.
A settlement for a channel that has closed is dropped: the broker redelivers. A consumer whose channel
closes is resumed with backoff, on the same connection or the next one, until it is cancelled, or until
the broker cancels it because its queue was deleted.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any

import pika
import pika.exceptions
import structlog
from pika.channel import Channel

from bus.faults import Fault, FaultCode
from bus.transport.base import (
    INLINE,
    ConsumerHandle,
    Delivery,
    Handler,
    Message,
    Settlement,
    WorkerPool,
    run_handler,
)
from bus.transport.properties import from_pika
from bus.transport.rabbitmq.common import Step, chain, channel_error, resolve
from bus.transport.rabbitmq.connection import AmqpConnection

log = structlog.get_logger(__name__)

SLOW_INLINE_SECONDS = 5.0
"""An inline handler running longer than this delays every other delivery and the heartbeats: logged."""

Sender = Callable[[list[Any]], None]
"""Publishes replies on the I/O thread (``Publisher.enqueue``)."""


class Settler:
    """Settles one delivery (from any thread) together with the direct replies held for it."""

    __slots__ = ("_consumers", "_lock", "channel", "message", "replies", "settled", "tag")

    def __init__(self, consumers: Consumers, channel: Channel, tag: int, message: Message | None) -> None:
        self._consumers = consumers
        self._lock = threading.Lock()  # a reply held on the handler's thread vs a settlement from another
        self.channel = channel
        self.tag = tag
        self.message = message
        self.replies: list[Any] = []
        self.settled = False

    def hold(self, reply: Any) -> bool:
        """Keep ``reply`` for the settlement; False once settled (the caller sends it at once)."""
        with self._lock:
            if self.settled:
                return False
            self.replies.append(reply)
            return True

    def __call__(self, outcome: Settlement) -> None:
        with self._lock:  # Delivery calls this once
            self.settled = True
            replies, self.replies = self.replies, []
        self._consumers.submit_settlement(self.channel, self.tag, outcome, replies)


class Consumer(ConsumerHandle):
    """One consumer: its queue, handler, worker pool and (on the I/O thread) its channel."""

    def __init__(
        self, consumers: Consumers, queue: str, handler: Handler, prefetch: int, concurrency: int
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.tag = f"govbus-{uuid.uuid4().hex}"
        self.inline = concurrency == INLINE
        self.workers = WorkerPool(queue, max(1, concurrency))  # threads start on first use: none if inline
        self.started: Future[None] = Future()
        self.wanted = True
        self.failures = 0
        self.channel: Channel | None = None
        self.retry: Any = None
        self._consumers = consumers

    @property
    def active(self) -> bool:
        return self.wanted

    def cancel(self, timeout: float = 30.0) -> None:
        self._consumers.cancel(self, timeout)


class Consumers:
    """Every consumer of one transport."""

    def __init__(
        self,
        connection: AmqpConnection,
        send: Sender,
        *,
        operation_timeout: float,
        max_message_bytes: int,
    ) -> None:
        self._io = connection
        self._send = send
        self._local = threading.local()  # .current: the Settler of the delivery this worker handles
        self.url = connection.url
        self._operation_timeout = operation_timeout
        self._max_message_bytes = max_message_bytes
        self._lock = threading.Lock()
        self._handles: set[Consumer] = set()  # guarded by _lock: what ``close`` cancels
        self._running: dict[str, Consumer] = {}  # I/O thread only
        connection.on_open(self._on_connection_open)
        connection.on_lost(self._on_connection_lost)

    # -- caller threads ---------------------------------------------------------------------------

    def consume(self, queue: str, handler: Handler, prefetch: int, concurrency: int) -> Consumer:
        consumer = Consumer(self, queue, handler, prefetch, concurrency)
        self._io.submit(partial(self._start, consumer))
        try:
            consumer.started.result(self._operation_timeout)
        except FutureTimeout:
            self.cancel(consumer, 0)
            raise Fault(
                FaultCode.BROKER_UNAVAILABLE, f"{self.url}: could not start consuming {queue!r}"
            ) from None
        except BaseException:
            consumer.wanted = False
            consumer.workers.shutdown()
            raise
        with self._lock:
            self._handles.add(consumer)
        return consumer

    def cancel_all(self, timeout: float) -> None:
        """Cancel every consumer, waiting up to ``timeout`` s for each one's handlers."""
        with self._lock:
            consumers = list(self._handles)
        for consumer in consumers:
            self.cancel(consumer, timeout)

    def settler(self, channel: Channel, tag: int) -> Any:
        """The settlement callback of one delivery on ``channel`` (called from any thread)."""
        return Settler(self, channel, tag, None)

    def hold_reply(self, request: Message, reply: Any) -> bool:
        """Keep ``reply`` to go with the settlement of ``request`` when this thread is handling it, unsettled.

        True when held; False when the caller must send it now (not in a handler, another message, or
        already settled).
        """
        current: Settler | None = getattr(self._local, "current", None)
        if current is None or current.message is not request:
            return False
        return current.hold(reply)

    def submit_settlement(self, channel: Channel, tag: int, outcome: Settlement, replies: list[Any]) -> None:
        """Hand the settlement (and the replies before it) to the I/O thread: one submission, or none when
        made on the I/O thread (an inline handler)."""
        if self._io.on_io_thread():
            self._settle(channel, tag, outcome, replies)
            return
        self._io.submit(partial(self._settle, channel, tag, outcome, replies))

    def cancel(self, consumer: Consumer, timeout: float) -> None:
        if not consumer.wanted:
            return
        self._io.check_may_wait("cancel")
        consumer.wanted = False
        with self._lock:
            self._handles.discard(consumer)
        stopped: Future[None] = Future()
        self._io.submit(partial(self._stop, consumer, stopped))
        try:
            stopped.result(timeout)
        except (FutureTimeout, Exception):
            log.warning("consumer cancel not confirmed", queue=consumer.queue)
        consumer.workers.shutdown()
        consumer.workers.then(timeout, lambda: self._io.submit(partial(self._close_channel, consumer)))

    # -- I/O thread -------------------------------------------------------------------------------

    def _on_connection_open(self) -> None:
        for consumer in list(self._running.values()):
            self._start(consumer)

    def _on_connection_lost(self, reason: BaseException) -> None:
        for consumer in self._running.values():
            consumer.channel = None

    def fail_all(self, fault: Fault) -> None:
        """On close: fail the consumers still starting."""
        for consumer in self._running.values():
            resolve(consumer.started, error=fault)

    def _start(self, consumer: Consumer) -> None:
        if consumer.retry is not None:
            self._io.remove_timeout(consumer.retry)
            consumer.retry = None
        if not consumer.wanted or self._io.closing:
            return
        self._running[consumer.tag] = consumer
        if consumer.channel is None:
            consumer.channel = self._io.channel(partial(self._on_channel, consumer))

    def _retry(self, consumer: Consumer) -> None:
        consumer.retry = None
        self._start(consumer)

    def _on_channel(self, consumer: Consumer, channel: Channel) -> None:
        if not consumer.wanted or channel is not consumer.channel:
            channel.close()
            return
        channel.add_on_close_callback(partial(self._on_closed, consumer))
        channel.add_on_cancel_callback(partial(self._on_cancelled_by_broker, consumer, channel))
        steps: list[Step] = [
            lambda ch, next_: ch.basic_qos(prefetch_count=consumer.prefetch, callback=next_),
            lambda ch, next_: ch.basic_consume(
                consumer.queue,
                partial(self._on_delivery, consumer),
                consumer_tag=consumer.tag,
                callback=next_,
            ),
        ]
        chain(channel, steps, lambda _frame: self._on_consuming(consumer))

    def _on_consuming(self, consumer: Consumer) -> None:
        if consumer.started.done():
            log.info("consumer resumed", queue=consumer.queue)
        consumer.failures = 0
        resolve(consumer.started)

    def _on_closed(self, consumer: Consumer, channel: Channel, reason: BaseException) -> None:
        if consumer.channel is channel:
            consumer.channel = None
        if not consumer.started.done() and isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            consumer.wanted = False
            self._running.pop(consumer.tag, None)
            resolve(consumer.started, error=channel_error(reason))
            return
        if not consumer.wanted or self._io.closing:
            return
        if self._io.is_open and consumer.retry is None:
            consumer.failures += 1
            delay = self._io.backoff(consumer.failures)
            log.warning(
                "consumer channel closed; resuming", queue=consumer.queue, reason=str(reason), delay=delay
            )
            consumer.retry = self._io.call_later(delay, partial(self._retry, consumer))

    def _on_cancelled_by_broker(self, consumer: Consumer, channel: Channel, frame: Any) -> None:
        log.error("consumer cancelled by the broker: queue deleted", queue=consumer.queue)
        consumer.wanted = False
        self._running.pop(consumer.tag, None)
        consumer.workers.shutdown()
        if channel.is_open:
            channel.close()

    def _on_delivery(
        self, consumer: Consumer, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        try:
            message = from_pika(method, properties, body, max_bytes=self._max_message_bytes)
        except Exception as error:  # never a traceback: its frames hold the body
            log.error("undecodable delivery rejected", queue=consumer.queue, error=type(error).__name__)
            channel.basic_reject(method.delivery_tag, requeue=False)
            return
        settler = Settler(self, channel, method.delivery_tag, message)
        if consumer.inline:
            self._handle_inline(consumer, settler, Delivery(message, consumer.queue, settler))
            return
        consumer.workers.submit(
            partial(self._handle, consumer.handler, settler), Delivery(message, consumer.queue, settler)
        )

    def _handle(self, handler: Handler, settler: Settler, delivery: Delivery) -> None:
        """A worker thread: run the handler with this delivery's replies held for its settlement."""
        self._local.current = settler
        try:
            handler(delivery)
        finally:
            self._local.current = None

    def _handle_inline(self, consumer: Consumer, settler: Settler, delivery: Delivery) -> None:
        """The I/O thread: run the handler now, settling what it left pending (as a worker would)."""
        started = time.monotonic()
        self._local.current = settler
        try:
            run_handler(consumer.handler, delivery)
        finally:
            self._local.current = None
        self._io.flush()  # its reply and ack leave now, not after the deliveries read with it
        took = time.monotonic() - started
        if took > SLOW_INLINE_SECONDS:
            log.warning(
                "slow handler on the connection's own thread: give this consumer threads",
                queue=consumer.queue,
                seconds=round(took, 1),
            )

    def _settle(self, channel: Channel, tag: int, outcome: Settlement, replies: list[Any]) -> None:
        if replies:
            self._send(replies)  # published before the settlement, as if sent when made
        if not channel.is_open:
            log.debug("settlement after the channel closed; the broker redelivers", outcome=str(outcome))
            return
        if outcome is Settlement.ACK:
            channel.basic_ack(tag)
        elif outcome is Settlement.REJECT:
            channel.basic_reject(tag, requeue=False)
        else:
            channel.basic_reject(tag, requeue=True)

    def _stop(self, consumer: Consumer, stopped: Future[None]) -> None:
        self._running.pop(consumer.tag, None)
        if consumer.retry is not None:
            self._io.remove_timeout(consumer.retry)
            consumer.retry = None
        channel = consumer.channel
        if channel is not None and channel.is_open:
            channel.basic_cancel(consumer.tag, callback=lambda _frame: resolve(stopped))
        else:
            resolve(stopped)

    def _close_channel(self, consumer: Consumer) -> None:
        channel, consumer.channel = consumer.channel, None
        if channel is not None and channel.is_open:
            channel.close()
