"""``govbus demo``: both pilots end to end on a throwaway bus, told step by step for a person to read."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from sdk import configure_logging
from sdk.testing import TestBus
from teleservices.death_notice import PARTICIPANTS
from teleservices.demo import attestation_pilot, death_notice_pilot
from teleservices.demo.output import WIDTH, Output
from teleservices.demo.world import ROLES, World

STORES = {
    "employers.sqlite": "employers, certificates issued",
    "pensions.sqlite": "pensioners, death notices received",
    "civil_register.sqlite": "deaths, notices sent, receipts",
}
MESSAGE_LOG = "messages.sqlite"


@click.command()
@click.option(
    "--broker",
    default="memory://",
    show_default=True,
    help="memory:// (embedded, in this process) or amqp://user:password@host:5672/",
)
@click.option(
    "--keep",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="build the bus in DIR (new or empty) and keep it, to look at afterwards",
)
def demo(broker: str, keep: Path | None) -> None:
    """Run the death-notice and CNSS-certificate pilots end to end on a throwaway bus.

    Builds a PKI, a signed catalogue and every participant, runs both pilots (with refusals that must
    happen) and tells who sent what to whom. Exit 0 when every result is the expected one.
    """
    configure_logging("WARNING")
    if keep is not None:
        if keep.exists() and any(keep.iterdir()):
            raise click.BadParameter(
                f"{keep} is not empty; give a new or empty directory", param_hint="--keep"
            )
        keep.mkdir(parents=True, exist_ok=True)
    on_rabbitmq = broker.startswith(("amqp://", "amqps://"))
    prefix = f"demo-{uuid.uuid4().hex[:8]}" if on_rabbitmq else None
    out = Output()
    root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="govbus-demo-"))
    try:
        world = _run(out, root, broker, prefix, keep=keep is not None)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    if keep is not None:
        _where(out, world, broker, prefix)
    else:
        out.line()
        out.line("The bus was deleted. `govbus demo --keep DIR` keeps it to look at afterwards.")
    if out.unexpected:
        raise click.ClickException(f"{len(out.unexpected)} unexpected result(s)")


def _run(out: Output, root: Path, broker: str, prefix: str | None, *, keep: bool) -> World:
    """Build the bus in ``root``, run both pilots, stop everything (queues deleted unless ``keep``)."""
    started = time.perf_counter()
    bus = TestBus(root, broker=None if broker == "memory://" else broker, prefix=prefix, keep_topology=keep)
    world: World | None = None
    try:
        world = World.build(bus)
        _introduce(out, world, broker, prefix, keep)
        attestation_pilot.run(world, out)
        death_notice_pilot.run(world, out)
        _summarise(out, world, time.perf_counter() - started)
        return world
    finally:
        if world is not None:
            world.close()
        bus.close()


def _introduce(out: Output, world: World, broker: str, prefix: str | None, keep: bool) -> None:
    bus = world.bus
    catalogue = bus.catalogue
    out.line("govbus demo: the two pilots on a throwaway bus")
    out.section("The bus")
    where = "kept" if keep else "deleted at the end"
    out.line(f"{'home':<11} {world.home} ({where})", 1)
    shown = (
        f"{_masked(broker)}, names prefixed {prefix}" if prefix else "memory:// (embedded, in this process)"
    )
    out.line(f"{'broker':<11} {shown}", 1)
    out.line(
        f"{'PKI':<11} bus CA (ECDSA P-256), {len(catalogue.participants)} participants"
        " with a signing certificate each",
        1,
    )
    out.line(
        f"{'catalogue':<11} version {catalogue.version}, signed by the bus CA; deny by default, granted:", 1
    )
    for service, entry in sorted(catalogue.services.items()):
        grants = sorted(str(g.client) for g in catalogue.grants if g.service == service)
        right = "subscribe" if str(entry.style) == "notification" else "call"
        out.line(f"{service!s}", 2)
        out.line(f"{right}: {', '.join(grants)}", 3)
    out.line(f"{'running':<11} each seeded its own store at start:", 1)
    for participant in sorted(world.running):
        out.line(f"{participant:<{WIDTH}} {ROLES.get(participant, '')}", 2)
    out.line("Every message below is an XML envelope signed by its sender (XML-DSig, ECDSA-SHA256).")


def _summarise(out: Output, world: World, seconds: float) -> None:
    events = world.trace.all()
    signed = sum(1 for e in events if e.direction == "out")
    verified = sum(1 for e in events if e.direction == "in" and e.outcome in ("accepted", "fault"))
    refused = sum(1 for e in events if e.direction == "in" and e.outcome in ("refused", "rejected"))
    out.section("Summary")
    out.line(f"{signed} messages signed; {verified} verifications on arrival (one per subscriber for a", 1)
    out.line(f"notification); {refused} messages refused by their receiver", 1)
    if out.unexpected:
        for what in out.unexpected:
            out.line(f"unexpected: {what}", 1)
    else:
        out.line("every result is the expected one", 1)
    out.line(f"{seconds:.1f} s", 1)


def _where(out: Output, world: World, broker: str, prefix: str | None) -> None:
    home = world.home
    out.section(f"Kept in {home}")
    out.line(f"export GOVBUS_HOME={home}", 1)
    out.line("govbus pki list; govbus registry show    # the certificates; the signed catalogue", 1)
    out.line("ca/: the bus CA's certificate and key, its CRL, the signed catalogue.xml", 1)
    out.line("participants/<ID>/: key.pem (0600) and cert.pem, state.sqlite (ids answered, notifications", 1)
    out.line("sent), messages.sqlite (the participant's message log) and its own store:", 1)
    for participant, directory in sorted(world.directories.items()):
        out.line(participant, 1)
        log = directory / MESSAGE_LOG
        note = "" if log.exists() else "  (not written by this build)"
        out.line(f"{'message log':<12} {log}{note}", 2)
        for name, what in STORES.items():
            if (directory / name).exists():
                out.line(f"{'store':<12} {directory / name}  ({what})", 2)
    pensions = world.directories.get(PARTICIPANTS["CMR"])
    if pensions is not None:
        query = "'SELECT * FROM death_notices'"
        out.line(f"e.g. sqlite3 -table {pensions / 'pensions.sqlite'} {query}", 1)
    if prefix:
        out.line()
        out.line(f"The RabbitMQ queues are kept too (prefix {prefix}); run a participant on them, e.g.", 1)
        out.line(
            f"govbus run teleservices.death_notice:cmr --home {home} --broker {_masked(broker)} --prefix {prefix}",
            2,
        )


def _masked(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
