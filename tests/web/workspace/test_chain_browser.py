"""The whole chain in a real browser (Playwright, Debian's Chromium), each person in their own browser
context: a visitor hands in a paper letter at the MEF's counter and gives their CIN; the clerk registers
it, prints the acknowledgement and assigns it; the head of service validates it; the service agent drafts
a reply that needs both the secretary general's and the director general's signatures (one all-of
step); each signer signs it in their own signature book; the signed reply leaves the office and the
visitor, signing in to the portal with the account of that CIN, finds the letter and its reply. At each
stage the letter's page on the desk says where the reply's circuit stands.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from ..conftest import PASSWORD, PDF, new_cin
from . import test_browser
from .test_browser import sign_in
from .test_signing_browser import open_folder

# The browser, live server, page and screenshot fixtures of the workspace's first browser tests.
browser, server, new_page, shots = (
    test_browser.browser,
    test_browser.server,
    test_browser.new_page,
    test_browser.shots,
)

VISITOR = "Rachid El Fassi"
REPLY = "Votre demande de certificat de résidence fiscale"
SECRETARY = "Signature : Hassan Alami (MA/GOV/MEF/sg)"
DIRECTOR = "Signature : Karim Bennani (MA/GOV/MEF/dg)"


def circuit_on_desk(desk: Page, number: str, state: str) -> Locator:
    """The reply's circuit as the letter's page shows it, once it reads ``state`` (it moves over the bus)."""
    circuit = desk.locator(".signature-circuit")
    for _ in range(80):
        desk.goto(f"/workspace/mail/{number}")
        if desk.locator(f'.signature-circuit[data-state="{state}"]').count():
            break
        desk.wait_for_timeout(250)
    expect(circuit).to_have_attribute("data-state", state)
    return circuit


def test_counter_letter_signed_by_two_reaches_the_visitor(new_page, shots: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    cin = new_cin()
    subject = f"Certificat de résidence fiscale {cin}"
    scan = tmp_path / "demande-manuscrite.pdf"
    scan.write_bytes(PDF)

    # The counter: the clerk registers the paper letter and prints the acknowledgement for the visitor.
    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.get_by_role("link", name="Guichet", exact=True).click()
    clerk.get_by_label("Nom et prénom (ou raison sociale)").fill(VISITOR)
    clerk.get_by_label("Pièce d'identité").select_option("citizen")
    clerk.get_by_label("Numéro de CIN ou d'ICE").fill(cin)
    clerk.get_by_label("Type").select_option("request")
    clerk.get_by_label("Objet").fill(subject)
    clerk.get_by_label("Texte (facultatif)").fill("Demande remise en main propre au guichet.")
    clerk.get_by_label("Pages numérisées").set_input_files(str(scan))
    clerk.get_by_role("button", name="Enregistrer et imprimer l'accusé").click()
    receipt = clerk.locator(".acknowledgement")
    expect(clerk.get_by_role("heading", name="Accusé de réception")).to_be_visible()
    number = clerk.locator("dd.number").inner_text()
    assert re.fullmatch(r"MEF/\d{4}/A/\d+", number), number
    expect(receipt).to_contain_text(cin)
    expect(receipt).to_contain_text(VISITOR)
    expect(receipt).to_contain_text("demande-manuscrite.pdf")
    clerk.emulate_media(media="print")  # what the printer gets: the acknowledgement alone
    expect(clerk.locator("header.top")).to_be_hidden()
    expect(clerk.get_by_role("button", name="Imprimer")).to_be_hidden()
    expect(clerk.locator("dd.number")).to_have_text(number)
    clerk.emulate_media(media="screen")

    clerk.get_by_role("link", name="Ouvrir le courrier").click()
    expect(clerk.locator(".signature-circuit")).to_have_count(0)  # no reply, no circuit yet
    clerk.get_by_label("Affecter au service").select_option("rh")
    clerk.get_by_role("button", name="Affecter").click()
    expect(clerk.locator("#status")).to_have_attribute("data-status", "assigned")
    expect(clerk.locator(".history")).to_contain_text("mef.clerc (Nadia Berrada)")

    head = new_page()
    sign_in(head, "mef.chef")
    head.goto(f"/workspace/mail/{number}")
    head.get_by_role("button", name="Valider").click()
    expect(head.locator("#status")).to_have_attribute("data-status", "validated")

    # The service agent drafts the reply, to be signed by both the SG and the DG.
    agent = new_page()
    sign_in(agent, "mef.agent")
    agent.goto(f"/workspace/mail/{number}")
    agent.get_by_label("Objet de la réponse").fill(REPLY)
    agent.get_by_label("Texte de la réponse").fill("Monsieur, votre certificat est joint à la présente.")
    agent.get_by_label(SECRETARY).check()
    agent.get_by_label(DIRECTOR).check()
    agent.get_by_label("Signatures requises").select_option("all")
    agent.get_by_role("button", name="Répondre").click()
    expect(agent.locator("#status")).to_have_attribute("data-status", "replied")
    expect(agent.locator(".history")).to_contain_text("mef.agent (Omar Tazi)")
    circuit = agent.locator(".signature-circuit")
    expect(circuit).to_have_count(1)
    expect(circuit).to_contain_text("Signature (tous) : MA/GOV/MEF/sg, MA/GOV/MEF/dg")
    reply_number = circuit.get_attribute("data-reply")
    assert reply_number and re.fullmatch(r"MEF/\d{4}/D/\d+", reply_number), reply_number

    # Held in the office: in the circuit, nobody has signed, the reply has not left.
    circuit = circuit_on_desk(agent, number, "in-circuit")
    expect(circuit).to_contain_text("Dans le circuit de signature")
    expect(circuit).to_contain_text("étape 1 / 1")
    expect(circuit).to_contain_text("dernière action par MA/GOV/MEF/bureau-ordre")  # the office submitted it
    agent.goto(f"/workspace/mail/{reply_number}")
    expect(agent.locator("#status")).to_have_attribute("data-status", "registered")

    # The first signer, in their own browser.
    secretary = new_page()
    sign_in(secretary, "mef.signataire")
    open_folder(secretary, f"Réponse {reply_number} : {REPLY}")
    expect(secretary.locator("#folder-status")).to_have_attribute("data-status", "in-progress")
    secretary.get_by_role("button", name="Signer").click()
    expect(secretary.locator(".history")).to_contain_text("Hassan Alami")
    expect(secretary.locator("#folder-status")).to_have_attribute("data-status", "in-progress")

    # One of the two signatures: still in the circuit, the desk names who acted last.
    for _ in range(80):
        agent.goto(f"/workspace/mail/{number}")
        if "dernière action par MA/GOV/MEF/sg" in agent.locator(".signature-circuit").inner_text():
            break
        agent.wait_for_timeout(250)
    circuit = agent.locator(".signature-circuit")
    expect(circuit).to_have_attribute("data-state", "in-circuit")
    expect(circuit).to_contain_text("étape 1 / 1 · dernière action par MA/GOV/MEF/sg")
    agent.screenshot(path=shots / "workspace-chain-in-circuit.png", full_page=True)
    agent.goto(f"/workspace/mail/{reply_number}")
    expect(agent.locator("#status")).to_have_attribute("data-status", "registered")

    # The second signer, in theirs: the folder is complete.
    director = new_page()
    sign_in(director, "mef.dg")
    open_folder(director, f"Réponse {reply_number} : {REPLY}")
    director.get_by_role("button", name="Signer").click()
    expect(director.locator("#folder-status")).to_have_attribute("data-status", "completed")

    circuit = circuit_on_desk(head, number, "signed")
    expect(circuit).to_contain_text("Signée : envoyée · dernière action par MA/GOV/MEF/dg")

    # The visitor signs in to the portal with the account of the CIN they gave at the counter.
    visitor = new_page()
    visitor.goto("/register")
    visitor.get_by_label("Un citoyen (CIN)").check()
    visitor.get_by_label("CIN ou ICE").fill(cin)
    visitor.get_by_label("Nom complet, ou raison sociale").fill(VISITOR)
    visitor.get_by_label("Adresse électronique").fill("rachid@example.ma")
    visitor.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    visitor.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    visitor.get_by_role("button", name="Créer mon compte").click()
    expect(visitor).to_have_url(re.compile(r"/letters$"))
    visitor.get_by_role("button", name="Se déconnecter").click()
    visitor.goto("/login")
    visitor.get_by_label("CIN ou ICE").fill(cin)
    visitor.get_by_label("Mot de passe").fill(PASSWORD)
    visitor.get_by_role("button", name="Se connecter").click()
    expect(visitor.get_by_role("heading", name="Mes courriers")).to_be_visible()
    row = visitor.get_by_role("row").filter(has_text=subject)
    expect(row).to_contain_text(number)
    for _ in range(80):  # the signed reply travels to the portal over the bus
        visitor.goto("/letters")
        if visitor.locator("ul.replies").filter(has_text=REPLY).count():
            break
        visitor.wait_for_timeout(250)
    expect(visitor.locator("ul.replies")).to_contain_text(REPLY)
    expect(visitor.locator("ul.replies")).to_contain_text(number)
    row.get_by_role("link", name=number).click()
    expect(visitor.get_by_role("heading", name=subject)).to_be_visible()
    reply = visitor.locator("article.reply")
    expect(reply.get_by_role("heading", name=REPLY)).to_be_visible()
    expect(reply).to_contain_text("votre certificat est joint")
    expect(reply).to_contain_text(reply_number)

    # The reply has left the office; the desk still shows its circuit as signed and sent.
    for _ in range(80):
        agent.goto(f"/workspace/mail/{reply_number}")
        if agent.locator('#status[data-status="delivered"]').count():
            break
        agent.wait_for_timeout(250)
    expect(agent.locator("#status")).to_have_attribute("data-status", "delivered")
    agent.goto(f"/workspace/mail/{number}")
    expect(agent.locator(".signature-circuit")).to_have_attribute("data-state", "signed")
