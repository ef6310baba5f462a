"""The workspace mounted on the portal of the shared demo world, with the demo agents."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from web.app import create_app
from web.workspace.app import Workspace, mount
from web.workspace.demo import DEMO_PASSWORD, demo_workspace

from ..conftest import PortalWorld

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="session")
def workspace(portal_world: PortalWorld) -> Workspace:
    return demo_workspace(portal_world.world, portal_world.portal.db)


@pytest.fixture
def app(portal_world: PortalWorld, workspace: Workspace):  # type: ignore[no-untyped-def]
    return mount(create_app(portal_world.portal), workspace)


@pytest.fixture
def new_client(app):  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def csrf(client: TestClient, path: str = "/workspace/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, path
    return match.group(1)


def sign_in(client: TestClient, login: str, password: str = DEMO_PASSWORD) -> None:
    response = client.post(
        "/workspace/login", data={"csrf": csrf(client), "login": login, "password": password}
    )
    assert response.status_code == 303 and response.headers["location"] == "/workspace/", response.text
