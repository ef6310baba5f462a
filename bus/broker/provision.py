"""``govbus broker provision``: the broker side of the catalogue, done by an administrator identity.

Declares the topology (exchanges, every service, subscription and inbox queue with its dead-letter queue),
then makes the broker's users exactly the participants entitled to one: listed in the published catalogue
and holding an unrevoked, unexpired certificate of the bus CA. Each gets the permissions of
``bus.broker.permissions``; a managed user no longer entitled is deleted and its connections closed, and
so are the connections of a user whose permissions changed (open channels cache permission checks).
Idempotent: a second run with nothing changed changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from bus.broker.management import MANAGED_TAG, Management
from bus.broker.permissions import Permissions, meta_services, permissions
from bus.ids import ParticipantId
from bus.pki.authority import IssuedCertificate
from bus.pki.home import BusHome, write_private
from bus.registry.catalogue import Catalogue, Right, ServiceStyle
from bus.transport.base import Transport


@dataclass
class Report:
    """What one provisioning run did, for the command's output."""

    declared: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    closed: int = 0


def vhost_of(url: str) -> str:
    """The virtual host an AMQP URL names (``/`` when none)."""
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def entitled(catalogue: Catalogue, issued: list[IssuedCertificate], now: datetime) -> list[ParticipantId]:
    """Participants of ``catalogue`` with an unrevoked certificate valid at ``now``, sorted."""
    certified = {
        entry.participant
        for entry in issued
        if entry.revoked_at is None and datetime.fromisoformat(entry.not_after) > now
    }
    return sorted(p for p in catalogue.participants if str(p) in certified)


def declare_topology(transport: Transport, catalogue: Catalogue) -> list[str]:
    """Declare the exchanges and every queue pair of ``catalogue``; return the queue names."""
    transport.declare_exchanges()
    declared: list[str] = []
    request_reply = [
        entry.service for entry in catalogue.services.values() if entry.style is ServiceStyle.REQUEST_REPLY
    ]
    for service in sorted(request_reply) + meta_services(catalogue):
        declared += transport.declare_service(str(service))
    for grant in sorted(catalogue.grants):
        if grant.right is Right.SUBSCRIBE:
            declared += transport.declare_subscription(str(grant.client), str(grant.service))
    for participant in sorted(catalogue.participants):
        declared += transport.declare_inbox(str(participant))
    return declared


def _password(home: BusHome, participant: ParticipantId) -> str:
    path = home.broker_password(participant)
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    write_private(path, password.encode() + b"\n")
    return password


def _matches(current: dict[str, object] | None, wanted: Permissions) -> bool:
    return current is not None and (current.get("configure"), current.get("write"), current.get("read")) == (
        wanted.configure,
        wanted.write,
        wanted.read,
    )


def provision_users(
    api: Management,
    home: BusHome,
    catalogue: Catalogue,
    transport: Transport,
    issued: list[IssuedCertificate],
    *,
    vhost: str,
    passwords: bool = True,
    now: datetime | None = None,
) -> Report:
    """Make the managed users of ``vhost`` exactly the entitled participants, with their permissions."""
    report = Report()
    existing = {user["name"]: user for user in api.users()}
    wanted = entitled(catalogue, issued, now or datetime.now(UTC))
    for participant in wanted:
        name = str(participant)
        perms = permissions(catalogue, transport.topology, participant)
        current_topics = {t["exchange"]: (t["write"], t["read"]) for t in api.topic_permissions(vhost, name)}
        wanted_topics = {t.exchange: (t.write, t.read) for t in perms.topics}
        same = (
            name in existing
            and _matches(api.permissions(vhost, name), perms)
            and all(current_topics.get(x) == v for x, v in wanted_topics.items())
        )
        api.put_user(name, password=_password(home, participant) if passwords else None)
        if same:
            report.unchanged.append(name)
            continue
        api.put_permissions(vhost, name, configure=perms.configure, write=perms.write, read=perms.read)
        for topic in perms.topics:
            api.put_topic_permission(vhost, name, exchange=topic.exchange, write=topic.write, read=topic.read)
        if name in existing:
            report.updated.append(name)
            report.closed += api.close_connections(name)
        else:
            report.created.append(name)
    keep = {str(p) for p in wanted}
    for name, user in sorted(existing.items()):
        tags = user.get("tags")
        tag_list = tags if isinstance(tags, list) else str(tags or "").split(",")
        if MANAGED_TAG in tag_list and name not in keep:
            api.delete_user(name)
            report.closed += api.close_connections(name)
            report.removed.append(name)
    return report
