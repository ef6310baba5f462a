"""A reply that needs a signature: held by the mail office until the signature book completes its circuit,
then sent to the depositor; a rejected one never leaves the office. Over HTTP, on the demo world's real
mail office, signature book and portal (all over the bus)."""

from __future__ import annotations

import html
import re
import uuid

from ..conftest import deposit, register, wait_until
from .conftest import sign_in
from .signing_helpers import FOLDER, do
from .test_roles_http import act

SG, DG = "MA/GOV/MEF/sg", "MA/GOV/MEF/dg"


def citizen_letter_of(new_client, subject: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A citizen's request deposited through the portal: (the citizen's CIN, its registration number)."""
    subject = f"{subject} ({uuid.uuid4().hex[:8]})"  # unique among the session's letters
    citizen = new_client()
    identifier = register(citizen)
    assert deposit(citizen, subject=subject).status_code == 303
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    row = next(line for line in clerk.get("/workspace/mail").text.split("<tr") if subject in line)
    return identifier, re.search(r'href="/workspace/mail/([^"]+)"', row).group(1)  # type: ignore[union-attr]


def replied_through_circuit(new_client, subject: str, reply: str) -> tuple[str, str, object]:  # type: ignore[no-untyped-def]
    identifier, number = citizen_letter_of(new_client, subject)
    clerk, head = new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(head, "mef.chef")
    assert act(clerk, number, "assign", service="rh").status_code == 303
    assert act(head, number, "validate").status_code == 303
    response = head.post(
        f"/workspace/mail/{number}/do/reply",
        data={
            "csrf": re.search(r'name="csrf" value="([^"]+)"', head.get("/workspace/").text).group(1),  # type: ignore[union-attr]
            "subject": reply,
            "body": "Madame, Monsieur, votre demande est accordée.",
            "signature_signatories": [SG, DG],
            "signature_quorum": "all",
        },
    )
    assert response.status_code == 303, response.text
    return identifier, number, head


def assert_held(portal_world, head, number: str) -> None:  # type: ignore[no-untyped-def]
    """The letter's reply is registered but was never queued for delivery (nor delivered)."""
    reply = re.search(r'data-reply="([^"]+)"', head.get(f"/workspace/mail/{number}").text)
    assert reply
    world = portal_world.world
    office = world.offices["MA/GOV/MEF/bureau-ordre"].office(world.nodes["MA/GOV/MEF/bureau-ordre"])
    assert office.show(reply.group(1)).status == "registered"
    assert all(m.registration_number != reply.group(1) for m in office.pending(1000, ()))


def folder_of(signer, reply_subject: str) -> str:  # type: ignore[no-untyped-def]
    """The folder the office submitted for the reply, once it is in the signer's pending list."""

    def found() -> str | None:
        page = signer.get("/workspace/sign").text
        row = next(
            (r for r in page.split("<tr") if html.escape(reply_subject) in r or reply_subject in r), None
        )
        match = FOLDER.search(row) if row else None
        return match.group(1) if match else None

    return wait_until(found, what="the reply's folder in the signer's list")  # type: ignore[no-any-return]


def test_a_reply_leaves_the_office_only_once_signed_by_both(new_client, portal_world):
    identifier, number, head = replied_through_circuit(
        new_client, "Demande de bourse", "Votre bourse est accordée"
    )
    letter = head.get(f"/workspace/mail/{number}").text
    assert "Circuit de signature" in letter
    sg, dg = new_client(), new_client()
    sign_in(sg, "mef.signataire")
    sign_in(dg, "mef.dg")
    folder = folder_of(sg, "Votre bourse est accordée")
    assert 'data-state="in-circuit"' in head.get(f"/workspace/mail/{number}").text
    document = sg.get(f"/workspace/sign/folders/{folder}").text
    assert "reponse-" in document and ".xml" in document  # the reply itself, as it will be delivered
    assert do(sg, folder, "sign").status_code == 303
    assert_held(portal_world, head, number)  # one of two signatures: still held
    portal = portal_world.portal.participant
    assert portal.replies(identifier) == []
    assert do(dg, folder, "sign").status_code == 303
    wait_until(
        lambda: 'data-state="signed"' in head.get(f"/workspace/mail/{number}").text, what="signed on the desk"
    )
    wait_until(
        lambda: [r.subject for r in portal.replies(identifier)] == ["Votre bourse est accordée"],
        what="the reply delivered",
    )


def test_a_rejected_reply_never_leaves_the_office(new_client, portal_world):
    identifier, number, head = replied_through_circuit(
        new_client, "Demande de dérogation", "Dérogation refusée (brouillon)"
    )
    sg = new_client()
    sign_in(sg, "mef.signataire")
    folder = folder_of(sg, "Dérogation refusée (brouillon)")
    assert do(sg, folder, "reject", reason="Le ton ne convient pas").status_code == 303
    wait_until(
        lambda: 'data-state="rejected"' in head.get(f"/workspace/mail/{number}").text,
        what="rejected on the desk",
    )
    assert "Le ton ne convient pas" in head.get(f"/workspace/mail/{number}").text
    assert_held(portal_world, head, number)
    assert portal_world.portal.participant.replies(identifier) == []


def test_a_reply_circuit_names_only_signers_of_the_administration(new_client):
    _, number = citizen_letter_of(new_client, "Demande de certificat")
    clerk, head = new_client(), new_client()
    sign_in(clerk, "mef.clerc")
    sign_in(head, "mef.chef")
    act(clerk, number, "assign", service="rh")
    act(head, number, "validate")
    refused = act(head, number, "reply", subject="Certificat", signature_signatories="MA/GOV/CNSS/dg")
    assert refused.status_code == 400
    assert 'data-status="validated"' in head.get(f"/workspace/mail/{number}").text  # nothing was sent
