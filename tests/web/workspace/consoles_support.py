"""What the console tests share: the workspace connected to the demo bus (home, broker, two workers:
one serving its health endpoint, one down), a test service with a dead letter, log copies to tamper with."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.audit import MessageLog
from bus.ids import ServiceId
from bus.metrics import serve_metrics
from bus.pki import SigningIdentity
from bus.registry.catalogue import ServiceEntry, ServiceStyle
from bus.registry.store import load_draft, publish, save_draft
from bus.transport import OutgoingMessage, connect
from web.workspace.app import Workspace
from web.workspace.authority.settings import BusAccess
from web.workspace.demo import demo_workspace

from ..conftest import PortalWorld, wait_until

OFFICE = "MA/GOV/MEF/bureau-ordre"
TEST_PROVIDER = "MA/GOV/TEST/console"
TEST_SERVICE = f"{TEST_PROVIDER}/test.echo/v1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def workspace(portal_world: PortalWorld) -> Iterator[Workspace]:
    """The demo workspace with its consoles connected: the demo bus's home and broker, two workers."""
    world = portal_world.world
    space = demo_workspace(world, portal_world.portal.db)
    server = serve_metrics(0, health=lambda: (True, {"consumers": 2}))
    up = f"http://127.0.0.1:{server.server_address[1]}"
    space.bus = BusAccess(
        world.bus.home,
        broker=world.bus.broker,
        prefix=world.bus.prefix,
        workers={"bureau-ordre-mef": up, "attestations-cnss": f"http://127.0.0.1:{free_port()}"},
    )
    yield space
    server.shutdown()


def office_log(portal_world: PortalWorld, participant: str = OFFICE) -> Path:
    home = portal_world.world.bus.home
    return home.participant_dir(portal_world.world.bus.participant(participant)) / "messages.sqlite"


def sign_checkpoint(portal_world: PortalWorld, participant: str = OFFICE) -> None:
    """Sign a checkpoint of the office's log now (as ``govbus audit checkpoint`` does)."""
    home = portal_world.world.bus.home
    identity = SigningIdentity.from_home(home, participant)
    with MessageLog.open(
        office_log(portal_world, participant), identity=identity, checkpoint_every=None
    ) as log:
        log.checkpoint()


def tampered_copy(portal_world: PortalWorld, directory: Path, seq: int) -> Path:
    """A consistent copy of the office's log with record ``seq``'s client changed (hash left as it was)."""
    copy = directory / f"copie-{uuid.uuid4().hex[:6]}.sqlite"
    source = sqlite3.connect(office_log(portal_world))
    target = sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    with target:
        changed = target.execute("UPDATE records SET client = 'MA/GOV/MEF/faussaire' WHERE seq = ?", (seq,))
        assert changed.rowcount == 1
    target.execute("PRAGMA journal_mode=DELETE")
    target.close()
    return copy


def dead_letter(portal_world: PortalWorld) -> str:
    """A test service (published, no consumer) with one message in its dead-letter queue; its id."""
    world = portal_world.world
    home = world.bus.home
    draft = load_draft(home)
    service = ServiceId.parse(TEST_SERVICE)
    if service not in draft.services:
        provider = world.bus.participant(TEST_PROVIDER)
        save_draft(
            home,
            draft.with_participant(provider, "Service de test de la console").with_service(
                ServiceEntry(service, ServiceStyle.REQUEST_REPLY, "envelope.xsd", "test")
            ),
        )
        publish(home)
    message_id = str(uuid.uuid4())
    with connect(world.bus.broker, prefix=world.bus.prefix) as transport:
        transport.declare_service(TEST_SERVICE)
        queue = transport.topology.service_queue(TEST_SERVICE)
        transport.purge_queue(queue)  # what earlier tests replayed there: the next message is this one
        transport.publish("", queue, OutgoingMessage(b"<not-an-envelope/>", message_id))
        delivery = wait_until(lambda: transport.get(queue), what="the test message")
        delivery.reject()  # the broker dead-letters it, as it does a message its consumer refuses
        dead = transport.topology.dead_letter_queue(queue)
        wait_until(lambda: transport.queue_depth(dead) > 0, what="the dead letter")
    return message_id


def queue_depth(portal_world: PortalWorld, dead: bool) -> int:
    world = portal_world.world
    with connect(world.bus.broker, prefix=world.bus.prefix) as transport:
        queue = transport.topology.service_queue(TEST_SERVICE)
        return transport.queue_depth(transport.topology.dead_letter_queue(queue) if dead else queue)
