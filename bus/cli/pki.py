"""``govbus pki``: the bus authority's commands for the CA, participant certificates and the CRL."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from bus.cli.errors import group
from bus.cli.options import home_option
from bus.ids import ParticipantId
from bus.pki.authority import DEFAULT_CERT_DAYS, CertificateAuthority, KeyAlgorithm
from bus.pki.home import BusHome, write_public
from bus.pki.keyfile import PASSPHRASE_ENV, PASSPHRASE_FILE_ENV, passphrase_from_environment
from bus.pki.request import make_request
from bus.pki.token import MODULE_ENV, PIN_FILE_ENV, TOKEN_ENV, Pkcs11Token


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
@click.option(
    "--csr",
    "csr_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="issue for the key of this CSR, made by the participant (govbus pki request); no key is made here",
)
@click.option("--encryption", is_flag=True, help="with --csr: issue the encryption certificate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="with --csr: also write the certificate here",
)
def issue(
    home: BusHome,
    participant: ParticipantId,
    days: int,
    algorithm: str | None,
    force: bool,
    csr_file: Path | None,
    encryption: bool,
    out: Path | None,
) -> None:
    """Issue PARTICIPANT_ID's certificate (e.g. MA/GOV/CNSS/attestations).

    With --csr, from the participant's own certificate signing request: the authority never sees the
    key, and refuses a CSR asking for another participant's identifier. Without it, the authority makes
    a signing key too (a bus where one operator runs every participant).
    """
    authority = CertificateAuthority(home)
    if csr_file is None:
        if encryption or out is not None:
            raise click.UsageError("--encryption and --out need --csr (or use 'govbus pki issue-encryption')")
        key, cert = authority.issue(
            participant, days=days, algorithm=KeyAlgorithm(algorithm) if algorithm else None, force=force
        )
        click.echo(f"key: {key}")
        click.echo(f"cert: {cert}")
        click.echo(f"ca-cert: {home.ca_cert}")
        return
    if algorithm is not None:
        raise click.UsageError("--algorithm is the CSR's key's: not with --csr")
    certificate = authority.issue_from_csr(
        participant, csr_file.read_bytes(), encryption=encryption, days=days, force=force
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    path = home.participant_encryption_cert(participant) if encryption else home.participant_cert(participant)
    if out is not None:
        write_public(out, pem)
        click.echo(f"out: {out}")
    click.echo(f"{'enc-cert' if encryption else 'cert'}: {path}")
    click.echo(f"ca-cert: {home.ca_cert}")


@pki.command()
@home_option
@click.argument("participant", callback=_participant, metavar="PARTICIPANT_ID")
@click.option(
    "--algorithm",
    type=click.Choice([a.value for a in KeyAlgorithm]),
    default="ec",
    show_default=True,
    help="the signing key's type (the encryption key is RSA)",
)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"encrypt both keys at rest with the first line of this file (default: ${PASSPHRASE_FILE_ENV}, "
    f"${PASSPHRASE_ENV}; none: unencrypted)",
)
@click.option("--force", is_flag=True, help="replace existing keys (the old ones stop working)")
@click.option(
    "--token",
    "on_token",
    is_flag=True,
    help=f"make the keys on the PKCS#11 token of ${MODULE_ENV}, ${TOKEN_ENV}, ${PIN_FILE_ENV} (not extractable)",
)
def request(
    home: BusHome,
    participant: ParticipantId,
    algorithm: str,
    passphrase_file: Path | None,
    force: bool,
    on_token: bool,
) -> None:
    """Make PARTICIPANT_ID's signing and encryption keys here, and a CSR for each to send to the authority.

    The keys (0600, or on a PKCS#11 token with --token) never leave this machine; the authority answers
    with 'govbus pki issue ID --csr FILE'.
    """
    if on_token:
        token = Pkcs11Token.from_environment()
        if token is None:
            raise click.UsageError(f"--token needs ${MODULE_ENV} and ${TOKEN_ENV}")
        try:
            token.generate(participant, force=force)
            for usage, name in (("signing", "signing-csr.pem"), ("encryption", "enc-csr.pem")):
                path = home.participant_dir(participant) / name
                write_public(path, token.csr(participant, usage))
                click.echo(f"{'csr' if usage == 'signing' else 'enc-csr'}: {path}")
        finally:
            token.close()
        click.echo(f"keys: on token {token.label!r}")
        return
    if passphrase_file is not None:
        lines = passphrase_file.read_bytes().splitlines()
        passphrase = lines[0] if lines and lines[0] else None
        if passphrase is None:
            raise click.UsageError(f"{passphrase_file} holds no passphrase on its first line")
    else:
        passphrase = passphrase_from_environment()
    files = make_request(
        home, participant, algorithm=KeyAlgorithm(algorithm), passphrase=passphrase, force=force
    )
    click.echo(f"key: {files.key}{' (encrypted)' if passphrase else ''}")
    click.echo(f"csr: {files.csr}")
    click.echo(f"enc-key: {files.encryption_key}{' (encrypted)' if passphrase else ''}")
    click.echo(f"enc-csr: {files.encryption_csr}")


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


@pki.command(name="issue-broker")
@home_option
@click.argument("hosts", nargs=-1, required=True, metavar="HOST...")
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_CERT_DAYS, show_default=True)
def issue_broker(home: BusHome, hosts: tuple[str, ...], days: int) -> None:
    """Issue the broker's TLS server key and certificate for HOST... (names or addresses clients use)."""
    key, cert = CertificateAuthority(home).issue_broker(list(hosts), days=days)
    click.echo(f"key: {key}")
    click.echo(f"cert: {cert}")
    click.echo(f"ca-cert: {home.ca_cert}")


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
    click.echo(f"{'PARTICIPANT':<{width}}  {'SERIAL':<16}  ALG  USE  {'NOT AFTER':<20}  STATUS")
    for entry in entries:
        status = _status(entry.revoked_at, entry.not_after, now)
        serial = f"{entry.serial:x}"[:16]
        click.echo(
            f"{entry.participant:<{width}}  {serial:<16}  {entry.algorithm:<3}  {entry.usage[:3]:<3}  "
            f"{entry.not_after[:19]:<20}  {status}"
        )


def _status(revoked_at: str | None, not_after: str, now: datetime) -> str:
    if revoked_at is not None:
        return f"revoked {revoked_at[:19]}"
    return "expired" if datetime.fromisoformat(not_after) < now else "valid"
