"""``govbus call``: the bus's curl. Sign a payload, call a service, print the verified response payload."""

from __future__ import annotations

import sys

import click
import lxml.etree as etree

from bus.cli.envelope import read_input
from bus.cli.options import home_option
from bus.cli.run import DEFAULT_BROKER
from bus.logging import configure_logging
from bus.pki.home import BusHome
from bus.xml import parse_untrusted
from sdk.client import Client


@click.command()
@home_option
@click.option("--as", "sender", required=True, metavar="PARTICIPANT_ID", help="the calling participant")
@click.option("--broker", envvar="GOVBUS_BROKER", default=DEFAULT_BROKER, show_default=True)
@click.option("--prefix", default="govbus", show_default=True)
@click.option("--purpose", help="legal basis or purpose of processing")
@click.option("--user-id", help="the official acting")
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
    timeout: float,
    service: str,
    payload: str,
) -> None:
    """Call SERVICE_ID with PAYLOAD.xml (or - for stdin); print the response payload.

    Exit 0 with the verified response payload on stdout; exit 1 with the fault code on stderr.
    """
    configure_logging("WARNING")
    element = parse_untrusted(read_input(payload))
    with Client(sender, home=home, broker=broker, prefix=prefix) as client:
        verified = client.call_raw(service, element, purpose=purpose, user_id=user_id, timeout=timeout)
    shown = etree.fromstring(etree.tostring(verified.payload))
    etree.cleanup_namespaces(shown)
    etree.indent(shown)
    sys.stdout.write(etree.tostring(shown, encoding="unicode") + "\n")
