"""Broker topology: every exchange and queue name, and every queue argument, in one place.

With the default prefix ``govbus``, four topic exchanges whose routing keys name who may use them, so
that RabbitMQ's topic permissions (``govbus broker provision``) enforce the catalogue's grants:

- ``govbus.calls`` (topic): routing key = service id text, e.g.
  ``MA/GOV/CNSS/attestations/cnss.attestation/v1``, bound to the service queue ``govbus.svc.<service>``.
  A participant may publish only the routing keys of the services it is granted.
- ``govbus.notifications`` (topic): routing key = service id text, bound to one queue per subscriber,
  ``govbus.sub.<subscriber>:<service>``. Only the provider of a service may publish its key.
- ``govbus.receipts`` (topic): routing key = participant id, bound to ``govbus.inbox.<participant>``, where
  signed receipts for notifications come back (durable: receipts must not be lost). A subscriber may
  publish only to the notifiers it is subscribed to.
- ``govbus.replies`` (topic): routing key = a participant's reply queue ``govbus.reply.<participant>.<token>``
  (exclusive to its connection, bound with its own name). Used by participants with their own broker
  identity, who may not publish to the default exchange (which would reach any queue by name).
- ``govbus.dead-letter`` (direct): each durable queue above dead-letters with routing key = its own name to
  its own dead-letter queue ``govbus.dlq.<queue name without prefix>``, so operators list and replay per
  queue.

Durable queues are quorum queues with a delivery limit (RabbitMQ 3.10 has no default) and at-least-once
dead-lettering. Reply queues (``govbus.reply.<token>``, or ``govbus.reply.<participant>.<token>``) are
exclusive to their client's connection. Names longer than AMQP's 255 bytes are shortened with a digest
suffix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from bus.faults import Fault
from bus.ids import ParticipantId, ServiceId

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
DEFAULT_PREFIX = "govbus"
DEFAULT_DELIVERY_LIMIT = 5

_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_TOKEN = re.compile(r"[0-9a-f]{32}")
_MAX_NAME = 255


def is_direct_reply_address(routing_key: str) -> bool:
    """True for ``amq.rabbitmq.reply-to`` and the per-channel addresses the broker derives from it."""
    return routing_key.startswith(DIRECT_REPLY_TO)


class ExchangeKind(StrEnum):
    """AMQP exchange types used by govbus."""

    DIRECT = "direct"
    TOPIC = "topic"


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """A durable exchange."""

    name: str
    kind: ExchangeKind


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A durable queue, its arguments and its ``(exchange, routing_key)`` bindings."""

    name: str
    arguments: dict[str, Any]
    bindings: tuple[tuple[str, str], ...]


def _fit(name: str) -> str:
    data = name.encode()
    if len(data) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(data).hexdigest()[:16]
    return data[: _MAX_NAME - 17].decode(errors="ignore") + "~" + digest


@dataclass(frozen=True)
class Topology:
    """Names and arguments for one bus; ``prefix`` isolates buses sharing a broker (tests, tenants)."""

    prefix: str = DEFAULT_PREFIX
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must be 1-32 letters, digits, '_' or '-'")
        if not isinstance(self.delivery_limit, int) or self.delivery_limit < 0:
            raise ValueError(f"delivery_limit must be an integer >= 0, not {self.delivery_limit!r}")

    @cached_property
    def requests_exchange(self) -> str:
        return f"{self.prefix}.calls"

    @cached_property
    def notifications_exchange(self) -> str:
        return f"{self.prefix}.notifications"

    @cached_property
    def inbox_exchange(self) -> str:
        return f"{self.prefix}.receipts"

    @cached_property
    def replies_exchange(self) -> str:
        return f"{self.prefix}.replies"

    @cached_property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dead-letter"

    def exchanges(self) -> tuple[ExchangeSpec, ...]:
        return (
            ExchangeSpec(self.requests_exchange, ExchangeKind.TOPIC),
            ExchangeSpec(self.notifications_exchange, ExchangeKind.TOPIC),
            ExchangeSpec(self.inbox_exchange, ExchangeKind.TOPIC),
            ExchangeSpec(self.replies_exchange, ExchangeKind.TOPIC),
            ExchangeSpec(self.dead_letter_exchange, ExchangeKind.DIRECT),
        )

    def service_queue(self, service: str) -> str:
        return _fit(f"{self.prefix}.svc.{ServiceId.parse(service)}")

    def subscription_queue(self, subscriber: str, service: str) -> str:
        return _fit(f"{self.prefix}.sub.{ParticipantId.parse(subscriber)}:{ServiceId.parse(service)}")

    def inbox_queue(self, participant: str) -> str:
        return _fit(f"{self.prefix}.inbox.{ParticipantId.parse(participant)}")

    def reply_queue(self, token: str, participant: str | None = None) -> str:
        """A client's exclusive reply queue; named for ``participant`` when it has its own broker identity
        (then replies reach it through ``replies_exchange``, routing key = this name)."""
        if participant is None:
            return _fit(f"{self.prefix}.reply.{token}")
        if not _TOKEN.fullmatch(token):
            raise ValueError("a participant's reply queue token is 32 lower-case hexadecimal digits")
        return f"{self.prefix}.reply.{ParticipantId.parse(participant)}.{token}"

    def reply_owner(self, address: str) -> str | None:
        """The participant a ``reply_queue(token, participant)`` name belongs to; None for any other name."""
        head = f"{self.prefix}.reply."
        if not address.startswith(head):
            return None
        owner, dot, token = address[len(head) :].rpartition(".")
        if not dot or not _TOKEN.fullmatch(token):
            return None
        try:
            return str(ParticipantId.parse(owner))
        except Fault:
            return None

    def is_reply_address(self, address: str) -> bool:
        """True only for the reply addresses this topology defines: a direct reply-to address the broker
        derived for a requester's channel, or a client's exclusive reply queue ``<prefix>.reply.<token>``
        (the names ``reply_queue`` gives). A provider answers nowhere else: a request's ``reply_to`` may
        not name another participant's inbox or service queue."""
        if address.startswith(DIRECT_REPLY_TO + "."):
            return len(address) > len(DIRECT_REPLY_TO) + 1
        head = f"{self.prefix}.reply."
        return address.startswith(head) and len(address) > len(head)

    def dead_letter_queue(self, queue: str) -> str:
        """The dead-letter queue of a durable queue of this topology."""
        head = self.prefix + "."
        if not queue.startswith(head):
            raise ValueError(f"{queue!r} is not a queue of prefix {self.prefix!r}")
        return _fit(f"{self.prefix}.dlq.{queue[len(head) :]}")

    def durable_arguments(self, queue: str) -> dict[str, Any]:
        """Arguments of a durable, dead-lettered quorum queue."""
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",  # required by at-least-once dead-lettering
            "x-delivery-limit": self.delivery_limit,
        }

    @staticmethod
    def dead_letter_arguments() -> dict[str, Any]:
        """Arguments of a dead-letter queue: quorum, no limit, nowhere further to go."""
        return {"x-queue-type": "quorum"}

    def service(self, service: str) -> tuple[QueueSpec, QueueSpec]:
        """The request queue of ``service`` and its dead-letter queue."""
        return self._with_dead_letters(self.service_queue(service), (self.requests_exchange, str(service)))

    def subscription(self, subscriber: str, service: str) -> tuple[QueueSpec, QueueSpec]:
        """The notification queue of ``subscriber`` for ``service`` and its dead-letter queue."""
        queue = self.subscription_queue(subscriber, service)
        return self._with_dead_letters(queue, (self.notifications_exchange, str(service)))

    def inbox(self, participant: str) -> tuple[QueueSpec, QueueSpec]:
        """The inbox of ``participant`` and its dead-letter queue."""
        return self._with_dead_letters(self.inbox_queue(participant), (self.inbox_exchange, str(participant)))

    def _with_dead_letters(self, queue: str, binding: tuple[str, str]) -> tuple[QueueSpec, QueueSpec]:
        dead_letters = self.dead_letter_queue(queue)
        return (
            QueueSpec(queue, self.durable_arguments(queue), (binding,)),
            QueueSpec(dead_letters, self.dead_letter_arguments(), ((self.dead_letter_exchange, queue),)),
        )
