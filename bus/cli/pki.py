"""``govbus pki``: the bus authority's commands for the CA, participant certificates and the CRL."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import click

from bus.cli.errors import group
from bus.cli.options import home_option
from bus.ids import ParticipantId
from bus.pki.authority import DEFAULT_CERT_DAYS, CertificateAuthority, KeyAlgorithm
from bus.pki.home import BusHome


def _participant(ctx: click.Context, param: click.Parameter, value: str) -> ParticipantId:
    return ParticipantId.parse(value)


@group()
def pki() -> None:
    """Bus PKI: create the CA, issue and revoke participant signing and encryption certificates."""


@pki.command()
@home_option
@click.option(
    "--algorithm", type=click.Choice([a.value for a in KeyAlgorithm]), default="ec", show_default=True
)
@click.option(
    "--force", is_flag=True, help="replace an existing CA (every issued certificate stops verifying)"
)
def init(home: BusHome, algorithm: str, force: bool) -> None:
    """Create the bus CA (ECDSA P-256 or RSA-2048) and an empty CRL."""
    CertificateAuthority.init(home, algorithm=KeyAlgorithm(algorithm), force=force)
    click.echo(f"ca-cert: {home.ca_cert}")
    click.echo(f"key: {home.ca_key}")
    click.echo(f"crl: {home.crl}")


@pki.command()
@home_option
@click.argument("participant", callback=_participant, metavar="PARTICIPANT_ID")
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_CERT_DAYS, show_default=True)
@click.option("--algorithm", type=click.Choice([a.value for a in KeyAlgorithm]), help="default: the CA's")
@click.option("--force", is_flag=True, help="re-issue although a valid certificate exists")
def issue(home: BusHome, participant: ParticipantId, days: int, algorithm: str | None, force: bool) -> None:
    """Issue a signing key and certificate for PARTICIPANT_ID (e.g. MA/GOV/CNSS/attestations)."""
    authority = CertificateAuthority(home)
    key, cert = authority.issue(
        participant, days=days, algorithm=KeyAlgorithm(algorithm) if algorithm else None, force=force
    )
    click.echo(f"key: {key}")
    click.echo(f"cert: {cert}")
    click.echo(f"ca-cert: {home.ca_cert}")


@pki.command(name="issue-encryption")
@home_option
@click.argument("participant", callback=_participant, metavar="PARTICIPANT_ID")
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_CERT_DAYS, show_default=True)
def issue_encryption(home: BusHome, participant: ParticipantId, days: int) -> None:
    """Issue an RSA encryption key and certificate for PARTICIPANT_ID (confidential services seal for it)."""
    key, cert = CertificateAuthority(home).issue_encryption(participant, days=days)
    click.echo(f"enc-key: {key}")
    click.echo(f"enc-cert: {cert}")


@pki.command()
@home_option
@click.argument("participant", callback=_participant, metavar="PARTICIPANT_ID")
def revoke(home: BusHome, participant: ParticipantId) -> None:
    """Revoke every certificate of PARTICIPANT_ID and re-sign the CRL."""
    serials = CertificateAuthority(home).revoke(participant)
    for serial in serials:
        click.echo(f"revoked: {participant} serial {serial:x}")
    click.echo(f"crl: {home.crl}")


@pki.command(name="refresh-crl")
@home_option
def refresh_crl(home: BusHome) -> None:
    """Re-sign the CRL with a fresh validity window (schedule it well within 30 days)."""
    CertificateAuthority(home).refresh_crl()
    click.echo(f"crl: {home.crl}")


@pki.command(name="list")
@home_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object per certificate")
def list_(home: BusHome, as_json: bool) -> None:
    """Show every issued certificate: participant, serial, validity and revocation."""
    now = datetime.now(UTC)
    entries = CertificateAuthority(home).list()
    if as_json:
        for entry in entries:
            record = {**asdict(entry), "status": _status(entry.revoked_at, entry.not_after, now)}
            click.echo(json.dumps(record))
        return
    if not entries:
        click.echo("no participant certificates issued yet")
        return
    width = max(len(e.participant) for e in entries)
    click.echo(f"{'PARTICIPANT':<{width}}  {'SERIAL':<16}  ALG  {'NOT AFTER':<20}  STATUS")
    for entry in entries:
        status = _status(entry.revoked_at, entry.not_after, now)
        serial = f"{entry.serial:x}"[:16]
        click.echo(
            f"{entry.participant:<{width}}  {serial:<16}  {entry.algorithm:<3}  {entry.not_after[:19]:<20}  {status}"
        )


def _status(revoked_at: str | None, not_after: str, now: datetime) -> str:
    if revoked_at is not None:
        return f"revoked {revoked_at[:19]}"
    return "expired" if datetime.fromisoformat(not_after) < now else "valid"
