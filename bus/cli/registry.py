"""``govbus registry``: the bus authority edits, signs and shows the teleservice catalogue."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import click

from bus.cli.errors import group
from bus.cli.options import broker_prefix_options, home_option
from bus.ids import ParticipantId, ServiceId
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.configuration import DEFAULT_VALIDITY, publish_configuration
from bus.registry.declaration import declared_catalogue, read_declaration
from bus.registry.diff import catalogue_diff
from bus.registry.distribution import ConfigurationServer, configuration_service, fetch_configuration
from bus.registry.schema import checked_digest, read_schema
from bus.registry.store import load_draft, load_published, publish, published_path, save_draft
from bus.transport import connect


@group()
def registry() -> None:
    """Teleservice catalogue: services, access rights, signing (edits go to a draft until 'sign')."""


@registry.command("add-service")
@home_option
@click.argument("service", metavar="SERVICE_ID")
@click.option(
    "--style", type=click.Choice([s.value for s in ServiceStyle]), default="request-reply", show_default=True
)
@click.option(
    "--schema",
    required=True,
    help="the contract's XSD: a name shipped in schemas/, package:resource, or a path",
)
@click.option("--description", default="", help="what the service does, for discovery")
@click.option(
    "--confidential", is_flag=True, help="encrypt its payloads for their recipients (docs/architecture.md)"
)
def add_service(
    home: BusHome, service: str, style: str, schema: str, description: str, confidential: bool
) -> None:
    """Add (or update) SERVICE_ID, e.g. MA/GOV/CNSS/attestations/cnss.attestation/v1.

    The schema must exist and compile as an XSD; its SHA-256 digest goes into the catalogue.
    """
    service_id = ServiceId.parse(service)
    digest = checked_digest(schema, read_schema(schema))
    catalogue = load_draft(home, instance=service_id.provider.instance)
    entry = ServiceEntry(
        service_id, ServiceStyle(style), schema, description, digest, confidential=confidential
    )
    catalogue = catalogue.with_service(entry)
    click.echo(f"draft: {save_draft(home, catalogue)}")


@registry.command("remove-service")
@home_option
@click.argument("service", metavar="SERVICE_ID")
def remove_service(home: BusHome, service: str) -> None:
    """Remove SERVICE_ID and every grant on it from the draft."""
    catalogue, dropped = load_draft(home).without_service(ServiceId.parse(service))
    for grant_ in dropped:
        click.echo(f"grant removed: {grant_.client} {grant_.right}")
    click.echo(f"draft: {save_draft(home, catalogue)}")


def _grant(catalogue: Catalogue, client: str, service: str) -> Grant:
    service_id = ServiceId.parse(service)
    entry = catalogue.service(service_id)
    right = Right.SUBSCRIBE if entry.style is ServiceStyle.NOTIFICATION else Right.CALL
    return Grant(ParticipantId.parse(client), service_id, right)


@registry.command()
@home_option
@click.argument("client", metavar="CLIENT_ID")
@click.argument("service", metavar="SERVICE_ID")
def grant(home: BusHome, client: str, service: str) -> None:
    """Allow CLIENT_ID to call SERVICE_ID (or to subscribe, for a notification service)."""
    catalogue = load_draft(home)
    catalogue = catalogue.with_grant(_grant(catalogue, client, service))
    click.echo(f"draft: {save_draft(home, catalogue)}")


@registry.command()
@home_option
@click.argument("client", metavar="CLIENT_ID")
@click.argument("service", metavar="SERVICE_ID")
def revoke(home: BusHome, client: str, service: str) -> None:
    """Withdraw CLIENT_ID's right on SERVICE_ID."""
    catalogue = load_draft(home)
    catalogue = catalogue.without_grant(_grant(catalogue, client, service))
    click.echo(f"draft: {save_draft(home, catalogue)}")


@registry.command()
@home_option
def sign(home: BusHome) -> None:
    """Sign the draft with the CA key and publish it as the next catalogue version."""
    path, catalogue = publish(home)
    click.echo(f"catalogue: {path}")
    click.echo(f"version: {catalogue.version}")
    for service, entry in sorted(catalogue.services.items()):
        if not entry.digest:
            click.echo(f"warning: {service} has no schema digest: add it again to record one", err=True)


@registry.command()
@home_option
def diff(home: BusHome) -> None:
    """What signing the draft would change in the published catalogue."""
    draft = load_draft(home)
    _show_diff(home, draft)


@registry.command()
@home_option
@click.argument("declaration", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sign", "sign_", is_flag=True, help="sign and publish the result when it changes anything")
def apply(home: BusHome, declaration: Path, sign_: bool) -> None:
    """Make the draft exactly what FILE (TOML) declares; show the diff; with --sign, publish it.

    Applying the same file again changes nothing and signs nothing.
    """
    declared = declared_catalogue(read_declaration(declaration), base=declaration.parent)
    draft = load_draft(home, instance=declared.instance)
    click.echo(f"draft: {save_draft(home, replace(declared, version=draft.version))}")
    if not _show_diff(home, declared):
        return
    if not sign_:
        click.echo("publish it with 'govbus registry sign' (or apply --sign)")
        return
    path, catalogue = publish(home)
    click.echo(f"catalogue: {path}")
    click.echo(f"version: {catalogue.version}")


def _show_diff(home: BusHome, draft: Catalogue) -> bool:
    """Print the draft's changes against the published catalogue; whether there are any."""
    if published_path(home).exists():
        published = load_published(home)
        against = f"signed version {published.version}"
    else:
        published, against = Catalogue(instance=draft.instance), "no signed catalogue yet"
    changes = catalogue_diff(published, draft)
    if not changes:
        click.echo(f"no change against {against}")
        return False
    click.echo(f"{len(changes)} change(s) against {against}:")
    for change in changes:
        click.echo(f"  {change}")
    return True


@registry.command()
@home_option
@click.option("--draft", is_flag=True, help="show the unsigned draft instead of the signed catalogue")
@click.option("--json", "as_json", is_flag=True)
def show(home: BusHome, draft: bool, as_json: bool) -> None:
    """Show the signed catalogue (verified against the CA), or the draft."""
    catalogue = load_draft(home) if draft else load_published(home)
    if as_json:
        click.echo(json.dumps(_as_json(catalogue), indent=2))
        return
    source = "draft (unsigned)" if draft else f"{published_path(home)} (signature verified)"
    click.echo(f"catalogue of {catalogue.instance}, version {catalogue.version}: {source}")
    click.echo("services:")
    for service, entry in sorted(catalogue.services.items()):
        digest = f"sha256 {entry.digest[:12]}" if entry.digest else "no schema digest"
        click.echo(f"  {service}  [{entry.style}, {entry.schema}, {digest}] {entry.description}")
        for grant_ in sorted(g for g in catalogue.grants if g.service == service):
            click.echo(f"      {grant_.right:<9} {grant_.client}")
    if not catalogue.services:
        click.echo("  (none)")


def _as_json(catalogue: Catalogue) -> dict[str, object]:
    return {
        "instance": catalogue.instance,
        "version": catalogue.version,
        "participants": {str(p): name for p, name in sorted(catalogue.participants.items())},
        "services": [
            {
                "id": str(s),
                "style": str(e.style),
                "schema": e.schema,
                "schemaDigest": e.digest or None,
                "description": e.description,
            }
            for s, e in sorted(catalogue.services.items())
        ],
        "grants": [
            {"client": str(g.client), "service": str(g.service), "right": str(g.right)}
            for g in sorted(catalogue.grants)
        ],
    }


@registry.command("publish-config")
@home_option
@click.option(
    "--valid-days",
    type=click.IntRange(min=1),
    default=DEFAULT_VALIDITY.days,
    show_default=True,
    help="participants refuse the configuration after this",
)
@click.option(
    "--broker-url", "brokers", multiple=True, metavar="URL", help="a broker endpoint to publish (repeat)"
)
def publish_config(home: BusHome, valid_days: int, brokers: tuple[str, ...]) -> None:
    """Sign the next version of the global configuration: CA certificate, CRL, catalogue, brokers and
    participants' encryption certificates (serve it with 'serve-config')."""
    path, version = publish_configuration(home, brokers=brokers, validity=timedelta(days=valid_days))
    click.echo(f"configuration: {path} (version {version}, valid {valid_days} days)")


@registry.command("serve-config")
@home_option
@broker_prefix_options
def serve_config(home: BusHome, broker: str, prefix: str) -> None:
    """Answer participants' configuration requests over the broker until interrupted (the authority)."""
    instance = load_published(home).instance
    with connect(broker, prefix=prefix) as transport:
        server = ConfigurationServer(home, transport, instance)
        server.start()
        click.echo(f"serving {configuration_service(instance)} from {home.ca_dir / 'configuration.xml'}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


@registry.command("fetch-config")
@home_option
@broker_prefix_options
@click.option("--instance", required=True, help="the bus instance (e.g. MA)")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
def fetch_config(home: BusHome, broker: str, prefix: str, instance: str, timeout: float) -> None:
    """Fetch and install the authority's signed global configuration (a participant)."""
    with connect(broker, prefix=prefix) as transport:
        configuration = fetch_configuration(transport, home, instance, timeout=timeout)
    click.echo(
        f"configuration: version {configuration.version}, expires {configuration.expires.isoformat()}, "
        f"{len(configuration.encryption_certificates)} encryption certificates"
    )
