"""Agents over HTTP: sign-in, the role and administration checks on every route, desk actions recorded
under the signed-in agent (against the demo world's real mail offices over the bus)."""

from __future__ import annotations

import csv
import io
import re

from ..conftest import deposit, register
from .conftest import csrf, sign_in

NUMBER = re.compile(r'href="/workspace/mail/([^"]+)"')


def citizen_letter(new_client, subject: str) -> str:  # type: ignore[no-untyped-def]
    """A citizen deposits a request with the MEF through the portal; its registration number."""
    citizen = new_client()
    register(citizen)
    response = deposit(citizen, subject=subject)
    assert response.status_code == 303, response.text
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    page = clerk.get("/workspace/mail")
    assert page.status_code == 200
    row = next(line for line in page.text.split("<tr") if subject in line)
    match = NUMBER.search(row)
    assert match
    return match.group(1)


def act(client, number: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf(client, "/workspace/")
    return client.post(f"/workspace/mail/{number}/do/{action}", data={"csrf": token, **fields})


def test_sign_in_is_required_and_wrong_passwords_refused(new_client):
    client = new_client()
    assert client.get("/workspace/mail").headers["location"] == "/workspace/login"
    response = client.post(
        "/workspace/login", data={"csrf": csrf(client), "login": "mef.clerc", "password": "wrong password"}
    )
    assert response.status_code == 400 and "incorrect" in response.text
    assert client.post("/workspace/login", data={"login": "mef.clerc", "password": "x"}).status_code == 403


def test_portal_session_opens_no_workspace_page(new_client):
    client = new_client()
    register(client)
    assert client.get("/workspace/").headers["location"] == "/workspace/login"


def test_desk_actions_are_recorded_under_the_signed_in_agents(new_client):
    number = citizen_letter(new_client, "Attestation de travail 2025")
    clerk, agent, head = new_client(), new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(agent, "mef.agent")
    sign_in(head, "mef.chef")
    assert act(clerk, number, "assign", service="rh", comment="pour traitement").status_code == 303
    assert act(agent, number, "assign", service="marches").status_code == 403  # an agent does not assign
    assert act(agent, number, "validate").status_code == 403
    assert act(head, number, "validate", comment="vu").status_code == 303
    response = act(agent, number, "reply", subject="Votre attestation", body="Ci-joint votre attestation.")
    assert response.status_code == 303, response.text
    page = head.get(f"/workspace/mail/{number}").text
    assert "mef.clerc (Nadia Berrada)" in page
    assert "mef.chef (Leila Chraibi)" in page
    assert "mef.agent (Omar Tazi)" in page
    assert 'data-status="replied"' in page
    # an actor typed in the form is ignored: the record names the session's agent
    close = act(head, number, "close", comment="fin", actor="someone else")
    assert close.status_code == 303
    assert "someone else" not in head.get(f"/workspace/mail/{number}").text


def test_agents_see_only_their_administration_and_service(new_client):
    number = citizen_letter(new_client, "Réclamation sur un prélèvement")
    cnss = new_client()
    sign_in(cnss, "cnss.clerc")
    assert cnss.get(f"/workspace/mail/{number}").status_code == 404  # another administration's letter
    assert number not in cnss.get("/workspace/mail").text
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    assert act(clerk, number, "assign", service="marches").status_code == 303
    agent = new_client()
    sign_in(agent, "mef.agent")  # service rh
    assert agent.get(f"/workspace/mail/{number}").status_code == 404
    assert number not in agent.get("/workspace/mail").text
    assert act(agent, number, "reply", subject="x", body="y").status_code == 404


def test_role_checks_by_url_tampering(new_client):
    agent, signer, admin, auditor = new_client(), new_client(), new_client(), new_client()
    sign_in(agent, "mef.agent")
    sign_in(signer, "mef.signataire")
    sign_in(admin, "bus.admin")
    sign_in(auditor, "mef.auditeur")
    assert agent.get("/workspace/authority").status_code == 403
    assert auditor.get("/workspace/authority").status_code == 403
    assert agent.get("/workspace/registers").status_code == 403
    assert signer.get("/workspace/mail").status_code == 403
    assert admin.get("/workspace/mail").status_code == 403
    assert admin.get("/workspace/registers").status_code == 403
    page = admin.get("/workspace/authority")
    assert page.status_code == 200 and "MA/GOV/MEF/bureau-ordre" in page.text
    assert auditor.get("/workspace/registers").status_code == 200
    assert act(auditor, "MEF-2026-A-1", "close").status_code == 403


def test_register_search_and_csv_export(new_client):
    number = citizen_letter(new_client, "Demande de mutation Agadir")
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    page = clerk.get("/workspace/registers", params={"text": "mutation agadir"})
    assert page.status_code == 200 and number in page.text
    exported = clerk.get("/workspace/registers.csv", params={"text": "mutation"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["registration_number"] for r in rows if "Agadir" in r["subject"]] == [number]


def test_sign_out_ends_the_session(new_client):
    client = new_client()
    sign_in(client, "mef.clerc")
    client.post("/workspace/logout", data={"csrf": csrf(client, "/workspace/")})
    assert client.get("/workspace/mail").headers["location"] == "/workspace/login"


def test_agent_with_totp_needs_a_fresh_code(new_client, workspace):  # type: ignore[no-untyped-def]
    import pyotp

    from web.workspace.agents import Role

    login = "mef.totp"
    if workspace.agents.by_login(login) is None:
        agent = workspace.agents.create(
            login=login,
            name="Agent TOTP",
            password="demo-agent-2026",
            roles={Role.CLERK},
            administration="MA/GOV/MEF/bureau-ordre",
        )
        workspace.agents.set_totp(agent.id, pyotp.random_base32())
    agent = workspace.agents.by_login(login)
    with workspace.db.read() as conn:
        secret = conn.execute("SELECT totp_secret FROM agents WHERE id = ?", (agent.id,)).fetchone()[0]
    client = new_client()
    response = client.post(
        "/workspace/login", data={"csrf": csrf(client), "login": login, "password": "demo-agent-2026"}
    )
    assert response.headers["location"] == "/workspace/login/totp"
    assert (
        client.get("/workspace/mail").headers["location"] == "/workspace/login"
    )  # half session opens nothing
    token = csrf(client, "/workspace/login/totp")
    wrong = client.post("/workspace/login/totp", data={"csrf": token, "code": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).now()
    done = client.post("/workspace/login/totp", data={"csrf": token, "code": code})
    assert done.headers["location"] == "/workspace/"
    assert client.get("/workspace/mail").status_code == 200
    again = new_client()
    again.post("/workspace/login", data={"csrf": csrf(again), "login": login, "password": "demo-agent-2026"})
    reused = again.post(
        "/workspace/login/totp", data={"csrf": csrf(again, "/workspace/login/totp"), "code": code}
    )
    assert reused.status_code == 400  # each code is accepted once


def test_opinion_asked_of_another_service_and_given_there(new_client):
    number = citizen_letter(new_client, "Demande exonération fiscale")
    clerk, agent, consulted = new_client(), new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(agent, "mef.agent")  # rh
    sign_in(consulted, "mef.fiscalite")  # fiscalite
    assert act(clerk, number, "assign", service="rh").status_code == 303
    assert consulted.get(f"/workspace/mail/{number}").status_code == 404  # not consulted yet
    asked = act(agent, number, "request-opinion", service="fiscalite", question="Exonération possible ?")
    assert asked.status_code == 303, asked.text
    page = consulted.get(f"/workspace/mail/{number}")
    assert page.status_code == 200 and "Donner l'avis" in page.text and "Répondre" not in page.text
    assert (
        act(agent, number, "give-opinion", opinion="moi-même").status_code == 403
    )  # not the consulted service
    assert act(consulted, number, "reply", subject="x", body="y").status_code == 403
    assert act(consulted, number, "give-opinion", opinion="Oui, article 92").status_code == 303
    record = agent.get(f"/workspace/mail/{number}").text
    assert "mef.fiscalite (Youssef Amrani)" in record and "Oui, article 92" in record
    assert 'data-status="assigned"' in record
    assert consulted.get(f"/workspace/mail/{number}").status_code == 404  # the opinion is given


def test_bad_register_queries_and_actions_get_readable_refusals(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    assert clerk.get("/workspace/registers", params={"year": "abc"}).status_code == 400
    assert clerk.get("/workspace/registers.csv", params={"year": "99999"}).status_code == 400
    assert clerk.get("/workspace/mail/no-such-letter").status_code == 404
    number = citizen_letter(new_client, "Lettre pour une action refusée")
    refused = act(clerk, number, "assign", service="no-such-service")
    assert refused.status_code == 400 and "Traceback" not in refused.text
    assert 'role="alert"' in refused.text
    assert act(clerk, number, "unknown-action").status_code == 404
