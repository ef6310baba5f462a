"""The catalogue as the authority edits it: the draft against the signed version, grants changed in the
draft, and signing (``bus.registry.store.publish``, what ``govbus registry sign`` does). The diff shown
before signing is ``bus.registry.diff.catalogue_diff`` of the signed catalogue and the draft."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bus.ids import ParticipantId, ServiceId
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.diff import Change, catalogue_diff
from bus.registry.schema import SchemaRefused, checked_digest, read_schema
from bus.registry.store import load_draft, load_published, publish, published_path, save_draft

SHIPPED_SCHEMA = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*\.xsd")
"""A schema the console accepts: a bare name shipped in ``schemas/`` (never a path or a package)."""


@dataclass(frozen=True, slots=True)
class State:
    published: Catalogue | None
    draft: Catalogue
    changes: list[Change]


def state(home: BusHome) -> State:
    published = load_published(home) if published_path(home).exists() else None
    draft = load_draft(home, instance=published.instance if published else "MA")
    changes = catalogue_diff(published or Catalogue(instance=draft.instance), draft)
    return State(published, draft, changes)


def _grant(catalogue: Catalogue, client: str, service: str) -> Grant:
    service_id = ServiceId.parse(service)
    entry = catalogue.service(service_id)
    right = Right.SUBSCRIBE if entry.style is ServiceStyle.NOTIFICATION else Right.CALL
    return Grant(ParticipantId.parse(client), service_id, right)


def change_grant(home: BusHome, client: str, service: str, *, allow: bool) -> None:
    """Add or withdraw ``client``'s right on ``service`` in the draft (not signed yet).
    ``Fault`` (bad id, unknown service)."""
    draft = load_draft(home)
    grant = _grant(draft, client, service)
    save_draft(home, draft.with_grant(grant) if allow else draft.without_grant(grant))


def add_service(
    home: BusHome,
    service: str,
    *,
    style: str,
    schema: str,
    description: str,
    personal: bool,
    confidential: bool,
) -> None:
    """Add (or replace) ``service`` in the draft, as ``govbus registry add-service`` does, with the digest of
    its schema. ``Fault`` (bad id), ``SchemaRefused`` (not a shipped schema, or not a valid XSD),
    ``ValueError`` (unknown style)."""
    if not SHIPPED_SCHEMA.fullmatch(schema):
        raise SchemaRefused(f"schema {schema!r}: give the name of a schema shipped in schemas/")
    service_id = ServiceId.parse(service)
    digest = checked_digest(schema, read_schema(schema))
    entry = ServiceEntry(
        service_id,
        ServiceStyle(style),
        schema,
        description,
        digest,
        personal=personal,
        confidential=confidential,
    )
    draft = load_draft(home, instance=service_id.provider.instance)
    save_draft(home, draft.with_service(entry))


def remove_service(home: BusHome, service: str) -> list[Grant]:
    """Remove ``service`` and every grant on it from the draft; the grants removed. ``Fault`` (bad id,
    unknown service)."""
    draft, dropped = load_draft(home).without_service(ServiceId.parse(service))
    save_draft(home, draft)
    return dropped


def sign(home: BusHome) -> Catalogue:
    """Sign the draft with the CA key and publish it as the next version."""
    return publish(home)[1]
