"""``govbus broker``: declare the bus topology on a broker; provision its users; list, show, replay and purge dead letters.

Everything a dead letter carries comes from whoever published it: every property and header is printed
through ``printable``, so no control character or terminal escape sequence reaches the operator's terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import click

from bus.broker.management import Management
from bus.broker.provision import declare_topology, provision_users, vhost_of
from bus.cli.errors import EXIT_FAULT, GovbusGroup, fail, fault_line, group
from bus.cli.options import broker_prefix_options, home_option
from bus.cli.text import printable
from bus.envelope import EnvelopeVerifier
from bus.faults import Fault
from bus.pki import TrustStore
from bus.pki.authority import CertificateAuthority
from bus.pki.home import BusHome
from bus.registry.store import load_published
from bus.transport import Delivery, TopologyError, Transport, connect, mask_url
from bus.transport.rabbitmq.tls import BrokerTls
from bus.transport.topology import DEFAULT_DELIVERY_LIMIT


def _subscriber_service(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        subscriber, colon, service = value.partition(":")
        if not colon:
            raise click.BadParameter(f"{value!r} is not PARTICIPANT:SERVICE", ctx=ctx, param=param)
        pairs.append((subscriber, service))
    return pairs


@group()
def broker() -> None:
    """Broker topology and dead-letter queues."""


@broker.command()
@broker_prefix_options
@click.option(
    "--delivery-limit", type=click.IntRange(min=0), default=DEFAULT_DELIVERY_LIMIT, show_default=True
)
@click.option("--service", "services", multiple=True, metavar="SERVICE_ID", help="a service's request queue")
@click.option(
    "--subscriber",
    "subscriptions",
    multiple=True,
    metavar="PARTICIPANT:SERVICE",
    callback=_subscriber_service,
    help="a participant's notification queue for a service",
)
@click.option(
    "--inbox", "inboxes", multiple=True, metavar="PARTICIPANT", help="a participant's receipt inbox"
)
def setup(
    broker: str,
    prefix: str,
    delivery_limit: int,
    services: tuple[str, ...],
    subscriptions: list[tuple[str, str]],
    inboxes: tuple[str, ...],
) -> None:
    """Declare exchanges and queues (idempotent) and print what was declared."""
    with connect(broker, prefix=prefix, delivery_limit=delivery_limit) as transport:
        transport.declare_exchanges()
        click.echo(f"broker: {mask_url(broker)}")
        for exchange in transport.topology.exchanges():
            click.echo(f"exchange: {exchange.name} ({exchange.kind})")
        declared = [transport.declare_service(service) for service in services]
        declared += [
            transport.declare_subscription(subscriber, service) for subscriber, service in subscriptions
        ]
        declared += [transport.declare_inbox(participant) for participant in inboxes]
        for queue, dead_letters in declared:
            click.echo(
                f"queue: {queue} (quorum, delivery limit {delivery_limit}, dead letters: {dead_letters})"
            )


@broker.command()
@broker_prefix_options
@home_option
@click.option(
    "--management",
    "management_url",
    required=True,
    envvar="GOVBUS_BROKER_MANAGEMENT",
    metavar="URL",
    help="the RabbitMQ management API, http(s)://ADMIN:PASSWORD@HOST:15672/ [env GOVBUS_BROKER_MANAGEMENT]",
)
@click.option(
    "--passwords/--no-passwords",
    default=True,
    show_default=True,
    help="give each participant a password (kept in DIR/broker/passwords/) besides its certificate",
)
@click.option("--remove-guest", is_flag=True, help="also delete RabbitMQ's default guest user")
def provision(
    broker: str, prefix: str, home: BusHome, management_url: str, passwords: bool, remove_guest: bool
) -> None:
    """Create or update one broker user per participant, with least-privilege permissions.

    Run as a broker administrator (--broker names it) after every change of the published catalogue
    and every certificate revocation: it declares the bus topology, gives each participant of the
    catalogue with a valid certificate its own user (login by certificate over amqps://, or by
    password), its permissions derived from its grants, and deletes the users of participants that
    are gone or revoked, closing their connections. Idempotent.
    """
    user = urlsplit(broker).username
    if user is None or unquote(user) == "guest":
        fail("govbus: a provisioned bus does not use guest: give --broker amqp(s)://ADMIN:PASSWORD@HOST/")
    catalogue = load_published(home)
    issued = CertificateAuthority(home).list()
    tls: dict[str, Any] = (
        {"tls": BrokerTls(home.ca_cert)} if urlsplit(broker).scheme.lower() == "amqps" else {}
    )
    api = Management(management_url, ca_file=home.ca_cert if management_url.startswith("https") else None)
    with connect(broker, prefix=prefix, **tls) as transport:
        declared = declare_topology(transport, catalogue)
        report = provision_users(
            api, home, catalogue, transport, issued, vhost=vhost_of(broker), passwords=passwords
        )
    click.echo(f"broker: {mask_url(broker)} (virtual host {vhost_of(broker)}, prefix {prefix})")
    click.echo(f"declared: {len(transport.topology.exchanges())} exchanges, {len(declared)} queues")
    for label, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("removed", report.removed),
    ):
        for name in names:
            click.echo(f"{label}: {name}")
    if report.closed:
        click.echo(f"closed {report.closed} connection(s) of updated or removed users")
    if remove_guest:
        api.delete_user("guest")
        click.echo("removed: guest")


@broker.group(cls=GovbusGroup)
def dlq() -> None:
    """Dead-letter queues: one per service queue (or subscription queue)."""


@contextmanager
def _dead_letters(
    broker: str, prefix: str, service: str, subscriber: str | None
) -> Iterator[tuple[Transport, str, str]]:
    """The transport, the queue and its dead-letter queue; a clear error when the broker has neither."""
    with connect(broker, prefix=prefix) as transport:
        topology = transport.topology
        queue = (
            topology.subscription_queue(subscriber, service)
            if subscriber
            else topology.service_queue(service)
        )
        dead_letters = topology.dead_letter_queue(queue)
        try:
            transport.queue_depth(dead_letters)
        except TopologyError:
            fail(
                f"govbus: no queue {printable(dead_letters)} on {mask_url(broker)}: check --prefix "
                f"(now {printable(prefix)}) and the service id, or declare it (govbus broker setup)"
            )
        yield transport, queue, dead_letters


def _take_all(transport: Transport, queue: str, limit: int) -> list[Delivery]:
    taken: list[Delivery] = []
    while len(taken) < limit and (delivery := transport.get(queue)) is not None:
        taken.append(delivery)
    return taken


@contextmanager
def _borrowed(transport: Transport, queue: str, limit: int) -> Iterator[list[Delivery]]:
    """Up to ``limit`` messages of ``queue``; those left unsettled go back to it, whatever happens."""
    taken = _take_all(transport, queue, limit)
    try:
        yield taken
    finally:
        for delivery in taken:
            delivery.requeue()


def _death_time(delivery: Delivery) -> datetime | None:
    queue = delivery.headers.get("x-first-death-queue")
    for death in _deaths(delivery):
        when = death.get("time")
        if death.get("queue") == queue and isinstance(when, datetime):
            return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return None


def _deaths(delivery: Delivery) -> list[dict[str, Any]]:
    deaths = delivery.headers.get("x-death")
    return [death for death in deaths if isinstance(death, dict)] if isinstance(deaths, list) else []


def _first_death(delivery: Delivery) -> tuple[str, int, str]:
    reason = str(delivery.headers.get("x-first-death-reason", "?"))
    queue = delivery.headers.get("x-first-death-queue")
    for death in _deaths(delivery):
        if death.get("queue") == queue and death.get("reason") == reason:
            when = death.get("time")
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(when, datetime) else str(when or "-")
            try:
                count = int(death.get("count", 1))
            except (TypeError, ValueError):
                count = 1
            return printable(reason), count, printable(stamp)
    return printable(reason), 1, "-"


_subscriber_option = click.option(
    "--subscriber",
    metavar="PARTICIPANT",
    help="the subscription queue of PARTICIPANT for SERVICE, not the service queue",
)
_limit_option = click.option(
    "--limit", type=click.IntRange(min=1), default=1000, show_default=True, help="at most this many messages"
)


@dlq.command("list")
@broker_prefix_options
@_subscriber_option
@_limit_option
@click.argument("service", metavar="SERVICE_ID")
def list_(broker: str, prefix: str, subscriber: str | None, limit: int, service: str) -> None:
    """List the dead letters of SERVICE_ID: id, first death reason, times dead-lettered, size, since."""
    with (
        _dead_letters(broker, prefix, service, subscriber) as (transport, _, dead_letters),
        _borrowed(transport, dead_letters, limit) as taken,
    ):
        click.echo(f"{'MESSAGE ID':<38} {'REASON':<15} {'DEATHS':>6} {'BYTES':>8}  SINCE")
        for delivery in taken:
            reason, count, since = _first_death(delivery)
            message_id = printable(delivery.message_id or "-")
            click.echo(f"{message_id:<38} {reason:<15} {count:>6} {len(delivery.body):>8}  {since}")
        more = " (limit reached)" if len(taken) == limit else ""
        click.echo(f"{len(taken)} message(s) in {dead_letters}{more}")


@dlq.command()
@broker_prefix_options
@home_option(required=False, help="bus home whose CA verifies the dead letter's envelope")
@_subscriber_option
@_limit_option
@click.option(
    "--save", type=click.Path(dir_okay=False, path_type=Path), help="also write the message body to this file"
)
@click.argument("service", metavar="SERVICE_ID")
@click.argument("message_id", metavar="MESSAGE_ID")
def show(
    broker: str,
    prefix: str,
    home: BusHome | None,
    subscriber: str | None,
    limit: int,
    save: Path | None,
    service: str,
    message_id: str,
) -> None:
    """Show one dead letter of SERVICE_ID: its properties, headers and verified envelope header.

    The message stays in the dead-letter queue. Its envelope is verified (all rules but replay) at the
    moment it was dead-lettered, with the CA of --home; without a home it is shown unverified.
    Exit 0 when shown, 1 when no dead letter has that id.
    """
    with (
        _dead_letters(broker, prefix, service, subscriber) as (transport, _, dead_letters),
        _borrowed(transport, dead_letters, limit) as taken,
    ):
        found = next((d for d in taken if d.message_id == message_id), None)
        if found is None:
            fail(f"govbus: not found: no dead letter {printable(message_id)} in {dead_letters}", EXIT_FAULT)
        _print_dead_letter(found, dead_letters)
        if save is not None:
            save.write_bytes(found.body)
            click.echo(f"body saved: {save}")
        _print_verification(found, home)


def _print_dead_letter(delivery: Delivery, queue: str) -> None:
    message = delivery.message
    reason, count, since = _first_death(delivery)
    click.echo(f"queue:          {queue}")
    for name, value in (
        ("message id", message.message_id),
        ("correlation id", message.correlation_id),
        ("reply to", message.reply_to),
        ("content type", message.content_type),
        ("exchange", message.exchange),
        ("routing key", message.routing_key),
    ):
        click.echo(f"{name + ':':<16}{printable(value) if value is not None else '-'}")
    click.echo(f"{'bytes:':<16}{len(message.body)}")
    click.echo(f"{'dead-lettered:':<16}{reason}, {count} time(s), since {since}")
    for key in sorted(message.headers, key=str):
        if key != "x-death":
            click.echo(f"{'header:':<16}{printable(key)} = {printable(message.headers[key])}")
    for death in _deaths(delivery):
        fields = ", ".join(f"{printable(k)}={printable(v)}" for k, v in sorted(death.items(), key=str))
        click.echo(f"{'x-death:':<16}{fields}")


def _print_verification(delivery: Delivery, home: BusHome | None) -> None:
    if home is None:
        click.echo("envelope:       NOT verified (give --home to verify it)")
        return
    moment = _death_time(delivery)
    verifier = EnvelopeVerifier(TrustStore.from_home(home))
    at = f"at {moment:%Y-%m-%dT%H:%M:%SZ} (dead-lettered)" if moment is not None else "now"
    try:
        verified = verifier.verify(delivery.body, at=moment)
    except Fault as fault:
        click.echo(f"envelope:       does NOT verify {at}: {printable(fault_line(fault))}")
        return
    click.echo(f"envelope:       verified {at}, signed by {verified.signer.participant}")
    click.echo(f"header:         {printable(json.dumps(verified.header.as_json(), ensure_ascii=False))}")


@dlq.command()
@broker_prefix_options
@_subscriber_option
@_limit_option
@click.option("--id", "message_ids", multiple=True, metavar="MESSAGE_ID", help="replay only these messages")
@click.argument("service", metavar="SERVICE_ID")
def replay(
    broker: str, prefix: str, subscriber: str | None, limit: int, message_ids: tuple[str, ...], service: str
) -> None:
    """Move dead letters of SERVICE_ID back to its queue (all of them, or those given with --id)."""
    with (
        _dead_letters(broker, prefix, service, subscriber) as (transport, queue, dead_letters),
        _borrowed(transport, dead_letters, limit) as taken,
    ):
        replayed, failed = 0, 0
        for delivery in taken:
            if message_ids and delivery.message_id not in message_ids:
                continue
            shown = printable(delivery.message_id or "-")
            try:
                transport.publish("", queue, delivery.message.as_outgoing())
            except (Fault, ValueError) as error:
                failed += 1
                click.echo(f"kept {shown}: {printable(error)}", err=True)
                continue
            delivery.ack()
            replayed += 1
            click.echo(f"replayed {shown}")
        missing = set(message_ids) - {d.message_id for d in taken}
        for message_id in sorted(missing):
            click.echo(f"not found: {printable(message_id)}", err=True)
        click.echo(f"{replayed} message(s) moved from {dead_letters} to {queue}")
        if failed or missing:
            raise SystemExit(EXIT_FAULT)


@dlq.command()
@broker_prefix_options
@_subscriber_option
@click.option("--yes", is_flag=True, help="really delete every dead letter of SERVICE_ID")
@click.argument("service", metavar="SERVICE_ID")
def purge(broker: str, prefix: str, subscriber: str | None, yes: bool, service: str) -> None:
    """Delete every dead letter of SERVICE_ID (they are gone for good: list or replay them first)."""
    with _dead_letters(broker, prefix, service, subscriber) as (transport, _, dead_letters):
        if not yes:
            depth = transport.queue_depth(dead_letters)
            raise click.UsageError(f"this deletes the {depth} message(s) in {dead_letters}: add --yes")
        click.echo(f"{transport.purge_queue(dead_letters)} message(s) deleted from {dead_letters}")
