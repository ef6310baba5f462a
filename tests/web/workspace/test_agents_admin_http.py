"""Agent administration in the authority console: only the bus administrator, CSRF and a confirmation on
every change, a password shown once, a disabled agent signed out for good."""

from __future__ import annotations

import re
import uuid

from starlette.testclient import TestClient

from .conftest import csrf, sign_in

PAGE = "/workspace/authority/agents"
SHOWN = re.compile(r'<code id="new-password">([^<]+)</code>')
MEF = "MA/GOV/MEF/bureau-ordre"


def signed_in(new_client, login: str) -> TestClient:  # type: ignore[no-untyped-def]
    client: TestClient = new_client()
    sign_in(client, login)
    return client


def create(admin: TestClient, login: str, *roles: str, service: str = "rh") -> str:
    data = {
        "login": login,
        "name": "Salma Ait",
        "administration": MEF,
        "service": service,
        "role": list(roles),
    }
    asked = admin.post(f"{PAGE}/add", data={"csrf": csrf(admin, PAGE), **data})
    assert asked.status_code == 200 and "Confirmer" in asked.text and login in asked.text
    done = admin.post(
        f"{PAGE}/add",
        data={"csrf": csrf(admin, PAGE), "login": login, "name": "Salma Ait", "administration": MEF,
              "service": service, "roles": ",".join(roles), "confirm": "yes"},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    found = SHOWN.search(done.text)
    assert found is not None
    return found.group(1)


def confirmed(admin: TestClient, path: str, **fields: str) -> str:
    asked = admin.post(path, data={"csrf": csrf(admin, PAGE), **fields})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    done = admin.post(path, data={"csrf": csrf(admin, PAGE), **fields, "confirm": "yes"})
    assert done.status_code == 200, done.text
    return done.text


def agent_id(admin: TestClient, login: str) -> str:
    row = re.search(rf'data-agent="{re.escape(login)}".*?/agents/(\d+)/update', admin.get(PAGE).text, re.S)
    assert row is not None
    return row.group(1)


def test_only_the_bus_administrator_sees_or_changes_agents(new_client):
    clerk = signed_in(new_client, "mef.clerc")
    assert clerk.get(PAGE).status_code == 403
    token = csrf(clerk, "/workspace/")
    forged = clerk.post(
        f"{PAGE}/add",
        data={"csrf": token, "login": "intrus", "name": "X", "administration": MEF, "roles": "clerk",
              "confirm": "yes"},
    )  # fmt: skip
    assert forged.status_code == 403
    admin = signed_in(new_client, "bus.admin")
    assert "intrus" not in admin.get(PAGE).text


def test_a_change_without_the_session_csrf_token_is_refused(new_client):
    admin = signed_in(new_client, "bus.admin")
    login = f"x{uuid.uuid4().hex[:8]}"
    data = {"login": login, "name": "X", "administration": MEF, "roles": "clerk", "confirm": "yes"}
    assert admin.post(f"{PAGE}/add", data=data).status_code == 403
    other = signed_in(new_client, "bus.admin")
    assert admin.post(f"{PAGE}/add", data={**data, "csrf": csrf(other, PAGE)}).status_code == 403
    assert login not in admin.get(PAGE).text


def test_create_then_the_shown_password_signs_in_and_is_not_shown_again(new_client):
    admin = signed_in(new_client, "bus.admin")
    login = f"mef.new{uuid.uuid4().hex[:6]}"
    password = create(admin, login, "agent")
    assert password not in admin.get(PAGE).text
    newcomer: TestClient = new_client()
    sign_in(newcomer, login, password)
    assert newcomer.get("/workspace/mail").status_code == 200


def test_roles_reset_password_and_disable(new_client):
    admin = signed_in(new_client, "bus.admin")
    login = f"mef.tmp{uuid.uuid4().hex[:6]}"
    first = create(admin, login, "agent")
    number = agent_id(admin, login)
    page = confirmed(admin, f"{PAGE}/{number}/update", role="head", administration=MEF, service="rh")
    assert re.search(rf'data-agent="{login}".*?value="head" checked', page, re.S)

    worker: TestClient = new_client()
    sign_in(worker, login, first)
    second = SHOWN.search(confirmed(admin, f"{PAGE}/{number}/reset-password"))
    assert second is not None
    assert worker.get("/workspace/mail").headers.get("location") == "/workspace/login"  # signed out
    stale = worker.post("/workspace/login", data={"csrf": csrf(worker), "login": login, "password": first})
    assert stale.status_code != 303
    sign_in(worker, login, second.group(1))

    page = confirmed(admin, f"{PAGE}/{number}/disable")
    assert f'data-agent="{login}" data-disabled="yes"' in page
    assert worker.get("/workspace/mail").headers.get("location") == "/workspace/login"
    again = worker.post(
        "/workspace/login", data={"csrf": csrf(worker), "login": login, "password": second.group(1)}
    )
    assert again.status_code != 303


def test_the_administrator_cannot_disable_themselves_or_place_an_agent_in_an_unknown_office(new_client):
    admin = signed_in(new_client, "bus.admin")
    own = agent_id(admin, "bus.admin")
    refused = admin.post(f"{PAGE}/{own}/disable", data={"csrf": csrf(admin, PAGE), "confirm": "yes"})
    assert refused.status_code == 400 and "propre compte" in refused.text
    unknown = admin.post(
        f"{PAGE}/add",
        data={"csrf": csrf(admin, PAGE), "login": "ailleurs", "name": "X", "administration": "MA/GOV/XX/bo",
              "roles": "clerk", "confirm": "yes"},
    )  # fmt: skip
    assert unknown.status_code == 400 and "n&#39;est pas une administration" in unknown.text
