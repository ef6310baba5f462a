"""The catalogue as the authority edits it: the draft against the signed version, grants changed in the
draft, and signing (``bus.registry.store.publish``, what ``govbus registry sign`` does). The diff shown
before signing is ``bus.registry.diff.catalogue_diff`` of the signed catalogue and the draft."""

from __future__ import annotations

from dataclasses import dataclass

from bus.ids import ParticipantId, ServiceId
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceStyle
from bus.registry.diff import Change, catalogue_diff
from bus.registry.store import load_draft, load_published, publish, published_path, save_draft


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


def sign(home: BusHome) -> Catalogue:
    """Sign the draft with the CA key and publish it as the next version."""
    return publish(home)[1]
