"""The counter over HTTP: a clerk registers a paper letter (recorded under the clerk, acknowledged and
signed by the office), the printable receipt, the visitor's portal account, and the checks of every new
route (role, CSRF, another administration's receipt, tampered addresses)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from ..conftest import PDF, new_cin, register
from .conftest import csrf, sign_in

RECEIPT = re.compile(r"^/workspace/counter/([A-Za-z0-9_-]+)$")
NUMBER = re.compile(r'class="number"><bdi>([^<]+)</bdi>')
DEADLINE = re.compile(r"<dt>Délai de traitement</dt><dd>([0-9/]+)</dd>")
ALERT_DAYS = 3  # the demo offices' alertDays


def hand_in(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf": csrf(client, "/workspace/counter"),
        "visitor_name": "Fatima Zahra Ouali",
        "visitor_kind": "citizen",
        "visitor_id": "",
        "mail_type": "request",
        "subject": "Demande de copie de dossier",
        "body": "Lettre manuscrite de deux pages.",
        **fields,
    }
    return client.post(
        "/workspace/counter", data=data, files=[("scans", ("scan.pdf", PDF, "application/pdf"))]
    )


def test_a_clerk_registers_a_counter_letter_and_the_visitor_follows_it_in_the_portal(new_client):
    cin = new_cin()
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    response = hand_in(clerk, visitor_id=cin, subject="Demande de copie de dossier " + cin)
    assert response.status_code == 303, response.text
    receipt_path = response.headers["location"]
    assert RECEIPT.match(receipt_path)
    receipt = clerk.get(receipt_path)
    assert receipt.status_code == 200
    number = NUMBER.search(receipt.text)
    assert number and number.group(1).startswith("MEF/")
    assert cin in receipt.text and 'href="/verify"' in receipt.text and "scan.pdf" in receipt.text
    signed = clerk.get(receipt_path + "/acknowledgement.xml")
    assert signed.status_code == 200 and b"mail.register-counter" in signed.content

    letter = clerk.get(f"/workspace/mail/{number.group(1)}")
    assert letter.status_code == 200
    assert "mef.clerc (Nadia Berrada)" in letter.text  # the registering actor is the signed-in clerk

    visitor = new_client()
    verified = visitor.post(
        "/verify",
        data={"csrf": re.search(r'name="csrf" value="([^"]+)"', visitor.get("/verify").text).group(1)},  # type: ignore[union-attr]
        files={"acknowledgement": ("accuse.xml", signed.content, "application/xml")},
    )
    assert verified.status_code == 200, verified.text

    register(visitor, cin)
    mine = visitor.get("/letters")
    assert "Demande de copie de dossier " + cin in mine.text
    public_id = re.search(r'href="/letters/([A-Za-z0-9_-]{16})"', mine.text)
    assert public_id
    page = visitor.get(f"/letters/{public_id.group(1)}")
    assert page.status_code == 200 and number.group(1) in page.text
    ack = visitor.get(f"/letters/{public_id.group(1)}/acknowledgement.xml")
    assert ack.status_code == 200 and ack.content == signed.content
    other = new_client()
    register(other)
    assert ("Demande de copie de dossier " + cin) not in other.get("/letters").text
    assert other.get(f"/letters/{public_id.group(1)}").status_code == 404  # another account's letter


def test_a_visitor_without_cin_gets_a_receipt_and_no_portal_account_sees_it(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    response = hand_in(clerk, visitor_kind="", visitor_id="", subject="Courrier anonyme au guichet")
    assert response.status_code == 303, response.text
    receipt = clerk.get(response.headers["location"])
    assert "voie postale" in receipt.text


def test_bad_counter_input_is_refused_on_the_form(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    half = hand_in(clerk, visitor_kind="citizen", visitor_id="")
    assert half.status_code == 400 and "CIN" in half.text
    wrong_cin = hand_in(clerk, visitor_id="12345")
    assert wrong_cin.status_code == 502 and "InvalidSender" in wrong_cin.text
    token = csrf(clerk, "/workspace/counter")
    executable = clerk.post(
        "/workspace/counter",
        data={
            "csrf": token,
            "visitor_name": "X",
            "visitor_kind": "",
            "visitor_id": "",
            "mail_type": "letter",
            "subject": "Pièce refusée",
            "body": "",
        },
        files=[("scans", ("virus.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf"))],
    )
    assert executable.status_code == 400 and "PDF, PNG, JPEG" in executable.text
    assert "Traceback" not in executable.text


def test_only_clerks_use_the_counter_with_the_csrf_token_and_only_their_offices_receipts(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    receipt_path = hand_in(clerk, visitor_id=new_cin()).headers["location"]
    for login in ("mef.agent", "mef.chef", "mef.auditeur", "mef.signataire", "bus.admin"):
        other = new_client()
        sign_in(other, login)
        assert other.get("/workspace/counter").status_code == 403, login
        assert other.get(receipt_path).status_code == 403, login
        assert other.get(receipt_path + "/acknowledgement.xml").status_code == 403, login
    cnss = new_client()
    sign_in(cnss, "cnss.clerc")
    assert cnss.get(receipt_path).status_code == 404  # another administration's receipt does not exist
    assert cnss.get(receipt_path + "/acknowledgement.xml").status_code == 404
    assert clerk.get("/workspace/counter/not-a-receipt").status_code == 404
    assert clerk.get(receipt_path + "x").status_code == 404
    anonymous = new_client()
    assert anonymous.get(receipt_path).headers["location"] == "/workspace/login"
    no_token = clerk.post(
        "/workspace/counter", data={"visitor_name": "X", "subject": "Y", "mail_type": "letter"}
    )
    assert no_token.status_code == 403
    citizen = new_client()
    register(citizen)
    assert citizen.get(receipt_path).headers["location"] == "/workspace/login"


def test_soon_due_letters_are_highlighted_and_listed_in_the_alerts(new_client):
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    subject = "Courrier urgent " + new_cin()
    handed = hand_in(clerk, mail_type="urgent", subject=subject, visitor_id=new_cin())
    assert handed.status_code == 303, handed.text[-3000:]
    receipt = clerk.get(handed.headers["location"])
    number = NUMBER.search(receipt.text).group(1)  # type: ignore[union-attr]
    deadline = datetime.strptime(DEADLINE.search(receipt.text).group(1), "%d/%m/%Y").date()  # type: ignore[union-attr]
    if (deadline - datetime.now(ZoneInfo("Africa/Casablanca")).date()).days > ALERT_DAYS:
        # the next working day is further than the alert window (a long weekend): no alert yet
        assert subject not in clerk.get("/workspace/alerts").text
        return
    alerts = clerk.get("/workspace/alerts")
    assert alerts.status_code == 200
    row = next(line for line in alerts.text.split("<tr") if subject in line)
    assert number in row and ("Échéance proche" in row or "Échéance aujourd&#39;hui" in row)
    assert 'class="badge"' in alerts.text
    queue = clerk.get("/workspace/mail")
    row = next(line for line in queue.text.split("<tr") if subject in line)
    assert 'class="soon"' in row
    for login in ("mef.agent", "mef.chef"):  # the rh service's people see it; fiscalite's agent does not
        other = new_client()
        sign_in(other, login)
        assert subject in other.get("/workspace/alerts").text, login
    other = new_client()
    sign_in(other, "mef.fiscalite")
    assert subject not in other.get("/workspace/alerts").text
    for login in ("mef.auditeur", "mef.signataire", "bus.admin"):
        other = new_client()
        sign_in(other, login)
        assert other.get("/workspace/alerts").status_code == 403, login
