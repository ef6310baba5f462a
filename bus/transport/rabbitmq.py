"""RabbitMQ transport on pika (``amqp://`` and ``amqps://``).

Threading: one I/O thread per transport owns the pika ``SelectConnection`` and all its channels; no other
thread touches a pika object. Callers queue closures for the I/O thread (one ``add_callback_threadsafe``
wake-up per batch) and wait on futures it resolves: a publish waits for its confirm, a request for its
reply. Deliveries are handed to each consumer's worker pool, and ``ack``/``reject``/``requeue`` travel
back the same way, so a handler may run far longer than the heartbeat: the I/O thread keeps answering
heartbeats meanwhile.

Channels: one publishing channel in confirm mode (every publish is persistent and, unless addressed to a
direct reply-to address, mandatory) that also consumes the replies, one channel per consumer (its own
prefetch), one channel for ``get`` and short-lived channels for topology operations.

Replies (see ``ReplyMode``): ``direct`` consumes ``amq.rabbitmq.reply-to`` (no-ack) on the publishing
channel: no queue, fastest, at-most-once: a reply sent while the client is disconnected, or to a client
that has gone, is dropped silently. ``queue`` consumes a per-client exclusive queue: a reply is stored
(the provider gets a confirm, or UNROUTABLE once the client has gone), but the queue dies with the
client's connection. Either way a lost reply is recovered by the caller retrying with the same message
id, and the provider answering the duplicate idempotently. A request still waiting when the connection
(or the publishing channel) is lost is re-sent once the channel is back, within its timeout.

Reconnection: a lost connection is reopened with exponential backoff (capped, jittered, forever until
``close``). Unconfirmed publishes are re-sent after reconnecting (at-least-once: a duplicate is possible,
receivers discard by message id); a publish gives up with BROKER_UNAVAILABLE after ``publish_timeout``.
Consumers resume on the new connection; deliveries settled after the loss are redelivered by the broker.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pika
import pika.exceptions
import structlog
from pika import spec
from pika.adapters.select_connection import IOLoop
from pika.channel import Channel

from bus.faults import Fault, FaultCode
from bus.transport import mask_url
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
    WorkerPool,
    closed_fault,
    effective_mandatory,
)
from bus.transport.topology import DIRECT_REPLY_TO, Topology, is_direct_reply_address

log = structlog.get_logger(__name__)

_PERSISTENT = 2
DEFAULT_HEARTBEAT = 30
DEFAULT_CONNECT_TIMEOUT = 10.0
_BATCH = 128

Step = Callable[[Channel, Callable[[Any], None]], None]


class _ConnectionLost(Exception):
    """An operation's channel went away with the connection; the caller retries after reconnecting."""


def _resolve(future: Future[Any], value: Any = None, error: BaseException | None = None) -> None:
    try:
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
    except InvalidStateError:
        pass


def _channel_error(reason: BaseException) -> BaseException:
    if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
        return TopologyError(f"{reason.reply_code} {reason.reply_text}")
    return _ConnectionLost(str(reason))


def _quoted_after(text: str, marker: str) -> str | None:
    """``"NOT_FOUND - no exchange 'x' in vhost '/'"``, ``"exchange '"`` -> ``"x"``."""
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = text.find("'", start)
    return text[start:end] if end >= 0 else None


def _received(method: Any, properties: pika.BasicProperties, body: bytes) -> Message:
    headers = properties.headers or {}
    return Message(
        body=body,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        headers=headers,
        exchange=method.exchange,
        routing_key=method.routing_key,
        redelivered=bool(getattr(method, "redelivered", False)),
        delivery_count=int(headers.get("x-delivery-count", 0)),
        content_type=properties.content_type,
    )


@dataclass(eq=False, slots=True)
class _Publish:
    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    mandatory: bool
    message_id: str
    future: Future[Any]
    is_request: bool = False
    returned: str | None = None
    queued: bool = False
    abandoned: bool = False


class _Consumer(ConsumerHandle):
    def __init__(
        self, transport: RabbitMQTransport, queue: str, handler: Handler, prefetch: int, concurrency: int
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.tag = f"govbus-{uuid.uuid4().hex}"
        self.workers = WorkerPool(queue, concurrency)
        self.started: Future[None] = Future()
        self.wanted = True
        self.failures = 0
        self.channel: Channel | None = None
        self.retry: Any = None
        self._transport = transport

    @property
    def active(self) -> bool:
        return self.wanted

    def cancel(self, timeout: float = 30.0) -> None:
        self._transport._cancel_consumer(self, timeout)


class RabbitMQTransport(Transport):
    """One pika connection with its own I/O thread; see the module docstring.

    Options: ``reply_mode`` (``direct`` or ``queue``); ``heartbeat`` in seconds (default: the URL's
    ``heartbeat`` query parameter, else 30; 0 turns heartbeats off);
    ``publish_timeout``: how long a publish waits for its confirm, across reconnections, before
    BROKER_UNAVAILABLE; ``operation_timeout``: the same for topology operations, ``get`` and ``consume``;
    ``connect_attempts``: tries of the first connection before ``connect`` fails, each bounded by
    ``connect_timeout`` (TCP, TLS and AMQP handshakes; default: the URL's ``stack_timeout`` and
    ``socket_timeout``, else 10 s); ``max_backoff``: cap of the delay between reconnection attempts.
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
    ) -> None:
        self.url = mask_url(url)
        self.topology = topology or Topology()
        self.reply_mode = ReplyMode(reply_mode)
        self._publish_timeout = publish_timeout
        self._operation_timeout = operation_timeout
        self._connect_attempts = max(1, connect_attempts)
        self._max_backoff = max_backoff
        try:
            params = pika.URLParameters(url)
        except Exception as error:
            raise ValueError(f"invalid broker URL {self.url!r}: {error}") from None
        query = parse_qs(urlsplit(url).query)
        if heartbeat is not None:
            params.heartbeat = heartbeat
        elif "heartbeat" not in query:
            params.heartbeat = DEFAULT_HEARTBEAT
        for option in ("stack_timeout", "socket_timeout"):
            if connect_timeout is not None or option not in query:
                setattr(params, option, connect_timeout or DEFAULT_CONNECT_TIMEOUT)
        params.connection_attempts = 1
        name = connection_name or f"govbus {self.topology.prefix} pid {os.getpid()}"
        params.client_properties = {"connection_name": name}
        self._params = params
        self._reply_queue = self.topology.reply_queue(uuid.uuid4().hex)
        self._reply_to = DIRECT_REPLY_TO if self.reply_mode is ReplyMode.DIRECT else self._reply_queue

        # Shared with caller threads (guarded by _lock).
        self._lock = threading.Lock()
        self._ops: deque[Callable[[], None]] = deque()
        self._wake_pending = False
        self._requests: dict[str, list[_Publish]] = {}
        self._handles: set[_Consumer] = set()
        self._closed = False
        self._connected = threading.Event()
        self._get_lock = threading.Lock()

        # I/O thread only.
        self._ioloop = IOLoop()
        self._conn: pika.SelectConnection | None = None
        self._closing = False
        self._attempts = 0
        self._reconnections = 0
        self._reconnect_timer: Any = None
        self._pub: Channel | None = None
        self._pub_ready = False
        self._pub_failures = 0
        self._next_tag = 0
        self._unconfirmed: OrderedDict[int, _Publish] = OrderedDict()
        self._outbox: deque[_Publish] = deque()
        self._consumers: dict[str, _Consumer] = {}
        self._get_channel: Channel | None = None
        self._get_result: Future[Delivery | None] | None = None

        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="govbus-amqp-io", daemon=True)
        self._thread.start()
        try:
            self._started.result()
        except BaseException:
            self._thread.join(5)
            raise

    @property
    def connected(self) -> bool:
        """True while the connection is open (it may still be re-establishing channels)."""
        return self._connected.is_set()

    @property
    def reconnections(self) -> int:
        """How many times the connection was re-established since ``connect``."""
        return self._reconnections

    def __repr__(self) -> str:
        return f"<RabbitMQTransport {self.url} prefix={self.topology.prefix}>"

    # -- the I/O thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        self._connect()
        try:
            while True:
                try:
                    self._ioloop.start()
                    return
                except Exception:
                    log.exception("transport I/O loop error; continuing", url=self.url)
        finally:
            self._ioloop.close()

    def _submit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the I/O thread (from any thread); callbacks run in submission order."""
        with self._lock:
            self._ops.append(callback)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._ioloop.add_callback_threadsafe(self._drain)
        except Exception:
            log.debug("transport I/O loop gone; callback dropped", url=self.url)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._ops:
                    self._wake_pending = False
                    return
                ops, self._ops = self._ops, deque()
            for callback in ops:
                try:
                    callback()
                except Exception:
                    log.exception("transport I/O callback failed", url=self.url)

    def _backoff(self, failures: int) -> float:
        return min(self._max_backoff, 0.1 * 2 ** max(0, failures - 1)) * random.uniform(0.5, 1.0)

    def _connect(self) -> None:
        self._reconnect_timer = None
        if self._closing:
            return
        self._attempts += 1
        try:
            pika.SelectConnection(
                self._params,
                on_open_callback=self._on_open,
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_closed,
                custom_ioloop=self._ioloop,
            )
        except Exception as error:
            self._on_open_error(None, error)

    def _schedule_reconnect(self) -> None:
        if self._reconnect_timer is None and not self._closing:
            delay = self._backoff(self._attempts)
            self._reconnect_timer = self._ioloop.call_later(delay, self._connect)

    def _on_open(self, connection: pika.SelectConnection) -> None:
        if self._closing:
            connection.close()
            return
        reconnected = self._started.done()
        if reconnected:
            self._reconnections += 1
        self._conn = connection
        self._attempts = 0
        self._connected.set()
        self._open_pub_channel()
        for consumer in list(self._consumers.values()):
            self._start_consumer(consumer)
        if reconnected:
            log.info("reconnected to broker", url=self.url)
        _resolve(self._started)

    def _on_open_error(self, connection: pika.SelectConnection | None, error: BaseException) -> None:
        if not self._started.done() and self._attempts >= self._connect_attempts:
            self._closing = True
            fault = Fault(FaultCode.BROKER_UNAVAILABLE, f"cannot connect to {self.url}: {_describe(error)}")
            _resolve(self._started, error=fault)
            self._ioloop.stop()
            return
        log.warning("broker connection failed; retrying", url=self.url, error=_describe(error))
        self._schedule_reconnect()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        current = connection is self._conn
        if current:
            self._conn = None
            self._connected.clear()
            if self._get_channel is not None:
                self._on_get_closed(self._get_channel, reason)
            if self._pub is not None:
                self._on_pub_closed(self._pub, reason)
            for consumer in self._consumers.values():
                consumer.channel = None
        if self._closing:
            self._ioloop.stop()
        elif current:
            log.warning("broker connection lost; reconnecting", url=self.url, reason=str(reason))
            self._schedule_reconnect()

    # -- publishing (I/O thread) ------------------------------------------------------------------

    def _open_pub_channel(self) -> None:
        connection = self._conn
        if connection is not None and connection.is_open and self._pub is None:
            self._pub = connection.channel(on_open_callback=self._on_pub_open)

    def _on_pub_open(self, channel: Channel) -> None:
        if channel is not self._pub:
            channel.close()
            return
        self._pub_ready = False
        self._next_tag = 0
        channel.add_on_close_callback(self._on_pub_closed)
        channel.add_on_return_callback(self._on_returned)
        steps: list[Step] = [
            lambda ch, next_: ch.confirm_delivery(partial(self._on_confirm, ch), callback=next_),
            lambda ch, next_: ch.basic_consume(
                DIRECT_REPLY_TO, self._on_reply, auto_ack=True, callback=next_
            ),
        ]
        if self.reply_mode is ReplyMode.QUEUE:
            steps += [
                lambda ch, next_: ch.queue_declare(
                    self._reply_queue, exclusive=True, auto_delete=True, callback=next_
                ),
                lambda ch, next_: ch.basic_consume(
                    self._reply_queue, self._on_reply, auto_ack=True, callback=next_
                ),
            ]
        self._chain(channel, steps, lambda _frame: self._on_pub_ready(channel))

    def _on_pub_ready(self, channel: Channel) -> None:
        if channel is self._pub:
            self._pub_ready = True
            self._flush()

    def _on_pub_closed(self, channel: Channel, reason: BaseException) -> None:
        if channel is not self._pub:
            return
        self._pub = None
        self._pub_ready = False
        self._pub_failures += 1
        requeue = self._settle_lost_publishes(reason)
        with self._lock:
            waiting = [p for ps in self._requests.values() for p in ps]
        seen = {id(p) for p in requeue}
        requeue += [p for p in waiting if id(p) not in seen and not p.queued and not p.future.done()]
        for publish in reversed(requeue):
            publish.returned = None
            publish.queued = True
            self._outbox.appendleft(publish)
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            log.warning("publishing channel closed by broker", code=reason.reply_code, text=reason.reply_text)
        if self._conn is not None and self._conn.is_open and not self._closing:
            delay = 0.0 if self._pub_failures <= 1 else self._backoff(self._pub_failures)
            self._ioloop.call_later(delay, self._open_pub_channel)

    def _settle_lost_publishes(self, reason: BaseException) -> list[_Publish]:
        """Fail the publishes a broker channel error was about; return the others, to be re-sent."""
        lost = list(self._unconfirmed.values())
        self._unconfirmed.clear()
        if not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return lost
        text = reason.reply_text
        if reason.reply_code == 404 and (exchange := _quoted_after(text, "no exchange '")) is not None:
            code, culprit = FaultCode.UNROUTABLE, exchange
        elif reason.reply_code == 403 and (exchange := _quoted_after(text, "exchange '")) is not None:
            code, culprit = FaultCode.PUBLISH_REJECTED, exchange
        else:
            code, culprit = FaultCode.PUBLISH_REJECTED, None
        keep = []
        for publish in lost:
            if culprit is None or publish.exchange == culprit:
                self._finish(publish, Fault(code, f"{reason.reply_code} {text}"))
            else:
                keep.append(publish)
        return keep

    def _enqueue(self, publishes: list[_Publish]) -> None:
        for publish in publishes:
            if self._closing:
                self._finish(publish, closed_fault(self.url))
                continue
            publish.queued = True
            self._outbox.append(publish)
        self._flush()

    def _flush(self) -> None:
        while self._outbox and self._pub_ready and self._pub is not None:
            publish = self._outbox.popleft()
            publish.queued = False
            if publish.abandoned or publish.future.done():
                continue
            try:
                self._pub.basic_publish(
                    publish.exchange, publish.routing_key, publish.body, publish.properties, publish.mandatory
                )
            except pika.exceptions.AMQPError:
                publish.queued = True
                self._outbox.appendleft(publish)
                return
            self._next_tag += 1
            self._unconfirmed[self._next_tag] = publish

    def _on_confirm(self, channel: Channel, frame: Any) -> None:
        if channel is not self._pub:
            return
        method = frame.method
        acked = isinstance(method, spec.Basic.Ack)
        self._pub_failures = 0
        if method.multiple:
            while self._unconfirmed:
                tag = next(iter(self._unconfirmed))
                if tag > method.delivery_tag:
                    break
                self._confirmed(self._unconfirmed.popitem(last=False)[1], acked)
        else:
            publish = self._unconfirmed.pop(method.delivery_tag, None)
            if publish is not None:
                self._confirmed(publish, acked)

    def _confirmed(self, publish: _Publish, acked: bool) -> None:
        where = f"{publish.exchange!r} with routing key {publish.routing_key!r}"
        if not acked:
            self._finish(
                publish, Fault(FaultCode.PUBLISH_REJECTED, f"broker nacked {publish.message_id} to {where}")
            )
        elif publish.returned is not None:
            self._finish(
                publish,
                Fault(
                    FaultCode.UNROUTABLE, f"no queue for {publish.message_id} on {where} ({publish.returned})"
                ),
            )
        else:
            self._finish(publish, None)

    def _finish(self, publish: _Publish, error: Fault | None) -> None:
        if publish.is_request:
            if error is not None:
                _resolve(publish.future, error=error)
        else:
            _resolve(publish.future, error=error)

    def _on_returned(
        self, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        if channel is not self._pub:
            return
        for publish in self._unconfirmed.values():
            if (
                publish.returned is None
                and publish.message_id == properties.message_id
                and publish.exchange == method.exchange
                and publish.routing_key == method.routing_key
            ):
                publish.returned = f"{method.reply_code} {method.reply_text}"
                return

    def _on_reply(self, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        with self._lock:
            waiting = list(self._requests.get(properties.correlation_id or "", ()))
        if not waiting:
            log.debug("late or unknown reply dropped", correlation_id=properties.correlation_id)
            return
        reply = _received(method, properties, body)
        for publish in waiting:
            _resolve(publish.future, reply)

    # -- publishing (caller threads) --------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise closed_fault(self.url)

    def _prepare(
        self, exchange: str, routing_key: str, message: OutgoingMessage, mandatory: bool
    ) -> _Publish:
        properties = pika.BasicProperties(
            delivery_mode=_PERSISTENT,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            reply_to=message.reply_to,
            headers=dict(message.headers) if message.headers else None,
            expiration=None if message.expiration_ms is None else str(message.expiration_ms),
            content_type=message.content_type,
        )
        return _Publish(
            exchange,
            routing_key,
            bytes(message.body),
            properties,
            effective_mandatory(routing_key, mandatory),
            message.message_id,
            Future(),
        )

    def _await_confirm(self, publish: _Publish, timeout: float) -> Fault | None:
        try:
            publish.future.result(timeout)
        except Fault as fault:
            return fault
        except FutureTimeout:
            publish.abandoned = True
            state = "connected" if self._connected.is_set() else "not connected"
            return Fault(
                FaultCode.BROKER_UNAVAILABLE,
                f"{self.url}: no confirm for {publish.message_id} within {self._publish_timeout:g} s ({state})",
            )
        return None

    def publish(
        self, exchange: str, routing_key: str, message: OutgoingMessage, *, mandatory: bool = True
    ) -> None:
        self._check_open()
        publish = self._prepare(exchange, routing_key, message, mandatory)
        self._submit(partial(self._enqueue, [publish]))
        fault = self._await_confirm(publish, self._publish_timeout)
        if fault is not None:
            raise fault

    def publish_many(self, publications: Iterable[Publication], *, window: int = 256) -> list[Fault | None]:
        if window < 1:
            raise ValueError("window must be >= 1")
        self._check_open()
        slots = threading.Semaphore(window)
        sent: list[_Publish] = []
        batch: list[_Publish] = []
        gave_up = False
        for item in publications:
            publish = self._prepare(item.exchange, item.routing_key, item.message, item.mandatory)
            sent.append(publish)
            if not gave_up and not slots.acquire(blocking=False):
                if batch:
                    self._submit(partial(self._enqueue, batch))
                    batch = []
                gave_up = not slots.acquire(timeout=self._publish_timeout)
            if gave_up:
                publish.abandoned = True
                continue
            publish.future.add_done_callback(lambda _future: slots.release())
            batch.append(publish)
            if len(batch) >= _BATCH:
                self._submit(partial(self._enqueue, batch))
                batch = []
        if batch:
            self._submit(partial(self._enqueue, batch))
        deadline = time.monotonic() + self._publish_timeout
        return [self._await_confirm(p, max(0.0, deadline - time.monotonic())) for p in sent]

    def reply(self, delivery: Delivery | Message, message: OutgoingMessage) -> None:
        """As ``Transport.reply``; a direct reply-to reply returns once handed to the I/O thread.

        The broker can report neither delivery nor loss of a direct reply, so waiting for its confirm
        would add a round trip and guarantee nothing more.
        """
        request = delivery.message if isinstance(delivery, Delivery) else delivery
        if not request.reply_to or not is_direct_reply_address(request.reply_to):
            super().reply(delivery, message)
            return
        self._check_open()
        if message.correlation_id is None:
            message = replace(message, correlation_id=request.message_id)
        publish = self._prepare("", request.reply_to, message, False)
        publish.is_request = True  # nobody waits: only a failure would be recorded, and ignored
        self._submit(partial(self._enqueue, [publish]))

    def request(self, service: str, message: OutgoingMessage, *, timeout: float) -> Message:
        self._check_open()
        message = replace(message, reply_to=self._reply_to)
        publish = self._prepare(self.topology.requests_exchange, service, message, True)
        publish.is_request = True
        with self._lock:
            self._requests.setdefault(message.message_id, []).append(publish)
        try:
            self._submit(partial(self._enqueue, [publish]))
            return publish.future.result(timeout)
        except FutureTimeout:
            if not self._connected.is_set():
                raise Fault(
                    FaultCode.BROKER_UNAVAILABLE, f"{self.url}: disconnected while calling {service}"
                ) from None
            raise Fault(
                FaultCode.TIMEOUT, f"no reply to {message.message_id} from {service} within {timeout:g} s"
            ) from None
        finally:
            publish.abandoned = True
            with self._lock:
                waiting = self._requests.get(message.message_id, [])
                if publish in waiting:
                    waiting.remove(publish)
                if not waiting:
                    self._requests.pop(message.message_id, None)

    # -- consuming --------------------------------------------------------------------------------

    def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 32, concurrency: int = 4
    ) -> ConsumerHandle:
        self._check_open()
        if prefetch < 1 or concurrency < 1:
            raise ValueError("prefetch and concurrency must be >= 1")
        consumer = _Consumer(self, queue, handler, prefetch, concurrency)
        self._submit(partial(self._start_consumer, consumer))
        try:
            consumer.started.result(self._operation_timeout)
        except FutureTimeout:
            self._cancel_consumer(consumer, 0)
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

    def _start_consumer(self, consumer: _Consumer) -> None:
        if consumer.retry is not None:
            self._ioloop.remove_timeout(consumer.retry)
            consumer.retry = None
        if not consumer.wanted or self._closing:
            return
        self._consumers[consumer.tag] = consumer
        connection = self._conn
        if connection is None or not connection.is_open or consumer.channel is not None:
            return
        consumer.channel = connection.channel(on_open_callback=partial(self._on_consumer_channel, consumer))

    def _retry_consumer(self, consumer: _Consumer) -> None:
        consumer.retry = None
        self._start_consumer(consumer)

    def _on_consumer_channel(self, consumer: _Consumer, channel: Channel) -> None:
        if not consumer.wanted or channel is not consumer.channel:
            channel.close()
            return
        channel.add_on_close_callback(partial(self._on_consumer_closed, consumer))
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
        self._chain(channel, steps, lambda _frame: self._on_consuming(consumer, channel))

    def _on_consuming(self, consumer: _Consumer, channel: Channel) -> None:
        if consumer.started.done():
            log.info("consumer resumed", queue=consumer.queue)
        consumer.failures = 0
        _resolve(consumer.started)

    def _on_consumer_closed(self, consumer: _Consumer, channel: Channel, reason: BaseException) -> None:
        if consumer.channel is channel:
            consumer.channel = None
        if not consumer.started.done() and isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            consumer.wanted = False
            self._consumers.pop(consumer.tag, None)
            _resolve(consumer.started, error=_channel_error(reason))
            return
        if not consumer.wanted or self._closing:
            return
        connection = self._conn
        if connection is not None and connection.is_open and consumer.retry is None:
            consumer.failures += 1
            delay = self._backoff(consumer.failures)
            log.warning(
                "consumer channel closed; resuming", queue=consumer.queue, reason=str(reason), delay=delay
            )
            consumer.retry = self._ioloop.call_later(delay, partial(self._retry_consumer, consumer))

    def _on_cancelled_by_broker(self, consumer: _Consumer, channel: Channel, frame: Any) -> None:
        log.error("consumer cancelled by the broker: queue deleted", queue=consumer.queue)
        consumer.wanted = False
        self._consumers.pop(consumer.tag, None)
        consumer.workers.shutdown()
        if channel.is_open:
            channel.close()

    def _on_delivery(
        self,
        consumer: _Consumer,
        channel: Channel,
        method: Any,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        try:
            message = _received(method, properties, body)
        except Exception:
            log.exception("undecodable delivery rejected", queue=consumer.queue)
            channel.basic_reject(method.delivery_tag, requeue=False)
            return
        settler = partial(self._settle_threadsafe, channel, method.delivery_tag)
        consumer.workers.submit(consumer.handler, Delivery(message, consumer.queue, settler))

    def _settle_threadsafe(self, channel: Channel, tag: int, outcome: Settlement) -> None:
        self._submit(partial(self._settle, channel, tag, outcome))

    def _settle(self, channel: Channel, tag: int, outcome: Settlement) -> None:
        if not channel.is_open:
            log.debug("settlement after the channel closed; the broker redelivers", outcome=str(outcome))
            return
        if outcome is Settlement.ACK:
            channel.basic_ack(tag)
        elif outcome is Settlement.REJECT:
            channel.basic_reject(tag, requeue=False)
        else:
            channel.basic_reject(tag, requeue=True)

    def _cancel_consumer(self, consumer: _Consumer, timeout: float) -> None:
        if not consumer.wanted:
            return
        consumer.wanted = False
        with self._lock:
            self._handles.discard(consumer)
        stopped: Future[None] = Future()
        self._submit(partial(self._stop_consuming, consumer, stopped))
        try:
            stopped.result(timeout)
        except (FutureTimeout, Exception):
            log.warning("consumer cancel not confirmed", queue=consumer.queue)
        consumer.workers.shutdown()

        def finish() -> None:
            consumer.workers.wait(timeout)
            self._submit(partial(self._close_consumer_channel, consumer))

        if consumer.workers.inside:
            threading.Thread(target=finish, name="govbus-consumer-close", daemon=True).start()
        else:
            finish()

    def _stop_consuming(self, consumer: _Consumer, stopped: Future[None]) -> None:
        self._consumers.pop(consumer.tag, None)
        if consumer.retry is not None:
            self._ioloop.remove_timeout(consumer.retry)
            consumer.retry = None
        channel = consumer.channel
        if channel is not None and channel.is_open:
            channel.basic_cancel(consumer.tag, callback=lambda _frame: _resolve(stopped))
        else:
            _resolve(stopped)

    def _close_consumer_channel(self, consumer: _Consumer) -> None:
        channel, consumer.channel = consumer.channel, None
        if channel is not None and channel.is_open:
            channel.close()

    # -- operations on short-lived channels -------------------------------------------------------

    def _chain(self, channel: Channel, steps: list[Step], done: Callable[[Any], None]) -> None:
        """Run AMQP methods one after the other on ``channel``; ``done`` gets the last reply frame."""

        def run(index: int, frame: Any) -> None:
            if index == len(steps):
                done(frame)
            elif channel.is_open:
                steps[index](channel, partial(run, index + 1))

        run(0, None)

    def _call(self, what: str, start: Callable[[Future[Any]], None]) -> Any:
        """Run ``start`` on the I/O thread until it resolves; retry when the connection is lost meanwhile."""
        self._check_open()
        deadline = time.monotonic() + self._operation_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._connected.wait(remaining):
                raise Fault(FaultCode.BROKER_UNAVAILABLE, f"{self.url}: not connected; cannot {what}")
            result: Future[Any] = Future()
            self._submit(partial(start, result))
            try:
                return result.result(max(0.0, deadline - time.monotonic()))
            except _ConnectionLost:
                continue
            except FutureTimeout:
                raise Fault(
                    FaultCode.BROKER_UNAVAILABLE,
                    f"{self.url}: no answer within {self._operation_timeout:g} s to {what}",
                ) from None

    def _operate(self, what: str, steps: list[Step]) -> Any:
        return self._call(what, partial(self._run_steps, steps))

    def _run_steps(self, steps: list[Step], result: Future[Any]) -> None:
        connection = self._conn
        if connection is None or not connection.is_open:
            _resolve(result, error=_ConnectionLost())
            return

        def opened(channel: Channel) -> None:
            channel.add_on_close_callback(lambda _ch, reason: _resolve(result, error=_channel_error(reason)))

            def done(frame: Any) -> None:
                _resolve(result, frame)
                channel.close()

            try:
                self._chain(channel, steps, done)
            except Exception as error:
                _resolve(result, error=error)
                channel.close()

        connection.channel(on_open_callback=opened)

    def declare_exchanges(self) -> None:
        steps: list[Step] = [
            partial(
                lambda spec_, ch, next_: ch.exchange_declare(
                    spec_.name, exchange_type=spec_.kind.value, durable=True, callback=next_
                ),
                exchange,
            )
            for exchange in self.topology.exchanges()
        ]
        self._operate("declare the exchanges", steps)

    def declare_queue(
        self, name: str, arguments: Mapping[str, Any], bindings: Iterable[tuple[str, str]]
    ) -> None:
        steps: list[Step] = [
            lambda ch, next_: ch.queue_declare(name, durable=True, arguments=dict(arguments), callback=next_)
        ]
        for exchange, routing_key in bindings:
            steps.append(
                partial(
                    lambda e, k, ch, next_: ch.queue_bind(name, e, routing_key=k, callback=next_),
                    exchange,
                    routing_key,
                )
            )
        self._operate(f"declare queue {name!r}", steps)

    def delete_queue(self, name: str) -> None:
        self._operate(f"delete queue {name!r}", [lambda ch, next_: ch.queue_delete(name, callback=next_)])

    def delete_exchange(self, name: str) -> None:
        self._operate(
            f"delete exchange {name!r}", [lambda ch, next_: ch.exchange_delete(name, callback=next_)]
        )

    def purge_queue(self, name: str) -> int:
        frame = self._operate(
            f"purge queue {name!r}", [lambda ch, next_: ch.queue_purge(name, callback=next_)]
        )
        return int(frame.method.message_count)

    def queue_depth(self, name: str) -> int:
        frame = self._operate(
            f"inspect queue {name!r}",
            [lambda ch, next_: ch.queue_declare(name, passive=True, callback=next_)],
        )
        return int(frame.method.message_count)

    # -- get --------------------------------------------------------------------------------------

    def get(self, queue: str) -> Delivery | None:
        with self._get_lock:
            return self._call(f"get from {queue!r}", partial(self._start_get, queue))

    def _start_get(self, queue: str, result: Future[Delivery | None]) -> None:
        channel = self._get_channel
        if channel is not None and channel.is_open:
            self._get_result = result
            channel.basic_get(queue, partial(self._on_get_ok, queue), auto_ack=False)
            return
        connection = self._conn
        if connection is None or not connection.is_open:
            _resolve(result, error=_ConnectionLost())
            return

        def opened(channel: Channel) -> None:
            channel.add_on_close_callback(self._on_get_closed)
            channel.add_callback(self._on_get_empty, [spec.Basic.GetEmpty], one_shot=False)
            self._start_get(queue, result)

        self._get_channel = connection.channel(on_open_callback=opened)

    def _on_get_ok(
        self, queue: str, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        result, self._get_result = self._get_result, None
        delivery = Delivery(
            _received(method, properties, body),
            queue,
            partial(self._settle_threadsafe, channel, method.delivery_tag),
        )
        if result is not None:
            _resolve(result, delivery)

    def _on_get_empty(self, _frame: Any) -> None:
        result, self._get_result = self._get_result, None
        if result is not None:
            _resolve(result, None)

    def _on_get_closed(self, channel: Channel, reason: BaseException) -> None:
        if channel is self._get_channel:
            self._get_channel = None
        result, self._get_result = self._get_result, None
        if result is not None:
            _resolve(result, error=_channel_error(reason))

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._handles)
        for consumer in consumers:
            self._cancel_consumer(consumer, 30.0)
        self._submit(self._shutdown)
        self._thread.join(30)

    def _shutdown(self) -> None:
        self._closing = True
        if self._reconnect_timer is not None:
            self._ioloop.remove_timeout(self._reconnect_timer)
            self._reconnect_timer = None
        fault = closed_fault(self.url)
        with self._lock:
            waiting = [p for ps in self._requests.values() for p in ps]
        for publish in [*self._outbox, *self._unconfirmed.values(), *waiting]:
            _resolve(publish.future, error=fault)
        self._outbox.clear()
        self._unconfirmed.clear()
        for consumer in self._consumers.values():
            _resolve(consumer.started, error=fault)
        connection = self._conn
        if connection is not None and connection.is_open:
            connection.close()
        elif connection is None or connection.is_closed:
            self._ioloop.stop()


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:297] + "..."
