"""``govbus registry``: the bus authority edits, signs and shows the teleservice catalogue."""

from __future__ import annotations

import json

import click

from bus.cli.options import home_option
from bus.ids import ParticipantId, ServiceId
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.store import load_draft, load_published, publish, published_path, save_draft


@click.group()
def registry() -> None:
    """Teleservice catalogue: services, access rights, signing (edits go to a draft until 'sign')."""


@registry.command("add-service")
@home_option
@click.argument("service", metavar="SERVICE_ID")
@click.option(
    "--style", type=click.Choice([s.value for s in ServiceStyle]), default="request-reply", show_default=True
)
@click.option("--schema", required=True, help="the contract's XSD (a name shipped in schemas/ or a path)")
@click.option("--description", default="", help="what the service does, for discovery")
def add_service(home: BusHome, service: str, style: str, schema: str, description: str) -> None:
    """Add (or update) SERVICE_ID, e.g. MA/GOV/CNSS/attestations/cnss.attestation/v1."""
    service_id = ServiceId.parse(service)
    catalogue = load_draft(home, instance=service_id.provider.instance)
    catalogue = catalogue.with_service(ServiceEntry(service_id, ServiceStyle(style), schema, description))
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
        click.echo(f"  {service}  [{entry.style}, {entry.schema}] {entry.description}")
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
            {"id": str(s), "style": str(e.style), "schema": e.schema, "description": e.description}
            for s, e in sorted(catalogue.services.items())
        ],
        "grants": [
            {"client": str(g.client), "service": str(g.service), "right": str(g.right)}
            for g in sorted(catalogue.grants)
        ],
    }
