"""``govbus envelope``: sign, verify and show envelopes by hand, for people who debug and audit."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import click
import lxml.etree as etree

from bus.cli.errors import group
from bus.cli.options import as_option, home_option
from bus.cli.text import printable
from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.envelope.codec import ENVELOPE_TAG, HEADER_TAG, payload_of
from bus.envelope.model import MAX_LIFETIME
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki import SigningIdentity, TrustStore
from bus.pki.home import BusHome
from bus.xml import parse_untrusted, whole_text


def read_input(source: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``."""
    if source == "-":
        return sys.stdin.buffer.read()
    with open(source, "rb") as handle:
        return handle.read()


@group()
def envelope() -> None:
    """Sign, verify and inspect govbus envelopes."""


@envelope.command()
@home_option
@as_option(help="the signing participant")
@click.option(
    "--service", required=True, metavar="SERVICE_ID", help="e.g. MA/GOV/CNSS/attestations/cnss.attestation/v1"
)
@click.option(
    "--kind", type=click.Choice([k.value for k in MessageKind]), default="request", show_default=True
)
@click.option("--user-id", help="the official acting")
@click.option("--purpose", help="legal basis or purpose of processing")
@click.option("--correlation-id", help="the request id (response, receipt, fault)")
@click.option("--request-hash", help="sha256 hex of the request as received (response, receipt)")
@click.option(
    "--ttl",
    type=click.IntRange(min=1, max=int(MAX_LIFETIME.total_seconds())),
    default=60,
    show_default=True,
    help="seconds until expiry (at most the verifiers' 30 days)",
)
@click.argument("payload", metavar="PAYLOAD.xml")
def sign(
    home: BusHome,
    sender: str,
    service: str,
    kind: str,
    user_id: str | None,
    purpose: str | None,
    correlation_id: str | None,
    request_hash: str | None,
    ttl: int,
    payload: str,
) -> None:
    """Write a signed envelope carrying PAYLOAD.xml to stdout."""
    identity = SigningIdentity.from_home(home, ParticipantId.parse(sender))
    header = Header.new(
        MessageKind(kind),
        identity.participant,
        ServiceId.parse(service),
        ttl=timedelta(seconds=ttl),
        user_id=user_id,
        purpose=purpose,
        correlation_id=correlation_id,
        request_hash=request_hash,
    )
    sys.stdout.buffer.write(sign_envelope(header, parse_untrusted(read_input(payload)), identity))
    sys.stdout.buffer.write(b"\n")


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> str | datetime | None:
    """``--at``: 'issued', or an ISO 8601 time with its zone, in UTC (a usage error otherwise)."""
    if value is None or value == "issued":
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "give an ISO 8601 time such as 2026-11-21T10:00:00Z, or 'issued'", ctx=ctx, param=param
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} has no time zone: add Z for UTC or an offset such as +01:00", ctx=ctx, param=param
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise click.BadParameter(
            f"{value!r} is outside the calendar once taken to UTC", ctx=ctx, param=param
        ) from None


@envelope.command()
@home_option
@click.option(
    "--at",
    metavar="TIME|issued",
    callback=_moment,
    help="judge time rules (window, certificate validity, revocation) at this moment instead of now; "
    "'issued' = the envelope's own issue time, as its sender claims it",
)
@click.argument("file", metavar="FILE")
def verify(home: BusHome, at: str | datetime | None, file: str) -> None:
    """Verify FILE (or - for stdin) fully except replay; print its verified header as JSON.

    Exit 0 when valid; exit 1 with the fault code and reason on stderr otherwise; exit 2 on a bad --at.
    """
    data = read_input(file)
    verifier = EnvelopeVerifier(TrustStore.from_home(home))
    moment = _issued_of(data) if at == "issued" else at
    verified = verifier.verify(data, at=moment if isinstance(moment, datetime) else None)
    click.echo(json.dumps(verified.header.as_json()))


def _issued_of(data: bytes) -> datetime:
    """The envelope's claimed issue time in UTC; a fault when it is missing, unreadable or off the calendar."""
    root = parse_untrusted(data)
    issued = root.find(f"{HEADER_TAG}/{{urn:govbus:envelope:1}}issued")
    text = whole_text(issued) if issued is not None else ""
    try:
        moment = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise Fault(FaultCode.SCHEMA_VIOLATION, "the envelope has no readable issued time") from None
    if moment.tzinfo is None:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"the envelope's issued time {text!r} has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Fault(
            FaultCode.SCHEMA_VIOLATION, f"the envelope's issued time {text!r} is outside the calendar in UTC"
        ) from None


@envelope.command()
@click.argument("file", metavar="FILE")
def show(file: str) -> None:
    """Print the header and payload of FILE readably, WITHOUT verifying anything.

    Control and invisible characters are printed escaped (``\\x9b``, ``\\u202e``), never raw.
    """
    root = parse_untrusted(read_input(file))
    if root.tag != ENVELOPE_TAG or len(root) < 2:
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"root element is {root.tag}, not a govbus Envelope")
    click.echo("NOT VERIFIED: this shows what the file claims; run 'govbus envelope verify' to check it.")
    click.echo("")
    header = root.find(HEADER_TAG)
    for field in header if header is not None else []:
        if isinstance(field.tag, str):
            name = etree.QName(field).localname
            click.echo(f"  {printable(name) + ':':<17}{printable(whole_text(field) or '')}")
    signature = root[-1]
    signed = isinstance(signature.tag, str) and etree.QName(signature).localname == "Signature"
    click.echo(f"  {'signature:':<17}{'present (unchecked)' if signed else 'absent'}")
    click.echo("")
    try:
        body = payload_of(root)
    except IndexError:
        click.echo("payload: (none)")
        return
    shown = etree.fromstring(etree.tostring(body))
    etree.cleanup_namespaces(shown)
    etree.indent(shown)
    click.echo("\n".join(printable(line) for line in etree.tostring(shown, encoding="unicode").splitlines()))
