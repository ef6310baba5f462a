"""Optional two-step sign-in: TOTP (RFC 6238) codes from an authenticator application."""

from __future__ import annotations

import re
import time

import pyotp

from .conftest import PASSWORD, csrf_of, register

SECRET = re.compile(r'name="secret" value="([A-Z2-7]+)"')


def enable_totp(client) -> pyotp.TOTP:
    page = client.get("/account")
    secret = SECRET.search(page.text).group(1)
    assert f"secret={secret}" in page.text  # the otpauth:// address
    wrong = client.post(
        "/account/totp/enable", data={"csrf": csrf_of(client, "/account"), "secret": secret, "code": "000000"}
    )
    assert wrong.status_code == 400 and "Code erroné" in wrong.text
    totp = pyotp.TOTP(secret)
    done = client.post(
        "/account/totp/enable",
        data={"csrf": csrf_of(client, "/account"), "secret": secret, "code": totp.now()},
    )
    assert done.status_code == 200 and "Activée" in done.text
    return totp


def test_sign_in_asks_for_the_code_once_totp_is_on(client, portal_world):
    identifier = register(client)
    totp = enable_totp(client)
    client.post("/logout", data={"csrf": csrf_of(client, "/letters")})
    step_one = client.post(
        "/login", data={"csrf": csrf_of(client, "/login"), "identifier": identifier, "password": PASSWORD}
    )
    assert step_one.headers["location"] == "/login/totp"
    assert client.get("/letters").headers["location"] == "/login"  # not signed in by the password alone
    wrong = client.post("/login/totp", data={"csrf": csrf_of(client, "/login/totp"), "code": "123456"})
    assert wrong.status_code == 400 and "Code erroné ou déjà utilisé" in wrong.text
    # The code used to turn TOTP on is used up; the next step's code signs in, once.
    next_code = totp.at(time.time() + 30)
    signed_in = client.post("/login/totp", data={"csrf": csrf_of(client, "/login/totp"), "code": next_code})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/letters"
    assert client.get("/letters").status_code == 200
    user = portal_world.portal.accounts.by_identifier(identifier)
    assert not portal_world.portal.second_factor.check(user.id, next_code), "a code is accepted once"


def test_totp_step_needs_a_right_password_first(client):
    assert client.get("/login/totp").headers["location"] == "/login"


def test_turning_totp_off_needs_a_code(client, portal_world):
    identifier = register(client)
    totp = enable_totp(client)
    refused = client.post(
        "/account/totp/disable", data={"csrf": csrf_of(client, "/account"), "code": "000000"}
    )
    assert refused.status_code == 400
    user = portal_world.portal.accounts.by_identifier(identifier)
    assert user.totp
    later = totp.at(time.time() + 30)
    done = client.post("/account/totp/disable", data={"csrf": csrf_of(client, "/account"), "code": later})
    assert done.status_code == 200 and "Désactivée" in done.text
    assert not portal_world.portal.accounts.by_identifier(identifier).totp
