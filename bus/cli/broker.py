"""``govbus broker``: declare the bus topology on a broker, list and replay dead letters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from bus.faults import Fault
from bus.transport import Delivery, Transport, connect, mask_url
from bus.transport.topology import DEFAULT_DELIVERY_LIMIT, DEFAULT_PREFIX


def _broker_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--prefix",
        default=DEFAULT_PREFIX,
        show_default=True,
        help="name prefix of the bus's exchanges and queues",
    )(function)
    return click.option(
        "--broker",
        envvar="GOVBUS_BROKER",
        required=True,
        metavar="URL",
        help="amqp(s):// URL (env GOVBUS_BROKER)",
    )(function)


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


@click.group()
def broker() -> None:
    """Broker topology and dead-letter queues."""


@broker.command()
@_broker_options
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


@broker.group()
def dlq() -> None:
    """Dead-letter queues: one per service queue (or subscription queue)."""


def _dead_letter_queue(transport: Transport, service: str, subscriber: str | None) -> tuple[str, str]:
    topology = transport.topology
    queue = (
        topology.subscription_queue(subscriber, service) if subscriber else topology.service_queue(service)
    )
    return queue, topology.dead_letter_queue(queue)


def _take_all(transport: Transport, queue: str, limit: int) -> list[Delivery]:
    taken = []
    while len(taken) < limit and (delivery := transport.get(queue)) is not None:
        taken.append(delivery)
    return taken


def _first_death(delivery: Delivery) -> tuple[str, int, str]:
    reason = str(delivery.headers.get("x-first-death-reason", "?"))
    queue = delivery.headers.get("x-first-death-queue")
    for death in delivery.headers.get("x-death", []) or []:
        if death.get("queue") == queue and death.get("reason") == reason:
            when = death.get("time")
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(when, datetime) else str(when or "-")
            return reason, int(death.get("count", 1)), stamp
    return reason, 1, "-"


_subscriber_option = click.option(
    "--subscriber",
    metavar="PARTICIPANT",
    help="the subscription queue of PARTICIPANT for SERVICE, not the service queue",
)
_limit_option = click.option(
    "--limit", type=click.IntRange(min=1), default=1000, show_default=True, help="at most this many messages"
)


@dlq.command("list")
@_broker_options
@_subscriber_option
@_limit_option
@click.argument("service", metavar="SERVICE_ID")
def list_(broker: str, prefix: str, subscriber: str | None, limit: int, service: str) -> None:
    """List the dead letters of SERVICE_ID: id, first death reason, times dead-lettered, size, since."""
    with connect(broker, prefix=prefix) as transport:
        _, dead_letters = _dead_letter_queue(transport, service, subscriber)
        taken = _take_all(transport, dead_letters, limit)
        try:
            click.echo(f"{'MESSAGE ID':<38} {'REASON':<15} {'DEATHS':>6} {'BYTES':>8}  SINCE")
            for delivery in taken:
                reason, count, since = _first_death(delivery)
                message_id = delivery.message_id or "-"
                click.echo(f"{message_id:<38} {reason:<15} {count:>6} {len(delivery.body):>8}  {since}")
        finally:
            for delivery in taken:
                delivery.requeue()
        more = " (limit reached)" if len(taken) == limit else ""
        click.echo(f"{len(taken)} message(s) in {dead_letters}{more}")


@dlq.command()
@_broker_options
@_subscriber_option
@_limit_option
@click.option("--id", "message_ids", multiple=True, metavar="MESSAGE_ID", help="replay only these messages")
@click.argument("service", metavar="SERVICE_ID")
def replay(
    broker: str, prefix: str, subscriber: str | None, limit: int, message_ids: tuple[str, ...], service: str
) -> None:
    """Move dead letters of SERVICE_ID back to its queue (all of them, or those given with --id)."""
    with connect(broker, prefix=prefix) as transport:
        queue, dead_letters = _dead_letter_queue(transport, service, subscriber)
        taken = _take_all(transport, dead_letters, limit)
        replayed, failed = 0, 0
        for delivery in taken:
            if message_ids and delivery.message_id not in message_ids:
                delivery.requeue()
                continue
            try:
                transport.publish("", queue, delivery.message.as_outgoing())
            except (Fault, ValueError) as error:
                delivery.requeue()
                failed += 1
                click.echo(f"kept {delivery.message_id}: {error}", err=True)
                continue
            delivery.ack()
            replayed += 1
            click.echo(f"replayed {delivery.message_id}")
        missing = set(message_ids) - {d.message_id for d in taken}
        for message_id in sorted(missing):
            click.echo(f"not found: {message_id}", err=True)
        click.echo(f"{replayed} message(s) moved from {dead_letters} to {queue}")
        if failed or missing:
            raise SystemExit(1)
