"""Adding and removing a service in the catalogue draft from the authority console: confirmed, CSRF-checked,
only shipped schemas, and the change is in the diff shown before signing (nothing is signed here)."""

from __future__ import annotations

import html

from bus.ids import ServiceId
from bus.registry.store import load_draft

from ..conftest import PortalWorld
from .conftest import csrf
from .consoles_support import workspace  # noqa: F401  (the connected workspace replaces the plain one)
from .test_consoles_http import confirm_then, signed_in

SERVICE = "MA/GOV/MEF/bureau-ordre/console.added/v1"
PATH = "/workspace/authority/catalogue/service"


def test_admin_adds_then_removes_a_service_in_the_draft(new_client, portal_world: PortalWorld):
    home = portal_world.world.bus.home
    admin = signed_in(new_client, "bus.admin")
    fields = {"service": SERVICE, "change": "add", "style": "request-reply", "schema": "envelope.xsd",
              "description": "Service ajouté par la console"}  # fmt: skip
    asked, done = confirm_then(admin, PATH, **fields)
    assert f"Ajouter {SERVICE}" in html.unescape(asked.text)
    assert done.status_code == 303
    entry = load_draft(home).service(ServiceId.parse(SERVICE))
    assert entry.schema == "envelope.xsd" and len(entry.digest) == 64
    token = csrf(admin, "/workspace/authority/catalogue")
    diff = admin.post("/workspace/authority/catalogue/sign", data={"csrf": token}).text
    assert SERVICE in diff and 'name="confirm" value="yes"' in diff  # shown before signing

    _, removed = confirm_then(admin, PATH, service=SERVICE, change="remove")
    assert removed.status_code == 303
    assert ServiceId.parse(SERVICE) not in load_draft(home).services
    assert SERVICE not in admin.get("/workspace/authority/catalogue").text


def test_only_a_shipped_schema_and_only_the_bus_administrator(new_client, portal_world: PortalWorld):
    admin = signed_in(new_client, "bus.admin")
    token = csrf(admin, "/workspace/authority/")
    for schema in ("/etc/passwd", "../schemas/envelope.xsd", "bus:registry/schema.py", "missing.xsd"):
        refused = admin.post(PATH, data={"csrf": token, "service": SERVICE, "change": "add",
                                         "style": "request-reply", "schema": schema, "confirm": "yes"})  # fmt: skip
        assert refused.status_code == 400, schema
    assert ServiceId.parse(SERVICE) not in load_draft(portal_world.world.bus.home).services
    assert (
        admin.post(PATH, data={"service": SERVICE, "change": "remove", "confirm": "yes"}).status_code == 403
    )
    agent = signed_in(new_client, "mef.agent")
    forged = agent.post(PATH, data={"csrf": csrf(agent, "/workspace/"), "service": SERVICE, "change": "remove",
                                    "confirm": "yes"})  # fmt: skip
    assert forged.status_code == 403
