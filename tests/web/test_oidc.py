"""Sign-in through an OpenID Connect provider (the national identity service), against a real HTTP provider."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from web.app import Portal, create_app
from web.db import Database
from web.directory import OfficeDirectory
from web.oidc import OidcSettings

from .conftest import LiveServer, csrf_of
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    identity = Provider()
    with LiveServer(identity.app) as server:
        identity.issuer = server.url
        yield identity


@pytest.fixture
def oidc_client(portal_world, provider: Provider, tmp_path) -> Iterator[TestClient]:
    portal = Portal(
        Database(tmp_path / "portal.sqlite3"),
        OfficeDirectory(),
        portal_world.portal.participant,
        oidc_settings=OidcSettings(provider.issuer, CLIENT_ID, CLIENT_SECRET),
    )
    with TestClient(create_app(portal), follow_redirects=False) as client:
        yield client
    portal.db.close()


def through_provider(client: TestClient) -> httpx.Response:
    """Start the sign-in, let the provider approve, come back: the portal's answer to the callback."""
    start = client.get("/login/oidc")
    assert start.status_code == 303
    approved = httpx.get(start.headers["location"], follow_redirects=False)
    assert approved.status_code == 303
    back = urlsplit(approved.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def test_first_sign_in_creates_the_citizen_account(oidc_client, provider):
    assert "service national d&#39;identité" in oidc_client.get("/login").text
    answer = through_provider(oidc_client)
    assert answer.status_code == 303 and answer.headers["location"] == "/letters"
    letters = oidc_client.get("/letters")
    assert letters.status_code == 200 and "Hind Amrani" in letters.text and provider.cin in letters.text


def test_a_callback_is_used_once_and_only_by_its_session(oidc_client, portal_world):
    start = oidc_client.get("/login/oidc")
    approved = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(approved.headers["location"])
    callback = f"{back.path}?{back.query}"
    with TestClient(oidc_client.app, follow_redirects=False) as stranger:
        stranger.get("/login")  # a session of its own
        stolen = stranger.get(callback)
        assert stolen.status_code == 400 and "n&#39;a pas pu vous connecter" in stolen.text
        assert stranger.get("/letters").headers["location"] == "/login"
    assert oidc_client.get(callback).headers["location"] == "/letters"
    oidc_client.post("/logout", data={"csrf": csrf_of(oidc_client, "/letters")})
    assert oidc_client.get(callback).status_code == 400, "a state is used once"


def test_an_id_token_for_another_client_is_refused(oidc_client, provider):
    provider.audience = "another-client"
    try:
        answer = through_provider(oidc_client)
    finally:
        provider.audience = None
    assert answer.status_code == 400 and "n&#39;a pas pu vous connecter" in answer.text
    assert oidc_client.get("/letters").headers["location"] == "/login"


def test_without_a_provider_the_route_does_not_exist(client):
    assert client.get("/login/oidc").status_code == 404
    assert "service national" not in client.get("/login").text
