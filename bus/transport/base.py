"""The byte-level transport contract: value types and the ``Transport`` interface.

A ``Transport`` is one connection to a broker, shared by every thread of a participant. It moves opaque
bytes; signing, envelopes and teleservices are other layers' business.

Settlement rules for consumed messages (identical in every implementation):

- A handler runs on a worker thread, never on the connection's I/O thread, so a slow handler cannot stop
  heartbeats. ``Delivery.ack()``, ``reject()`` and ``requeue()`` may be called from any thread; the first
  call wins and later ones are ignored.
- A handler that returns without settling has its delivery acknowledged; a handler that raises has it
  rejected, which dead-letters it (reason ``rejected``); the worker keeps serving.
- ``requeue()`` and a lost connection return the message to its queue and count a delivery
  (``x-delivery-count``); past the queue's delivery limit the message is dead-lettered (reason
  ``delivery_limit``), so a poison message is never redelivered forever.
- A settlement that arrives after its connection was lost is dropped: the broker redelivers the message
  (``redelivered=True``), so handlers must be idempotent per message id.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from types import TracebackType
from typing import Any, Self

import structlog

from bus.faults import Fault, FaultCode
from bus.transport.topology import DIRECT_REPLY_TO, QueueSpec, Topology, is_direct_reply_address

log = structlog.get_logger(__name__)


class ReplyMode(StrEnum):
    """How a client receives replies to its requests.

    ``direct``: RabbitMQ direct reply-to (``amq.rabbitmq.reply-to``), no queue; at-most-once.
    ``queue``: a per-client exclusive queue; a reply is stored until read, but the queue lives only as
    long as the client's connection.
    """

    DIRECT = "direct"
    QUEUE = "queue"


class Settlement(StrEnum):
    """What became of a delivered message."""

    ACK = "ack"
    REJECT = "reject"
    REQUEUE = "requeue"


class TopologyError(Exception):
    """A queue or exchange is missing, or exists with different arguments or another owner."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to publish; always persistent.

    ``message_id`` is mandatory: it correlates replies and lets receivers discard duplicates.
    ``expiration_ms`` becomes the AMQP ``expiration`` property: an expired message is dead-lettered
    (reason ``expired``) once it reaches the head of its queue.
    """

    body: bytes
    message_id: str
    correlation_id: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    expiration_ms: int | None = None
    content_type: str | None = None
    content_encoding: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.body, bytes | bytearray | memoryview):
            raise TypeError(f"body must be bytes, not {type(self.body).__name__}")
        if not self.message_id:
            raise ValueError("message_id is required")
        if self.expiration_ms is not None and self.expiration_ms < 0:
            raise ValueError("expiration_ms must be >= 0")


@dataclass(frozen=True, slots=True)
class Message:
    """A message as received, with the broker's delivery facts.

    ``delivery_count`` is the quorum queue's ``x-delivery-count``: how many times this message was
    returned to its queue before this delivery (0 on a first delivery).

    Properties and headers are checked on receipt (``bus.transport.properties``): ``anomalies`` names
    those treated as absent because of their type or size; ``refusal``, when set, is the fault the
    receiver must record before dead-lettering the message (its body may be dropped).
    """

    body: bytes
    message_id: str | None
    correlation_id: str | None
    reply_to: str | None
    headers: Mapping[str, Any]
    exchange: str
    routing_key: str
    redelivered: bool
    delivery_count: int
    content_type: str | None = None
    anomalies: tuple[str, ...] = ()
    refusal: Fault | None = None

    def as_outgoing(self) -> OutgoingMessage:
        """The same message, ready to publish again (for replays); the broker's delivery count is dropped.

        Raises ``ValueError`` for a message without an id.
        """
        return OutgoingMessage(
            body=self.body,
            message_id=self.message_id or "",
            correlation_id=self.correlation_id,
            reply_to=self.reply_to,
            headers={k: v for k, v in self.headers.items() if k != "x-delivery-count"},
            content_type=self.content_type,
        )


class Delivery:
    """A consumed message awaiting settlement; settle it exactly once, from any thread."""

    __slots__ = ("_handed_over", "_lock", "_settlement", "_settler", "message", "queue")

    def __init__(self, message: Message, queue: str, settler: Callable[[Settlement], None]) -> None:
        self.message = message
        self.queue = queue
        self._settler = settler
        self._lock = threading.Lock()
        self._settlement: Settlement | None = None
        self._handed_over = False

    @property
    def body(self) -> bytes:
        return self.message.body

    @property
    def message_id(self) -> str | None:
        return self.message.message_id

    @property
    def correlation_id(self) -> str | None:
        return self.message.correlation_id

    @property
    def reply_to(self) -> str | None:
        return self.message.reply_to

    @property
    def headers(self) -> Mapping[str, Any]:
        return self.message.headers

    @property
    def routing_key(self) -> str:
        return self.message.routing_key

    @property
    def redelivered(self) -> bool:
        return self.message.redelivered

    @property
    def delivery_count(self) -> int:
        return self.message.delivery_count

    @property
    def refusal(self) -> Fault | None:
        """The fault to record before dead-lettering this message, when its properties refuse it."""
        return self.message.refusal

    @property
    def settlement(self) -> Settlement | None:
        """How this delivery was settled, or None while pending."""
        return self._settlement

    def ack(self) -> None:
        """Remove the message from its queue."""
        self._settle(Settlement.ACK)

    def reject(self) -> None:
        """Dead-letter the message (no requeue)."""
        self._settle(Settlement.REJECT)

    def requeue(self) -> None:
        """Return the message to its queue; counts toward the delivery limit."""
        self._settle(Settlement.REQUEUE)

    def settle_later(self) -> Callable[[Settlement], object]:
        """Hand this delivery's settlement over: ``ack``/``reject``/``requeue`` on it do nothing from now
        on, and the returned function settles it, once, whenever its new owner knows how (a receipt's
        publisher confirm). ``RuntimeError`` when already settled or handed over."""
        with self._lock:
            if self._settlement is not None or self._handed_over:
                raise RuntimeError(f"{self!r} is already settled or handed over")
            self._handed_over = True
        return partial(self._settle, owner=True)

    def _settle(self, outcome: Settlement, *, owner: bool = False) -> bool:
        """Settle once; after ``settle_later`` only its function (``owner``) may."""
        with self._lock:
            if self._settlement is not None or (self._handed_over and not owner):
                return False
            self._settlement = outcome
        self._settler(outcome)
        return True

    def __repr__(self) -> str:
        return f"<Delivery {self.message_id!r} from {self.queue!r} settlement={self._settlement}>"


Handler = Callable[[Delivery], None]


def settle_after_receipt(
    settle: Callable[[Settlement], object], fault: Fault | None, receipt: OutgoingMessage
) -> None:
    """``answer_to_inbox``'s rule, the same for every transport: the outcome of a receipt's publish
    decides the settlement of the message it answers."""
    if fault is None:
        settle(Settlement.ACK)
    elif fault.code is FaultCode.BROKER_UNAVAILABLE:
        settle(Settlement.REQUEUE)
    else:
        log.warning("answer not delivered", id=receipt.message_id, fault=str(fault.code), reason=fault.reason)
        settle(Settlement.ACK)


def run_handler(handler: Handler, delivery: Delivery) -> None:
    """Run a handler on a worker thread and settle what it left pending (see the module docstring)."""
    try:
        handler(delivery)
    except Exception:
        log.exception(
            "handler failed; message rejected", queue=delivery.queue, message_id=delivery.message_id
        )
        delivery.reject()
    else:
        delivery.ack()


class WorkerPool:
    """The handler threads of one consumer."""

    def __init__(self, name: str, size: int) -> None:
        self._executor = ThreadPoolExecutor(size, thread_name_prefix=f"govbus-worker-{name}")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    def submit(self, handler: Handler, delivery: Delivery) -> bool:
        """Queue a delivery for a worker without blocking (prefetch bounds the backlog).

        False once the pool is shut down: the delivery stays unsettled and goes back to its queue.
        """
        try:
            future = self._executor.submit(self._run, handler, delivery)
        except RuntimeError:
            return False
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return True

    def _run(self, handler: Handler, delivery: Delivery) -> None:
        self._local.inside = True
        run_handler(handler, delivery)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    @property
    def inside(self) -> bool:
        """True on one of this pool's worker threads."""
        return getattr(self._local, "inside", False)

    def shutdown(self) -> None:
        """Accept no more work; drop queued deliveries (they stay unsettled)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for running handlers (never call from a worker of this pool)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout)

    def then(self, timeout: float, after: Callable[[], None]) -> None:
        """Wait up to ``timeout`` s for running handlers, then call ``after``.

        Called from one of this pool's own handlers, both happen on another thread (a handler cannot wait
        for itself), and this returns at once.
        """

        def finish() -> None:
            self.wait(timeout)
            after()

        if self.inside:
            threading.Thread(target=finish, name="govbus-consumer-close", daemon=True).start()
        else:
            finish()


INLINE = 0
"""``consume(concurrency=INLINE)``: no handler threads; the handler runs on the thread that receives the
deliveries (RabbitMQ: the connection's I/O thread; see rabbitmq/consumers.py). Fastest for short handlers
that do not wait for the broker; the embedded broker runs such a consumer on one thread."""


def check_consume_arguments(prefetch: int, concurrency: int) -> None:
    """``consume``'s argument rules, the same for every transport."""
    if prefetch < 1 or concurrency < INLINE:
        raise ValueError("prefetch must be >= 1 and concurrency >= 0 (0: inline)")


def check_window(window: int) -> None:
    """``publish_many``'s argument rule, the same for every transport."""
    if window < 1:
        raise ValueError("window must be >= 1")


@dataclass(frozen=True, slots=True)
class Publication:
    """One message of a ``publish_many`` batch."""

    exchange: str
    routing_key: str
    message: OutgoingMessage
    mandatory: bool = True


class ConsumerHandle(ABC):
    """A running consumer; cancel it to stop receiving."""

    queue: str

    @property
    @abstractmethod
    def active(self) -> bool:
        """True until cancelled by the caller, or by the broker when the queue is deleted.

        A consumer whose channel or connection is lost stays active: it resumes once reconnected.
        """

    @abstractmethod
    def cancel(self, timeout: float = 30.0) -> None:
        """Stop consuming, wait up to ``timeout`` s for running handlers; unsettled messages go back.

        Called from one of this consumer's own handlers, it does not wait for the handlers.
        """

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class Transport(ABC):
    """One connection to a broker, safe to use from several threads.

    Errors crossing this boundary are ``Fault``s: ``Server.Unroutable`` (no queue took a mandatory
    message), ``Server.PublishRejected`` (broker nack), ``Server.BrokerUnavailable`` (broker unreachable
    or silent past the deadline), ``Server.Timeout`` (no reply in time). Topology mistakes raise
    ``TopologyError``.
    """

    topology: Topology
    reply_mode: ReplyMode
    url: str
    declares_topology: bool = True  # False: a provisioned broker identity, which may only check queues
    _closed: bool = False  # set once by ``close``; every operation checks it first

    def _check_open(self) -> None:
        """Raise ``Fault(BROKER_UNAVAILABLE)`` once ``close`` has begun."""
        if self._closed:
            raise closed_fault(self.url)

    # -- topology ---------------------------------------------------------------------------------

    @abstractmethod
    def declare_exchanges(self) -> None:
        """Declare the request, notification, inbox and dead-letter exchanges (idempotent)."""

    @abstractmethod
    def declare_queue(
        self, name: str, arguments: Mapping[str, Any], bindings: Iterable[tuple[str, str]]
    ) -> None:
        """Declare a durable queue and its ``(exchange, routing_key)`` bindings (idempotent)."""

    @abstractmethod
    def delete_queue(self, name: str) -> None:
        """Delete a queue and its messages; a missing queue is not an error."""

    @abstractmethod
    def delete_exchange(self, name: str) -> None:
        """Delete an exchange and its bindings; a missing exchange is not an error."""

    @abstractmethod
    def purge_queue(self, name: str) -> int:
        """Drop the ready messages of a queue; return how many."""

    @abstractmethod
    def queue_depth(self, name: str) -> int:
        """Ready messages in a queue (not those delivered and unsettled)."""

    def declare_service(self, service: str) -> list[str]:
        """Declare a service's request queue and its dead-letter queue; return their names."""
        return self._declare_pair(*self.topology.service(service))

    def declare_subscription(self, subscriber: str, service: str) -> list[str]:
        """Declare the queue receiving ``service``'s notifications for ``subscriber``, dead-lettered too."""
        return self._declare_pair(*self.topology.subscription(subscriber, service))

    def declare_inbox(self, participant: str) -> list[str]:
        """Declare a participant's durable inbox (signed receipts come back there) and its DLQ."""
        return self._declare_pair(*self.topology.inbox(participant))

    def delete_service(self, service: str) -> None:
        """Delete a service's queue and dead-letter queue."""
        self._delete_pair(self.topology.service_queue(service))

    def delete_subscription(self, subscriber: str, service: str) -> None:
        """Delete a subscription queue and its dead-letter queue."""
        self._delete_pair(self.topology.subscription_queue(subscriber, service))

    def delete_inbox(self, participant: str) -> None:
        """Delete a participant's inbox and its dead-letter queue."""
        self._delete_pair(self.topology.inbox_queue(participant))

    def delete_exchanges(self) -> None:
        """Delete the exchanges of this transport's prefix."""
        for exchange in self.topology.exchanges():
            self.delete_exchange(exchange.name)

    def _declare_pair(self, queue: QueueSpec, dead_letters: QueueSpec) -> list[str]:
        """Declare a queue pair. A provisioned broker identity (``declares_topology`` False, or refused
        with ACCESS_REFUSED) checks instead that ``govbus broker provision`` declared its queue."""
        if self.declares_topology:
            try:
                self.declare_exchanges()
                for spec in (dead_letters, queue):
                    self.declare_queue(spec.name, spec.arguments, spec.bindings)
                return [queue.name, dead_letters.name]
            except TopologyError as error:
                if not str(error).startswith("403 "):
                    raise
        try:
            self.queue_depth(queue.name)
        except TopologyError:
            raise TopologyError(
                f"queue {queue.name!r} is missing and this broker identity may not declare it: "
                "run 'govbus broker provision' after changing the catalogue"
            ) from None
        return [queue.name, dead_letters.name]

    def _delete_pair(self, queue: str) -> None:
        self.delete_queue(queue)
        self.delete_queue(self.topology.dead_letter_queue(queue))

    # -- messages ---------------------------------------------------------------------------------

    @abstractmethod
    def publish(
        self, exchange: str, routing_key: str, message: OutgoingMessage, *, mandatory: bool = True
    ) -> None:
        """Publish and return once the broker confirmed it.

        Raises ``Fault``: UNROUTABLE when a mandatory message reached no queue (or the exchange does not
        exist), PUBLISH_REJECTED on a nack, BROKER_UNAVAILABLE when no confirm came in time.
        """

    @abstractmethod
    def publish_many(self, publications: Iterable[Publication], *, window: int = 256) -> list[Fault | None]:
        """Publish with up to ``window`` confirms outstanding; return one result per publication, in order.

        ``None`` means confirmed; a ``Fault`` has the same meaning as from ``publish``.
        """

    @abstractmethod
    def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 32, concurrency: int = 4
    ) -> ConsumerHandle:
        """Run ``handler`` for each message of ``queue`` on ``concurrency`` worker threads.

        At most ``prefetch`` messages are delivered and unsettled at once. Survives reconnections.
        """

    @abstractmethod
    def get(self, queue: str) -> Delivery | None:
        """Take one message without a consumer (None when empty); settle it, or it returns on close."""

    @abstractmethod
    def request(self, service: str, message: OutgoingMessage, *, timeout: float) -> Message:
        """Send a request to a service's queue and wait for the reply whose correlation id is its id.

        Raises ``Fault(TIMEOUT)`` without a reply in ``timeout`` seconds. A retry should reuse the
        message id: the provider answers a duplicate idempotently, and the first reply wins.
        """

    def reply(self, delivery: Delivery | Message, message: OutgoingMessage) -> None:
        """Send ``message`` to the requester of ``delivery``, correlated with the request's id.

        A direct reply-to reply cannot be reported unroutable by the broker (RabbitMQ returns every
        mandatory message sent to a direct reply-to address), so it is sent at-most-once. A reply to a
        reply queue that no longer exists raises UNROUTABLE.
        """
        request = delivery.message if isinstance(delivery, Delivery) else delivery
        if not request.reply_to:
            raise ValueError(f"message {request.message_id!r} has no reply-to address")
        if message.correlation_id is None:
            message = replace(message, correlation_id=request.message_id)
        self.publish(self.reply_exchange(request.reply_to), request.reply_to, message, mandatory=True)

    def reply_exchange(self, reply_to: str) -> str:
        """Where a reply to ``reply_to`` is published: a client with its own broker identity is answered
        through the replies exchange, where topic permissions say which clients a participant may
        answer; any other through the default exchange."""
        return self.topology.replies_exchange if self.topology.reply_owner(reply_to) is not None else ""

    def notify(self, service: str, message: OutgoingMessage) -> None:
        """Publish a notification to every subscriber of ``service``; UNROUTABLE when there is none."""
        self.publish(self.topology.notifications_exchange, service, message)

    def send_to_inbox(self, participant: str, message: OutgoingMessage) -> None:
        """Deliver a message (e.g. a signed receipt) to a participant's durable inbox."""
        self.publish(self.topology.inbox_exchange, participant, message)

    def answer_to_inbox(self, delivery: Delivery, participant: str, message: OutgoingMessage) -> None:
        """Send ``message`` (the receipt of ``delivery``) to ``participant``'s inbox, then settle
        ``delivery``: ack once the broker confirmed the receipt, or when the broker refused it for good
        (unroutable or nacked: logged); requeue when the broker was unavailable (the stored receipt goes
        again on redelivery). Here it waits for the confirm; a transport may return at once and settle
        when the confirm arrives."""
        fault: Fault | None = None
        try:
            self.send_to_inbox(participant, message)
        except Fault as refused:
            fault = refused
        settle_after_receipt(delivery.settle_later(), fault, message)

    @abstractmethod
    def close(self) -> None:
        """Cancel consumers (waiting for their handlers), fail pending calls and disconnect."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def effective_mandatory(routing_key: str, mandatory: bool) -> bool:
    """RabbitMQ returns every mandatory message to a direct reply-to address, delivered or not."""
    return mandatory and not is_direct_reply_address(routing_key)


def closed_fault(url: str) -> Fault:
    """The fault for an operation on a closed transport."""
    return Fault(FaultCode.BROKER_UNAVAILABLE, f"{url}: transport is closed")


__all__ = [
    "DIRECT_REPLY_TO",
    "INLINE",
    "ConsumerHandle",
    "Delivery",
    "Handler",
    "Message",
    "OutgoingMessage",
    "Publication",
    "ReplyMode",
    "Settlement",
    "TopologyError",
    "Transport",
    "WorkerPool",
    "check_consume_arguments",
    "check_window",
    "effective_mandatory",
    "run_handler",
]
