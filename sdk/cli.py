"""The SDK's commands, registered into ``govbus`` through the ``govbus.cli`` entry points, and the CLI kit
for the command groups of teleservices.

``govbus run MODULE:APP`` runs a provider or subscriber; ``govbus call`` is the bus's curl. A teleservice's
command group uses the same kit as every govbus command (``group``: one error line and the documented exit
codes; ``bus_options``, ``home_option``, ``as_option``, ...: the shared options, resolved from the command
line, the environment and ``govbus.toml``), imported from here since teleservices reach ``bus/`` only
through ``sdk``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from types import FrameType

import click
import lxml.etree as etree
import structlog

from bus.cli.envelope import read_input
from bus.cli.errors import EXIT_FAULT, GovbusGroup, fail, group, refusal_line
from bus.cli.options import (
    as_option,
    broker_option,
    bus_options,
    home_option,
    log_level_option,
    metrics_port_option,
    prefix_option,
    settings,
)
from bus.logging import configure_logging
from bus.metrics import serve_metrics
from bus.pki.home import BusHome
from bus.xml import parse_untrusted
from sdk.app import App, Running
from sdk.client import Client
from sdk.compose import open_node
from sdk.node import Node

log = structlog.get_logger("govbus.run")


def load_app(target: str) -> object:
    """Import ``package.module:attribute`` (the current directory is importable)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise click.BadParameter(f"{target!r}: expected MODULE:APP, e.g. teleservices.cnss_attestation:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise click.BadParameter(f"cannot import {module_name}: {error}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise click.BadParameter(f"{module_name} has no attribute {attribute!r}") from None


@click.command()
@click.argument("target", metavar="MODULE:APP")
@home_option
@broker_option
@prefix_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="worker processes sharing the queues (competing consumers)",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="handler threads per worker process (without --inline)",
)
@click.option(
    "--inline/--no-inline",
    default=False,
    show_default=True,
    help="run handlers on the broker connection's own thread: faster, for handlers that never call the "
    "bus synchronously and finish well within the heartbeat (a longer one costs the connection)",
)
@click.option("--prefetch", type=click.IntRange(min=1), default=64, show_default=True)
@metrics_port_option
@log_level_option
@click.option(
    "--storage",
    envvar="GOVBUS_STORAGE",
    default="sqlite:",
    show_default=True,
    help="where the participant's stores live: sqlite: or postgresql://USER@HOST:PORT/DATABASE",
)
@click.option(
    "--fetch-config",
    is_flag=True,
    help="fetch the authority's signed global configuration over the broker before starting",
)
def run(
    target: str,
    home: BusHome,
    broker: str,
    prefix: str,
    workers: int,
    threads: int,
    inline: bool,
    prefetch: int,
    metrics_port: int | None,
    storage: str,
    log_level: str,
    fetch_config: bool = False,
) -> None:
    """Run the provider or subscriber MODULE:APP (e.g. teleservices.cnss_attestation:app) until SIGTERM.

    With --metrics-port, /metrics serves Prometheus metrics and /healthz answers 200 while the worker's
    connection and consumers are up, 503 otherwise (worker N of --workers uses port + N).
    """
    configure_logging(log_level)
    if workers > 1:
        _supervise(workers, metrics_port)
        return
    app = load_app(target)
    if not isinstance(app, App):
        raise click.BadParameter(f"{target} is a {type(app).__name__}, not a govbus Provider or Subscriber")
    worker = Worker()
    if metrics_port:
        serve_metrics(metrics_port, health=worker.health)
    log.info("worker.starting", app=target, participant=str(app.participant), pid=os.getpid())
    config = settings()
    node = open_node(
        app.participant,
        home=home,
        broker=broker,
        prefix=prefix,
        checkpoint_interval=config.checkpoint_seconds,
        service_modes=config.log_service_modes,
        synchronous=config.log_synchronous,
        storage=storage,
        fetch_configuration=fetch_config,
    )
    worker.serve(app, node, concurrency=threads, prefetch=prefetch, inline=inline)


class Worker:
    """One worker process: its app running on its node, and the health that /healthz reports."""

    def __init__(self) -> None:
        self.running: Running | None = None
        self.stop = threading.Event()

    def serve(self, app: App, node: Node, *, concurrency: int, prefetch: int, inline: bool = False) -> None:
        """Serve until SIGTERM/SIGINT (or ``stop``); then stop consuming, let handlers finish, close."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop.set())
        with node:
            self.running = app.start(node, concurrency=concurrency, prefetch=prefetch, inline=inline)
            try:
                self.stop.wait()
                log.info("app.stopping", participant=str(app.participant))
            finally:
                running, self.running = self.running, None
                running.stop()

    def health(self) -> tuple[bool, Mapping[str, object]]:
        """Healthy while the node's broker connection is open and every consumer is up."""
        running = self.running
        if running is None:
            return False, {"reason": "not consuming (starting or stopping)"}
        transport = running.node.transport
        # Every transport is closed for good once ``close`` ran; RabbitMQ also says whether its connection
        # is open right now (it is re-established in the background).
        connected = not getattr(transport, "_closed", False) and bool(getattr(transport, "connected", True))
        consumers = list(running.consumers)
        down = [consumer.queue for consumer in consumers if not consumer.active]
        healthy = connected and bool(consumers) and not down
        details: dict[str, object] = {"connected": connected, "consumers": len(consumers), "down": down}
        return healthy, details


def _supervise(workers: int, metrics_port: int | None) -> None:
    """Start ``workers`` copies of this command as single-worker processes; forward SIGTERM/SIGINT."""
    argv = _single_worker_argv(sys.argv[1:])
    children: list[subprocess.Popen[bytes]] = []
    for index in range(workers):
        extra = ["--metrics-port", str(metrics_port + index)] if metrics_port else []
        children.append(subprocess.Popen([sys.executable, "-m", "bus.cli", *argv, *extra]))
    stopping = threading.Event()

    def forward(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    if any(codes) and not stopping.is_set():
        raise SystemExit(max(codes))


def _single_worker_argv(argv: list[str]) -> list[str]:
    result: list[str] = []
    skip = False
    for item in argv:
        if skip:
            skip = False
            continue
        if item in ("--workers", "--metrics-port"):
            skip = True
            continue
        if item.startswith(("--workers=", "--metrics-port=")):
            continue
        result.append(item)
    return result


@click.command()
@bus_options
@click.option("--purpose", help="legal basis or purpose of processing")
@click.option("--user-id", help="the official acting")
@click.option("--data-subject", help="whose personal data the call concerns: CIN:... or ICE:...")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="seconds")
@click.argument("service", metavar="SERVICE_ID")
@click.argument("payload", metavar="PAYLOAD.xml")
def call(
    home: BusHome,
    sender: str,
    broker: str,
    prefix: str,
    purpose: str | None,
    user_id: str | None,
    data_subject: str | None,
    timeout: float,
    service: str,
    payload: str,
) -> None:
    """Call SERVICE_ID with PAYLOAD.xml (or - for stdin); print the response payload.

    Exit 0 with the verified response payload on stdout; exit 1 with ``CODE: reason`` on stderr, where a
    teleservice's own refusal code comes first and the bus fault code beside it
    (``Vehicles.UnknownPlate: no such plate (Server.HandlerError)``).
    """
    configure_logging("WARNING")
    element = parse_untrusted(read_input(payload))
    with Client(sender, home=home, broker=broker, prefix=prefix) as client:
        verified = client.call_raw(
            service, element, purpose=purpose, user_id=user_id, timeout=timeout, data_subject=data_subject
        )
    shown = etree.fromstring(etree.tostring(verified.payload))
    etree.cleanup_namespaces(shown)
    etree.indent(shown)
    sys.stdout.write(etree.tostring(shown, encoding="unicode") + "\n")


json_option = click.option("--json", "as_json", is_flag=True, help="print JSON")


@click.command()
@bus_options
@json_option
@click.argument("provider", metavar="PROVIDER_ID")
def services(home: BusHome, sender: str, broker: str, prefix: str, as_json: bool, provider: str) -> None:
    """Ask PROVIDER_ID over the bus which services it offers, and which of them you may use."""
    configure_logging("WARNING")
    with Client(sender, home=home, broker=broker, prefix=prefix) as client:
        listed = client.services(provider)
    if as_json:
        click.echo(json.dumps([s.model_dump() for s in listed], indent=2))
        return
    for summary in listed:
        mark = "allowed" if summary.allowed else "not granted"
        click.echo(f"{summary.id}  [{summary.style}, {mark}]  {summary.description}")


@click.command()
@bus_options
@json_option
@click.argument("service", metavar="SERVICE_ID")
def describe(home: BusHome, sender: str, broker: str, prefix: str, as_json: bool, service: str) -> None:
    """Ask SERVICE_ID's provider over the bus for its description and XSD contract."""
    configure_logging("WARNING")
    with Client(sender, home=home, broker=broker, prefix=prefix) as client:
        description = client.describe(service)
    if as_json:
        click.echo(json.dumps(description.model_dump(), indent=2))
        return
    click.echo(f"{description.id}  [{description.style}]  {description.description}")
    click.echo(f"contract: {description.schema_name}")
    click.echo(description.schema_text)


__all__ = [
    "EXIT_FAULT",
    "GovbusGroup",
    "as_option",
    "broker_option",
    "bus_options",
    "call",
    "describe",
    "fail",
    "group",
    "home_option",
    "load_app",
    "prefix_option",
    "refusal_line",
    "run",
    "services",
    "settings",
]
