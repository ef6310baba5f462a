"""Publishing on RabbitMQ: the confirm-mode channel, its outbox and its confirms, returns and replies.

Invariants: one publishing channel per connection, in confirm mode, owned by the I/O thread. A publish
is queued in the outbox, sent when the channel is ready, and resolved by its confirm (UNROUTABLE when the
broker returned it first, PUBLISH_REJECTED on a nack). Publishes unconfirmed when the channel or the
connection is lost go back to the head of the outbox and are re-sent (at-least-once), as are calls
still waiting for their reply. The same channel consumes the replies (direct reply-to must be consumed
on the channel that publishes; a reply queue too, for one less channel).

A direct reply is the exception to re-sending: when the broker closes the connection with 541
INTERNAL_ERROR, the first unconfirmed direct reply is the one it failed on (direct replies are confirmed
at once, in order); it is dropped and its node held back (see ``reply_nodes``).

A nack also renews the channel (at most once a second): after a quorum queue's leader was lost, a
channel whose first publish to that queue came during the election keeps being refused by RabbitMQ 3.10
for that queue while fresh channels are accepted. The nacked publish fails (PUBLISH_REJECTED); the ones
still unconfirmed are re-sent on the new channel.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pika
import pika.exceptions
import structlog
from pika import spec
from pika.channel import Channel

from bus.faults import Fault, FaultCode
from bus.transport.base import (
    Message,
    OutgoingMessage,
    Publication,
    ReplyMode,
    closed_fault,
    effective_mandatory,
)
from bus.transport.properties import from_pika
from bus.transport.rabbitmq.common import PERSISTENT, Step, chain, quoted_after, resolve
from bus.transport.rabbitmq.connection import AmqpConnection
from bus.transport.rabbitmq.reply_nodes import UnreachableReplyNodes, reply_node
from bus.transport.topology import DIRECT_REPLY_TO
from bus.transport.waiters import ReplyWaiters, timeout_fault

log = structlog.get_logger(__name__)

_BATCH = 128


@dataclass(eq=False, slots=True)
class Pending:
    """One publish until its confirm; a call's future is resolved by its reply instead."""

    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    mandatory: bool
    message_id: str
    future: Future[Any]
    is_request: bool = False
    direct_reply: bool = False
    returned: str | None = None
    queued: bool = False
    abandoned: bool = False


def prepare(exchange: str, routing_key: str, message: OutgoingMessage, mandatory: bool) -> Pending:
    """A persistent publish of ``message`` (caller thread: no pika I/O)."""
    properties = pika.BasicProperties(
        delivery_mode=PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        headers=dict(message.headers) if message.headers else None,
        expiration=None if message.expiration_ms is None else str(message.expiration_ms),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
    )
    return Pending(
        exchange,
        routing_key,
        bytes(message.body),
        properties,
        effective_mandatory(routing_key, mandatory),
        message.message_id,
        Future(),
    )


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if isinstance(error, Fault):
        log.warning("reply not delivered", fault=str(error.code), reason=error.reason)


class Publisher:
    """The publishing channel of one transport, and the calls waiting for replies on it."""

    def __init__(
        self,
        connection: AmqpConnection,
        *,
        reply_mode: ReplyMode,
        reply_queue: str,
        publish_timeout: float,
        reply_exchange: str | None = None,
    ) -> None:
        self._io = connection
        self.url = connection.url
        self.reply_mode = reply_mode
        self.reply_queue = reply_queue
        self.reply_exchange = reply_exchange  # queue mode: also bound there, routing key = its name
        self.reply_to = DIRECT_REPLY_TO if reply_mode is ReplyMode.DIRECT else reply_queue
        self.publish_timeout = publish_timeout
        self.calls: ReplyWaiters[Pending] = ReplyWaiters()
        # I/O thread only.
        self._channel: Channel | None = None
        self._ready = False
        self._failures = 0
        self._next_tag = 0
        self._unconfirmed: OrderedDict[int, Pending] = OrderedDict()
        self._outbox: deque[Pending] = deque()
        self._held_nodes = UnreachableReplyNodes()
        self._renewed_at = 0.0
        connection.on_open(self._open_channel)
        connection.on_lost(self._on_connection_lost)

    # -- caller threads ---------------------------------------------------------------------------

    def send(self, publishes: list[Pending]) -> None:
        """Queue publishes for the I/O thread (one wake-up for the batch)."""
        self._io.submit(partial(self._enqueue, publishes))

    def await_confirm(self, pending: Pending, timeout: float) -> Fault | None:
        """Wait for a confirm: None when confirmed, else the fault."""
        try:
            pending.future.result(timeout)
        except Fault as fault:
            return fault
        except FutureTimeout:
            pending.abandoned = True
            state = "connected" if self._io.connected.is_set() else "not connected"
            return Fault(
                FaultCode.BROKER_UNAVAILABLE,
                f"{self.url}: no confirm for {pending.message_id} within {self.publish_timeout:g} s ({state})",
            )
        return None

    def publish(self, exchange: str, routing_key: str, message: OutgoingMessage, mandatory: bool) -> None:
        self._io.check_may_wait("publish")
        pending = prepare(exchange, routing_key, message, mandatory)
        self.send([pending])
        fault = self.await_confirm(pending, self.publish_timeout)
        if fault is not None:
            raise fault

    def publish_many(self, publications: Iterable[Publication], window: int) -> list[Fault | None]:
        self._io.check_may_wait("publish_many")
        slots = threading.Semaphore(window)
        sent: list[Pending] = []
        batch: list[Pending] = []
        gave_up = False
        for item in publications:
            pending = prepare(item.exchange, item.routing_key, item.message, item.mandatory)
            sent.append(pending)
            if not gave_up and not slots.acquire(blocking=False):
                if batch:
                    self.send(batch)
                    batch = []
                gave_up = not slots.acquire(timeout=self.publish_timeout)
            if gave_up:
                pending.abandoned = True
                continue
            pending.future.add_done_callback(lambda _future: slots.release())
            batch.append(pending)
            if len(batch) >= _BATCH:
                self.send(batch)
                batch = []
        if batch:
            self.send(batch)
        deadline = time.monotonic() + self.publish_timeout
        return [self.await_confirm(p, max(0.0, deadline - time.monotonic())) for p in sent]

    @staticmethod
    def direct_reply(reply_to: str, message: OutgoingMessage) -> Pending:
        """A direct reply-to reply, for ``send`` or ``enqueue``; nobody waits for its confirm."""
        pending = prepare("", reply_to, message, False)
        pending.is_request = True  # only a failure would be recorded, and ignored
        pending.direct_reply = True
        return pending

    @staticmethod
    def unwaited(exchange: str, routing_key: str, message: OutgoingMessage) -> Pending:
        """A mandatory publish nobody waits for (an inline handler's reply): a failure is logged."""
        pending = prepare(exchange, routing_key, message, True)
        pending.future.add_done_callback(_log_failure)
        return pending

    def request(self, exchange: str, service: str, message: OutgoingMessage, timeout: float) -> Message:
        self._io.check_may_wait("request")
        message = replace(message, reply_to=self.reply_to)
        pending = prepare(exchange, service, message, True)
        pending.is_request = True
        self.calls.add(message.message_id, pending)
        try:
            self.send([pending])
            reply: Message = pending.future.result(timeout)
            return reply
        except FutureTimeout:
            if not self._io.connected.is_set():
                raise Fault(
                    FaultCode.BROKER_UNAVAILABLE, f"{self.url}: disconnected while calling {service}"
                ) from None
            raise timeout_fault(message.message_id, service, timeout) from None
        finally:
            pending.abandoned = True
            self.calls.discard(message.message_id, pending)

    # -- I/O thread -------------------------------------------------------------------------------

    def _open_channel(self) -> None:
        if self._channel is None:
            self._channel = self._io.channel(self._on_open)

    def _on_open(self, channel: Channel) -> None:
        if channel is not self._channel:
            channel.close()
            return
        self._ready = False
        self._next_tag = 0
        channel.add_on_close_callback(self._on_closed)
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
                    self.reply_queue, exclusive=True, auto_delete=True, callback=next_
                ),
                lambda ch, next_: ch.basic_consume(
                    self.reply_queue, self._on_reply, auto_ack=True, callback=next_
                ),
            ]
            if self.reply_exchange is not None:
                exchange = self.reply_exchange
                steps.insert(
                    -1,
                    lambda ch, next_: ch.queue_bind(
                        self.reply_queue, exchange, routing_key=self.reply_queue, callback=next_
                    ),
                )
        chain(channel, steps, lambda _frame: self._on_ready(channel))

    def _on_ready(self, channel: Channel) -> None:
        if channel is self._channel:
            self._ready = True
            self._flush()

    def _on_connection_lost(self, reason: BaseException) -> None:
        if self._channel is not None:
            self._on_closed(self._channel, reason)

    def _on_closed(self, channel: Channel, reason: BaseException) -> None:
        if channel is not self._channel:
            return
        self._channel = None
        self._ready = False
        self._failures += 1
        self._drop_failed_reply(reason)
        requeue = self._settle_lost(reason)
        seen = {id(p) for p in requeue}
        waiting = self.calls.all()
        requeue += [p for p in waiting if id(p) not in seen and not p.queued and not p.future.done()]
        for pending in reversed(requeue):
            pending.returned = None
            pending.queued = True
            self._outbox.appendleft(pending)
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            log.warning("publishing channel closed by broker", code=reason.reply_code, text=reason.reply_text)
        if self._io.is_open and not self._io.closing:
            delay = 0.0 if self._failures <= 1 else self._io.backoff(self._failures)
            self._io.call_later(delay, self._open_channel)

    def _drop_failed_reply(self, reason: BaseException) -> None:
        """After a 541 close, drop the first unconfirmed direct reply and hold its node back."""
        if not (isinstance(reason, pika.exceptions.ConnectionClosedByBroker) and reason.reply_code == 541):
            return
        for tag, pending in self._unconfirmed.items():
            if pending.direct_reply:
                del self._unconfirmed[tag]
                node = reply_node(pending.routing_key)
                if node is not None:
                    self._held_nodes.hold(node)
                log.warning(
                    "direct reply dropped: the broker failed on its address",
                    id=pending.message_id,
                    node=node,
                    held_seconds=self._held_nodes.hold_seconds,
                )
                return

    def _settle_lost(self, reason: BaseException) -> list[Pending]:
        """Fail the publishes a broker channel error was about; return the others, to be re-sent."""
        lost = list(self._unconfirmed.values())
        self._unconfirmed.clear()
        if not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return lost
        text = reason.reply_text
        if reason.reply_code == 404 and (exchange := quoted_after(text, "no exchange '")) is not None:
            code, culprit = FaultCode.UNROUTABLE, exchange
        elif reason.reply_code == 403 and (exchange := quoted_after(text, "exchange '")) is not None:
            code, culprit = FaultCode.PUBLISH_REJECTED, exchange
        else:
            code, culprit = FaultCode.PUBLISH_REJECTED, None
        # a topic permission refuses one routing key, not the whole exchange
        topic = quoted_after(text, "access to topic '") if reason.reply_code == 403 else None
        keep = []
        for pending in lost:
            if culprit is None or (
                (pending.exchange or "amq.default") == culprit
                and (topic is None or pending.routing_key == topic)
            ):
                self._finish(pending, Fault(code, f"{reason.reply_code} {text}"))
            else:
                keep.append(pending)
        return keep

    def enqueue(self, publishes: list[Pending]) -> None:
        """On the I/O thread: queue publishes and send what the channel takes now."""
        self._enqueue(publishes)

    def _enqueue(self, publishes: list[Pending]) -> None:
        for pending in publishes:
            if self._io.closing:
                self._finish(pending, closed_fault(self.url))
                continue
            pending.queued = True
            self._outbox.append(pending)
        self._flush()

    def _flush(self) -> None:
        while self._outbox and self._ready and self._channel is not None:
            pending = self._outbox.popleft()
            pending.queued = False
            if pending.abandoned or pending.future.done():
                continue
            if pending.direct_reply and self._held_nodes.held(pending.routing_key):
                log.info("direct reply dropped: its node is held back", id=pending.message_id)
                continue
            try:
                self._channel.basic_publish(
                    pending.exchange, pending.routing_key, pending.body, pending.properties, pending.mandatory
                )
            except pika.exceptions.AMQPError:
                pending.queued = True
                self._outbox.appendleft(pending)
                return
            self._next_tag += 1
            self._unconfirmed[self._next_tag] = pending

    def _on_confirm(self, channel: Channel, frame: Any) -> None:
        if channel is not self._channel:
            return
        method = frame.method
        acked = isinstance(method, spec.Basic.Ack)
        self._failures = 0
        if method.multiple:
            while self._unconfirmed:
                tag = next(iter(self._unconfirmed))
                if tag > method.delivery_tag:
                    break
                self._confirmed(self._unconfirmed.popitem(last=False)[1], acked)
        else:
            pending = self._unconfirmed.pop(method.delivery_tag, None)
            if pending is not None:
                self._confirmed(pending, acked)

    def _confirmed(self, pending: Pending, acked: bool) -> None:
        where = f"{pending.exchange!r} with routing key {pending.routing_key!r}"
        if not acked:
            self._finish(
                pending, Fault(FaultCode.PUBLISH_REJECTED, f"broker nacked {pending.message_id} to {where}")
            )
            self._renew_channel()
        elif pending.returned is not None:
            self._finish(
                pending,
                Fault(
                    FaultCode.UNROUTABLE, f"no queue for {pending.message_id} on {where} ({pending.returned})"
                ),
            )
        else:
            self._finish(pending, None)

    def _renew_channel(self) -> None:
        """Close the publishing channel so that a fresh one replaces it (at most once a second)."""
        now = time.monotonic()
        channel = self._channel
        if channel is None or not channel.is_open or now - self._renewed_at < 1.0:
            return
        self._renewed_at = now
        log.info("publishing channel renewed after a nack")
        channel.close()

    def _finish(self, pending: Pending, error: Fault | None) -> None:
        if pending.is_request and error is None:
            return  # a call is resolved by its reply, not by its confirm
        resolve(pending.future, error=error)

    def _on_returned(
        self, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        if channel is not self._channel:
            return
        for pending in self._unconfirmed.values():
            if (
                pending.returned is None
                and pending.message_id == properties.message_id
                and pending.exchange == method.exchange
                and pending.routing_key == method.routing_key
            ):
                pending.returned = f"{method.reply_code} {method.reply_text}"
                return

    def _on_reply(self, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        self.calls.deliver(from_pika(method, properties, body))

    def fail_all(self, fault: Fault) -> None:
        """On close (I/O thread): fail every queued, unconfirmed or waiting publish and call."""
        for pending in [*self._outbox, *self._unconfirmed.values(), *self.calls.all()]:
            resolve(pending.future, error=fault)
        self._outbox.clear()
        self._unconfirmed.clear()
