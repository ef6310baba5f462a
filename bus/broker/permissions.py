"""Each participant's RabbitMQ permissions, derived from the catalogue (pure data, no broker).

A participant ``X`` of prefix ``P`` gets, in one virtual host:

- configure: only its exclusive reply queues ``P.reply.X.<token>`` (it declares nothing else: the
  administrator declares the topology, ``govbus broker provision``);
- write: the topic exchanges it publishes to, and its reply queues (to bind them);
- read: its own queues (the request queues of the services it provides, its subscription queues, its
  inbox, its reply queues) and the replies exchange (to bind its reply queues), never a dead-letter queue
  nor another participant's queue;
- topic permissions, one per exchange, whose write patterns encode the grants: on ``P.calls`` the services
  it is granted (and every provider's discovery services), on ``P.notifications`` the notification
  services it provides, on ``P.receipts`` the notifiers it subscribes to, on ``P.replies`` the reply
  queues of the participants it may answer (every participant, if it provides a request-reply service);
  the read pattern of ``P.replies`` lets it bind only its own reply queues.

It is never granted the default exchange, which routes to any queue by its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import META_CODES, Catalogue, Right, ServiceStyle
from bus.transport.topology import Topology

NOTHING = "^$"
"""A pattern no resource name matches (names are never empty); as a topic pattern it admits only the
empty routing key, which no binding of the bus uses."""


@dataclass(frozen=True, slots=True)
class TopicPermission:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True, slots=True)
class Permissions:
    """One participant's permissions in the bus's virtual host."""

    participant: ParticipantId
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...]
    queues: tuple[str, ...]  # the queues it may read, for operators and tests


def _one_of(names: Iterable[str], tail: str = "") -> str:
    alternatives = sorted({re.escape(name) for name in names})
    if not alternatives:
        return NOTHING
    return "^(" + "|".join(alternatives) + ")" + tail + "$"


def _union(*patterns: str) -> str:
    parts = [p for p in patterns if p != NOTHING]
    if not parts:
        return NOTHING
    return parts[0] if len(parts) == 1 else "|".join(f"(?:{p})" for p in parts)


def meta_services(catalogue: Catalogue) -> list[ServiceId]:
    """The discovery services of every participant that provides a request-reply service."""
    providers = {
        entry.service.provider
        for entry in catalogue.services.values()
        if entry.style is ServiceStyle.REQUEST_REPLY
    }
    return [ServiceId(provider, code, 1) for provider in sorted(providers) for code in sorted(META_CODES)]


def permissions(catalogue: Catalogue, topology: Topology, participant: ParticipantId) -> Permissions:
    """The least privileges ``participant`` needs on the bus that ``catalogue`` describes."""
    provided = catalogue.provided_by(participant)
    answers = [e.service for e in provided if e.style is ServiceStyle.REQUEST_REPLY]
    if answers:
        answers += [s for s in meta_services(catalogue) if s.provider == participant]
    notifies = [e.service for e in provided if e.style is ServiceStyle.NOTIFICATION]
    grants = catalogue.grants_of(participant)
    calls = [g.service for g in grants if g.right is Right.CALL] + meta_services(catalogue)
    subscribes = [g.service for g in grants if g.right is Right.SUBSCRIBE]

    queues = (
        [topology.service_queue(str(s)) for s in answers]
        + [topology.subscription_queue(str(participant), str(s)) for s in subscribes]
        + [topology.inbox_queue(str(participant))]
    )
    replies = "^" + re.escape(f"{topology.prefix}.reply.{participant}.") + "[0-9a-f]{32}$"
    exchanges = []
    if calls:
        exchanges.append(topology.requests_exchange)
    if notifies:
        exchanges.append(topology.notifications_exchange)
    if subscribes:
        exchanges.append(topology.inbox_exchange)
    if answers:
        exchanges.append(topology.replies_exchange)
    answered = catalogue.participants if answers else {}
    topics = (
        TopicPermission(topology.requests_exchange, _one_of(str(s) for s in calls), NOTHING),
        TopicPermission(topology.notifications_exchange, _one_of(str(s) for s in notifies), NOTHING),
        TopicPermission(topology.inbox_exchange, _one_of(str(s.provider) for s in subscribes), NOTHING),
        TopicPermission(
            topology.replies_exchange,
            _one_of((f"{topology.prefix}.reply.{p}." for p in answered), "[0-9a-f]{32}"),
            replies,
        ),
    )
    return Permissions(
        participant=participant,
        configure=replies,
        write=_union(_one_of(exchanges), replies),
        read=_union(_one_of([*queues, topology.replies_exchange]), replies),
        topics=topics,
        queues=tuple(queues),
    )
