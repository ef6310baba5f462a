"""The portal's security rules over plain HTTP, against the real app on the demo bus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from web.pages import SESSION_COOKIE
from web.security import CSP

from .conftest import PASSWORD, PDF, PNG, csrf_of, deposit, register

TEMPLATES = Path(__file__).parents[2] / "web" / "templates"


def post_routes(app) -> list[str]:
    return [
        route.path for route in app.routes if isinstance(route, Route) and "POST" in (route.methods or ())
    ]


def test_every_post_without_a_csrf_token_is_refused(client, portal_world):
    register(client)
    paths = post_routes(client.app)
    assert set(paths) == {
        "/register", "/login", "/login/totp", "/logout", "/letters/new", "/verify",
        "/account/totp/enable", "/account/totp/disable", "/procurement",
    }  # fmt: skip
    for path in paths:
        response = client.post(path, data={"subject": "x", "identifier": "AB1", "password": "p"})
        assert response.status_code == 403, path
        assert "expiré" in response.text
        wrong = client.post(path, data={"csrf": "forged"})
        assert wrong.status_code == 403, path
    assert client.get("/letters").status_code == 200  # still signed in: the refused logout did nothing


def test_another_account_cannot_open_a_letter_by_its_url(portal_world):
    app = portal_world.app()
    with TestClient(app, follow_redirects=False) as owner, TestClient(app, follow_redirects=False) as other:
        register(owner)
        location = deposit(owner).headers["location"]
        letter = location.removesuffix("/acknowledgement")
        register(other)
        for path in (letter, location, location + ".xml"):
            assert owner.get(path).status_code == 200
            refused = other.get(path)
            assert refused.status_code == 404, path
            assert "Registration" not in refused.text and "MEF/" not in refused.text
        anonymous = TestClient(app, follow_redirects=False)
        assert anonymous.get(letter).headers["location"] == "/login"


def test_session_cookie_flags_and_renewal_at_sign_in(portal_world):
    with TestClient(portal_world.app(), base_url="https://testserver", follow_redirects=False) as client:
        first = client.get("/login")
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
        assert "strict-transport-security" in first.headers
        anonymous_token = client.cookies[SESSION_COOKIE]
        identifier = register(client)
        signed_in_token = client.cookies[SESSION_COOKIE]
        assert signed_in_token != anonymous_token
        csrf = csrf_of(client, "/letters")
        client.post("/logout", data={"csrf": csrf})
        # The old cookie no longer opens anything once signed out.
        replay = TestClient(portal_world.app(), base_url="https://testserver", follow_redirects=False)
        replay.cookies.set(SESSION_COOKIE, signed_in_token)
        assert replay.get("/letters").headers["location"] == "/login"
        assert identifier


def test_plain_http_cookie_is_not_secure_but_httponly(client):
    cookie = client.get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie


def test_sign_in_is_rate_limited(client):
    identifier = register(client)
    client.post("/logout", data={"csrf": csrf_of(client, "/letters")})
    for _ in range(5):
        bad = client.post(
            "/login",
            data={"csrf": csrf_of(client, "/login"), "identifier": identifier, "password": "wrong password"},
        )
        assert bad.status_code == 400 and "incorrect" in bad.text
    blocked = client.post(
        "/login", data={"csrf": csrf_of(client, "/login"), "identifier": identifier, "password": PASSWORD}
    )
    assert blocked.status_code == 429 and "15 minutes" in blocked.text


def test_security_headers_and_csp_without_inline_code(client):
    response = client.get("/")
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "script-src 'self'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "style=" not in text and "<style" not in text, template.name
        assert "|safe" not in text and "autoescape false" not in text, template.name


def test_letter_text_is_escaped(client):
    register(client)
    location = deposit(
        client, subject="<script>alert(1)</script>", body="<img src=x onerror=alert(1)>"
    ).headers["location"]
    page = client.get(location.removesuffix("/acknowledgement"))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text


def test_attachment_type_is_sniffed_and_refusal_keeps_the_text(client):
    register(client)
    refused = deposit(
        client,
        subject="Avec un exécutable",
        files=[("facture.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64, "application/pdf")],
    )
    assert refused.status_code == 400
    assert "seuls les fichiers PDF, PNG, JPEG et texte brut" in refused.text
    assert 'value="Avec un exécutable"' in refused.text
    accepted = deposit(
        client, files=[("scan.png", PNG, "application/octet-stream"), ("note.txt", b"Bonjour", "text/plain")]
    )
    assert accepted.status_code == 303
    ack = client.get(accepted.headers["location"]).text
    assert "image/png" in ack and "text/plain" in ack


def test_upload_limits(client, portal_world):
    register(client)
    limits = portal_world.portal.limits
    too_many = deposit(
        client,
        subject="Trop de pièces",
        files=[(f"p{i}.pdf", PDF, "application/pdf") for i in range(limits.max_files + 1)],
    )
    assert (
        too_many.status_code == 400
        and "Trop de fichiers" in too_many.text
        and "Trop de pièces" in too_many.text
    )
    big = PDF + b"0" * limits.max_file_bytes
    too_big = deposit(client, subject="Pièce lourde", files=[("gros.pdf", big, "application/pdf")])
    assert too_big.status_code == 400 and "dépasse" in too_big.text and "Pièce lourde" in too_big.text
    huge = b"0" * (limits.max_request_bytes + 1)
    response = client.post(
        "/letters/new", content=huge, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code == 413 and "dépasse la taille" in response.text


def test_no_stack_trace_reaches_the_browser(client, portal_world, monkeypatch: pytest.MonkeyPatch):
    register(client)

    def broken() -> list[object]:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(portal_world.portal.participant, "offices", broken)
    response = client.get("/letters/new")
    assert response.status_code == 500
    assert "Traceback" not in response.text and "secret internal detail" not in response.text
    assert "Rien de ce que vous avez déposé n&#39;est perdu" in response.text
    assert response.headers["content-security-policy"] == CSP


def test_unknown_page_and_wrong_method_are_readable(client):
    assert "n&#39;existe pas" in client.get("/nowhere").text
    assert client.get("/logout").status_code == 405


def test_language_switch_is_not_an_open_redirect(client):
    response = client.get("/lang/ar", params={"next": "//evil.example/"})
    assert response.headers["location"] == "/"
    assert client.get("/").text.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    assert client.get("/lang/fr", params={"next": "/verify"}).headers["location"] == "/verify"
