"""The portal over HTTP against the real app, the demo bus and the real mail offices (no browser)."""

from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from teleservices.mail_office import ASSIGN, REPLY, VALIDATE, Assign, Reply, Validate

from .conftest import PDF, csrf_of, demo_portal, deposit, register, wait_until


def test_home_page_in_french_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="fr" dir="ltr">' in page.text
    assert "Créer un compte citoyen" in page.text


def test_register_sign_out_and_sign_in_again(client):
    identifier = register(client)
    letters = client.get("/letters")
    assert letters.status_code == 200 and identifier in letters.text
    client.post("/logout", data={"csrf": csrf_of(client, "/letters")})
    assert client.get("/letters").headers["location"] == "/login"
    response = client.post(
        "/login",
        data={
            "csrf": csrf_of(client, "/login"),
            "identifier": identifier.lower(),
            "password": "correct horse battery",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/letters"


def test_company_account_is_its_representatives(client, portal_world):
    ice = register(client, kind="company", name="Atlas Travaux SARL")
    user = portal_world.portal.accounts.by_identifier(ice)
    assert user is not None and user.kind == "company" and user.representative == "Karim Alaoui"


def test_registration_errors_are_readable_and_keep_the_input(client):
    response = client.post(
        "/register",
        data={
            "csrf": csrf_of(client, "/register"),
            "kind": "citizen",
            "identifier": "123",
            "name": "Nadia <b>",
            "email": "nadia@example.ma",
            "password": "x" * 12,
            "confirm": "x" * 12,
        },
    )
    assert response.status_code == 400
    assert "Une CIN est composée" in response.text
    assert 'value="Nadia &lt;b&gt;"' in response.text  # kept, and escaped


def test_deposit_gives_the_signed_acknowledgement_at_once(client, portal_world):
    register(client)
    response = deposit(client, files=[("piece.pdf", PDF, "application/pdf")])
    assert response.status_code == 303, response.text
    ack_page = client.get(response.headers["location"])
    assert ack_page.status_code == 200
    text = ack_page.text
    for legal in (
        "Numéro d&#39;enregistrement",
        "Date et heure de réception",
        "Service chargé du dossier",
        "Délai de traitement",
        "Coordonnées du bureau d&#39;ordre",
        "Pièces reçues",
        "Voies de recours",
    ):
        assert legal in text, legal
    assert "MEF/2026/A/" in text or "MEF/" in text
    assert hashlib.sha256(PDF).hexdigest() in text
    assert "Boulevard Mohammed V" in text
    xml = client.get(response.headers["location"] + ".xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert b"<ds:Signature" in xml.content or b"Signature" in xml.content
    assert "attachment" in xml.headers["content-disposition"]


def test_verify_page_accepts_the_acknowledgement_and_refuses_a_tampered_one(client):
    register(client)
    location = deposit(client).headers["location"]
    signed = client.get(location + ".xml").content
    valid = client.post(
        "/verify", data={"csrf": csrf_of(client, "/verify")}, files={"acknowledgement": ("a.xml", signed)}
    )
    assert valid.status_code == 200 and "Accusé de réception valide" in valid.text
    number = signed.split(b"registrationNumber>")[1].split(b"<")[0]
    tampered = signed.replace(number, number[:-1] + b"9" if not number.endswith(b"9") else number[:-1] + b"8")
    refused = client.post(
        "/verify", data={"csrf": csrf_of(client, "/verify")}, files={"acknowledgement": ("a.xml", tampered)}
    )
    assert refused.status_code == 422 and "non valide" in refused.text
    assert "Client.InvalidSignature" in refused.text
    garbage = client.post(
        "/verify", data={"csrf": csrf_of(client, "/verify")}, files={"acknowledgement": ("a.xml", b"<x/>")}
    )
    assert garbage.status_code == 422 and "non valide" in garbage.text


def test_status_step_from_the_office_reaches_the_letter_page(client, portal_world):
    identifier = register(client)
    location = deposit(client).headers["location"]
    letter_path = location.removesuffix("/acknowledgement")
    letter = portal_world.portal.letters.of_owner(portal_world.portal.accounts.by_identifier(identifier).id)[
        0
    ]
    office = "MA/GOV/MEF/bureau-ordre"
    portal_world.world.desk(office).call(
        office, ASSIGN, Assign(registration_number=letter.registration_number, service="rh")
    )
    wait_until(
        lambda: portal_world.portal.participant.steps(office, letter.registration_number), what="status step"
    )
    page = client.get(letter_path)
    assert "Affecté à un service" in page.text and "Affectation" in page.text


def test_an_office_that_does_not_answer_loses_nothing(tmp_path):
    """The office is down: the form comes back with the text; once it is back, depositing again gives
    the acknowledgement of the one registration (the office deduplicates by the deposit's digest)."""
    office = "MA/GOV/CNSS/bureau-ordre"
    with demo_portal(tmp_path) as world, TestClient(world.app(), follow_redirects=False) as client:
        world.portal.participant.timeout = 1.0
        identifier = register(client)
        world.world.stop_office(office)
        down = deposit(client, office=office, subject="Attestation d'affiliation", body="Texte conservé")
        assert down.status_code == 502
        assert "pas répondu à temps" in down.text and "Server.Timeout" in down.text
        assert 'value="Attestation d&#39;affiliation"' in down.text and "Texte conservé" in down.text
        world.world.restart_office(office)
        world.portal.participant.timeout = 10.0
        again = deposit(client, office=office, subject="Attestation d'affiliation", body="Texte conservé")
        assert again.status_code == 303
        user = world.portal.accounts.by_identifier(identifier)
        letters = world.portal.letters.of_owner(user.id)
        assert len(letters) == 1 and letters[0].registration_number.endswith("-00001")
        record = (
            world.world.offices[office].office(world.world.nodes[office]).show(letters[0].registration_number)
        )
        assert record.subject == "Attestation d'affiliation"


def test_the_offices_reply_appears_with_the_letter(client, portal_world):
    identifier = register(client)
    letter_path = (
        deposit(client, subject="Demande de duplicata").headers["location"].removesuffix("/acknowledgement")
    )
    portal = portal_world.portal
    letter = portal.letters.of_owner(portal.accounts.by_identifier(identifier).id)[0]
    office = "MA/GOV/MEF/bureau-ordre"
    desk = portal_world.world.desk(office)
    number = letter.registration_number
    desk.call(office, ASSIGN, Assign(registration_number=number, service="rh"))
    desk.call(office, VALIDATE, Validate(registration_number=number))
    desk.call(
        office, REPLY, Reply(registration_number=number, subject="Votre duplicata", body="Il est prêt.")
    )
    wait_until(lambda: portal.participant.replies(identifier), what="the reply")
    wait_until(lambda: len(portal.participant.steps(office, number)) >= 3, what="the replied step")
    page = client.get(letter_path)
    assert "Votre duplicata" in page.text and "Il est prêt." in page.text and "Répondu" in page.text
    assert "Votre duplicata" in client.get("/letters").text
