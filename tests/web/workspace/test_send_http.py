"""Sending a letter to another administration from the workspace: registered in the MEF's outgoing
register under the clerk, delivered over the bus to the CNSS's office, whose status comes back; and the
checks of the route (role, CSRF, a tampered recipient)."""

from __future__ import annotations

import re

from ..conftest import PDF, new_cin, wait_until
from .conftest import csrf, sign_in

CNSS = "MA/GOV/CNSS/bureau-ordre"
LINKED = re.compile(r'<dd id="linked"><bdi>([^<]+)</bdi>')


def send(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf": csrf(client, "/workspace/send"),
        "recipient": CNSS,
        "mail_type": "letter",
        "subject": "Transmission de dossier",
        "body": "Veuillez trouver ci-joint le dossier.",
        **fields,
    }
    return client.post(
        "/workspace/send", data=data, files=[("attachments", ("dossier.pdf", PDF, "application/pdf"))]
    )


def test_a_letter_sent_to_the_cnss_is_registered_there_and_its_status_comes_back(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    subject = "Transmission de dossier " + new_cin()
    response = send(clerk, subject=subject)
    assert response.status_code == 303, response.text
    page_path = response.headers["location"]
    assert page_path.startswith("/workspace/mail/MEF/") and "/D/" in page_path
    page = wait_until(
        lambda: (p := clerk.get(page_path)).status_code == 200 and LINKED.search(p.text) and p,
        what="the CNSS's acknowledgement",
    )
    assert "mef.clerc (Nadia Berrada)" in page.text
    cnss_number = LINKED.search(page.text).group(1)  # type: ignore[union-attr]
    assert cnss_number.startswith("CNSS-A-")
    cnss = new_client()
    sign_in(cnss, "cnss.clerc")
    assert subject in cnss.get("/workspace/mail").text
    token = csrf(cnss, "/workspace/")
    assigned = cnss.post(
        f"/workspace/mail/{cnss_number}/do/assign", data={"csrf": token, "service": "bureau-ordre"}
    )
    assert assigned.status_code == 303
    wait_until(lambda: 'id="linked-status">Affecté' in clerk.get(page_path).text, what="the CNSS's status")
    register = clerk.get("/workspace/registers?direction=outgoing")  # delivered: in the outgoing register
    row = next(line for line in register.text.split("<tr") if subject in line)
    assert "Remis" in row


def test_only_clerks_send_with_the_csrf_token_to_a_listed_office(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    for recipient in ("MA/GOV/PORTAIL/guichet", "MA/GOV/MEF/bureau-ordre", "MA/GOV/XX/evil", ""):
        refused = send(clerk, recipient=recipient)
        assert refused.status_code == 400 and "destinataire" in refused.text, recipient
    for login in ("mef.agent", "mef.chef", "mef.auditeur", "bus.admin"):
        other = new_client()
        sign_in(other, login)
        assert other.get("/workspace/send").status_code == 403, login
    no_token = clerk.post("/workspace/send", data={"recipient": CNSS, "subject": "x", "mail_type": "letter"})
    assert no_token.status_code == 403
    anonymous = new_client()
    assert anonymous.get("/workspace/send").headers["location"] == "/workspace/login"
