"""Dead-letter queues seen from the authority console, through the transport's own operations.

The same operations as ``govbus broker dlq`` (``get`` then ``requeue`` to look, ``publish`` to the
queue then ``ack`` to replay), on the embedded broker or RabbitMQ alike. Looking at a queue borrows its
messages and always puts back what it did not settle. Every text a dead letter carries comes from whoever
published it: it is only ever shown escaped by the templates, and its envelope is verified before its
header is shown as the sender's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.envelope import EnvelopeVerifier
from bus.faults import Fault
from bus.pki import TrustStore
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, ServiceStyle
from bus.transport import Delivery, TopologyError, Transport, connect

LIMIT = 500


@dataclass(frozen=True, slots=True)
class QueueInfo:
    service: str
    subscriber: str | None
    queue: str
    dead_letters: str
    depth: int | None
    """Messages waiting in the dead-letter queue; None when the broker has no such queue."""

    @property
    def key(self) -> str:
        return f"{self.subscriber}|{self.service}" if self.subscriber else self.service


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str | None
    correlation_id: str | None
    reply_to: str | None
    routing_key: str
    size: int
    reason: str
    deaths: int
    since: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    detail: str
    header: dict[str, Any] | None = None


@contextmanager
def opened(broker: str, prefix: str) -> Iterator[Transport]:
    transport = connect(broker, prefix=prefix)
    try:
        yield transport
    finally:
        transport.close()


def _queues(transport: Transport, service: str, subscriber: str | None) -> tuple[str, str]:
    topology = transport.topology
    queue = (
        topology.subscription_queue(subscriber, service) if subscriber else topology.service_queue(service)
    )
    return queue, topology.dead_letter_queue(queue)


def queues(transport: Transport, catalogue: Catalogue) -> list[QueueInfo]:
    """Every service queue and subscription queue of the catalogue, with its dead-letter count."""
    found = []
    pairs: list[tuple[str, str | None]] = []
    for service_id, entry in sorted(catalogue.services.items()):
        if entry.style is ServiceStyle.REQUEST_REPLY:
            pairs.append((str(service_id), None))
        else:
            pairs += [(str(service_id), str(s)) for s in sorted(catalogue.subscribers(service_id))]
    for service, subscriber in pairs:
        queue, dead_letters = _queues(transport, service, subscriber)
        try:
            depth: int | None = transport.queue_depth(dead_letters)
        except TopologyError:
            depth = None
        found.append(QueueInfo(service, subscriber, queue, dead_letters, depth))
    return found


def _deaths(delivery: Delivery) -> list[dict[str, Any]]:
    deaths = delivery.headers.get("x-death")
    return [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []


def _first_death(delivery: Delivery) -> tuple[str, int, str, datetime | None]:
    reason = str(delivery.headers.get("x-first-death-reason", "?"))
    queue = delivery.headers.get("x-first-death-queue")
    for death in _deaths(delivery):
        if death.get("queue") == queue and death.get("reason") == reason:
            when = death.get("time")
            moment = None
            if isinstance(when, datetime):
                moment = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            try:
                count = int(death.get("count", 1))
            except (TypeError, ValueError):
                count = 1
            return reason, count, f"{moment:%Y-%m-%dT%H:%M:%SZ}" if moment else "—", moment
    return reason, 1, "—", None


def _dead_letter(delivery: Delivery) -> DeadLetter:
    reason, count, since, _ = _first_death(delivery)
    message = delivery.message
    return DeadLetter(
        message.message_id,
        message.correlation_id,
        message.reply_to,
        message.routing_key,
        len(message.body),
        reason,
        count,
        since,
        [
            (str(k)[:200], str(v)[:1000])
            for k, v in sorted(message.headers.items(), key=lambda kv: str(kv[0]))
        ],
        message.body,
    )


@contextmanager
def borrowed(transport: Transport, queue: str, limit: int = LIMIT) -> Iterator[list[Delivery]]:
    """Up to ``limit`` messages of ``queue``; those left unsettled go back to it, whatever happens."""
    taken: list[Delivery] = []
    try:
        while len(taken) < limit and (delivery := transport.get(queue)) is not None:
            taken.append(delivery)
        yield taken
    finally:
        for delivery in taken:
            delivery.requeue()


def dead_letters(transport: Transport, service: str, subscriber: str | None) -> list[DeadLetter]:
    """The dead letters of a service (or subscription) queue; ``TopologyError`` when there is none."""
    _, queue = _queues(transport, service, subscriber)
    transport.queue_depth(queue)
    with borrowed(transport, queue) as taken:
        return [_dead_letter(d) for d in taken]


def show(
    transport: Transport, home: BusHome, service: str, subscriber: str | None, message_id: str
) -> tuple[DeadLetter, Verification] | None:
    """One dead letter and what verifying its envelope (at the time it died) says; None when absent."""
    _, queue = _queues(transport, service, subscriber)
    transport.queue_depth(queue)
    with borrowed(transport, queue) as taken:
        found = next((d for d in taken if d.message_id == message_id), None)
        if found is None:
            return None
        moment = _first_death(found)[3]
        try:
            verified = EnvelopeVerifier(TrustStore.from_home(home)).verify(found.body, at=moment)
        except Fault as fault:
            verification = Verification(False, f"{fault.code}: {fault.reason}")
        else:
            verification = Verification(
                True, f"signée par {verified.signer.participant}", verified.header.as_json()
            )
        return _dead_letter(found), verification


def replay(transport: Transport, service: str, subscriber: str | None, message_id: str) -> str | None:
    """Move one dead letter back to its queue (published first, then removed); the queue's name, or None
    when no dead letter has that id. ``Fault``/``ValueError`` when it cannot be published (it stays)."""
    queue, dead = _queues(transport, service, subscriber)
    transport.queue_depth(dead)
    with borrowed(transport, dead) as taken:
        found = next((d for d in taken if d.message_id == message_id), None)
        if found is None:
            return None
        transport.publish("", queue, found.message.as_outgoing())
        found.ack()
        return queue


def depth(transport: Transport, service: str, subscriber: str | None) -> tuple[str, int]:
    """The dead-letter queue of ``service`` (for ``subscriber``) and its ready messages;
    ``TopologyError`` when that queue does not exist."""
    _, dead = _queues(transport, service, subscriber)
    return dead, transport.queue_depth(dead)


def purge(transport: Transport, service: str, subscriber: str | None) -> tuple[str, int]:
    """Delete every ready dead letter of ``service`` (for ``subscriber``): gone for good, as
    ``govbus broker dlq purge`` does. The queue's name and how many were deleted."""
    dead, _ = depth(transport, service, subscriber)
    return dead, transport.purge_queue(dead)
