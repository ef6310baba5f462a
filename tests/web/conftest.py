"""The portal on the demo world (embedded broker), shared by the web tests of one session.

``portal_world`` builds the whole bus once (pilots, two mail offices, the portal participant); each test
registers its own accounts, so tests do not see each other's letters.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from web.app import Portal, create_app
from web.demo import DemoWorld
from web.directory import DIRECTORY_FILE

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery"


@dataclass
class PortalWorld:
    world: DemoWorld
    portal: Portal

    def app(self):  # type: ignore[no-untyped-def]
        return create_app(self.portal)


@pytest.fixture(scope="session")
def portal_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalWorld]:
    with demo_portal(tmp_path_factory.mktemp("portal-bus")) as world:
        yield world


@contextmanager
def demo_portal(root: Path, broker: str | None = None) -> Iterator[PortalWorld]:
    """The demo world in ``root`` and the portal started on it, as ``govbus web`` starts them."""
    world = DemoWorld.build(root, broker=broker, drain_interval=0.1, max_backoff=1.0)
    try:
        node = world.portal_node()
        data = node.data_dir / "portal"
        data.mkdir(parents=True, exist_ok=True)
        world.directory().save(data / DIRECTORY_FILE)
        portal = Portal.open(data)
        portal.participant.start(node)
        try:
            yield PortalWorld(world, portal)
        finally:
            portal.close()
    finally:
        world.close()


@pytest.fixture
def client(portal_world: PortalWorld) -> Iterator[TestClient]:
    with TestClient(portal_world.app(), raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def new_cin() -> str:
    return "ZT" + str(uuid.uuid4().int % 10**6).zfill(6)


def new_ice() -> str:
    return str(uuid.uuid4().int % 10**15).zfill(15)


def register(
    client: TestClient, identifier: str | None = None, *, kind: str = "citizen", name: str = "Salma Bennani"
) -> str:
    identifier = identifier or (new_cin() if kind == "citizen" else new_ice())
    response = client.post(
        "/register",
        data={
            "csrf": csrf_of(client, "/register"),
            "kind": kind,
            "identifier": identifier,
            "name": name,
            "representative": "Karim Alaoui" if kind == "company" else "",
            "email": "salma@example.ma",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/letters", response.text
    return identifier


def deposit(
    client: TestClient,
    *,
    office: str = "MA/GOV/MEF/bureau-ordre",
    subject: str = "Demande d'attestation de salaire",
    body: str = "Bonjour,\nje demande une attestation.",
    files: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
):  # type: ignore[no-untyped-def]
    return client.post(
        "/letters/new",
        data={
            "csrf": csrf_of(client, "/letters/new"),
            "office": office,
            "mail_type": "request",
            "subject": subject,
            "body": body,
        },
        files=[("attachments", f) for f in files] or None,
    )


def wait_until(condition, *, deadline: float = 20.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while not (result := condition()):
        if time.monotonic() > end:
            raise AssertionError(f"{what} not reached within {deadline:g} s")
        time.sleep(0.05)
    return result


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 32


class LiveServer:
    """The app served by uvicorn on a free local port, in a thread (for the browser tests)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        import socket

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started, what="uvicorn start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def live_server(portal_world: PortalWorld) -> Iterator[LiveServer]:
    with LiveServer(portal_world.app()) as server:
        yield server


def sample_path(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path
