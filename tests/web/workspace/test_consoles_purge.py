"""Purging a dead-letter queue from the authority console: only the bus administrator, a confirmation
stating how many letters go, then the queue is empty and the change is logged with the administrator."""

from __future__ import annotations

from structlog.testing import capture_logs

from ..conftest import PortalWorld
from .conftest import csrf
from .consoles_support import (
    TEST_SERVICE,
    dead_letter,
    queue_depth,
    workspace,  # noqa: F401  (the connected workspace replaces the plain one)
)
from .test_consoles_http import signed_in

PURGE = "/workspace/authority/dead-letters/purge"


def test_admin_purges_a_dead_letter_queue_after_confirming(new_client, portal_world: PortalWorld):
    dead_letter(portal_world)
    waiting = queue_depth(portal_world, dead=True)
    assert waiting >= 1
    agent = signed_in(new_client, "mef.agent")
    assert agent.post(PURGE, data={"csrf": csrf(agent, "/workspace/"), "service": TEST_SERVICE,
                                   "confirm": "yes"}).status_code == 403  # fmt: skip
    admin = signed_in(new_client, "bus.admin")
    assert admin.post(PURGE, data={"service": TEST_SERVICE, "confirm": "yes"}).status_code == 403  # no CSRF
    token = csrf(admin, "/workspace/authority/")
    queue = admin.get("/workspace/authority/dead-letters/queue", params={"service": TEST_SERVICE}).text
    assert 'action="/workspace/authority/dead-letters/purge"' in queue
    asked = admin.post(PURGE, data={"csrf": token, "service": TEST_SERVICE})
    assert asked.status_code == 200 and f"les {waiting} lettre(s) morte(s)" in asked.text
    assert queue_depth(portal_world, dead=True) == waiting  # asking deletes nothing
    with capture_logs() as logs:
        done = admin.post(PURGE, data={"csrf": token, "service": TEST_SERVICE, "confirm": "yes"})
    assert done.status_code == 303 and f"purged={waiting}" in done.headers["location"]
    assert queue_depth(portal_world, dead=True) == 0
    assert any(
        e.get("action") == "dead-letter.purge" and e.get("agent", "").startswith("bus.admin") for e in logs
    )


def test_purging_a_queue_that_does_not_exist_is_404(new_client):
    admin = signed_in(new_client, "bus.admin")
    token = csrf(admin, "/workspace/authority/")
    gone = admin.post(PURGE, data={"csrf": token, "service": "MA/GOV/XX/none/nothing/v1", "confirm": "yes"})
    assert gone.status_code == 404
