"""The signature book in a real browser (Playwright, Debian's Chromium): a citizen's letter is answered
with a reply that passes an all-of circuit of two signers before it leaves the office and reaches the
citizen's portal; a signer delegates and the substitute signs "on behalf of"; a signer of another
administration cannot open the folder.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots (docs/screenshots is made this way).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from ..test_browser import deposit, register
from .signing_helpers import one_page_pdf
from .test_browser import browser, new_page, server, shots, sign_in  # noqa: F401 (fixtures)

SUBJECT = "Demande de bourse d'excellence (navigateur)"
REPLY = "Votre bourse d'excellence est accordée"


def open_folder(signer: Page, title: str) -> None:
    """Open the folder ``title`` from the signer's pending list (it arrives over the bus)."""
    for _ in range(60):
        signer.goto("/workspace/sign")
        link = signer.get_by_role("link", name=title)
        if link.count():
            link.first.click()
            return
        signer.wait_for_timeout(250)
    raise AssertionError(f"{title} never reached the signer")


def test_a_reply_passes_a_two_signer_circuit_then_reaches_the_citizen(new_page, shots: Path, tmp_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811 (fixtures)
    citizen = new_page()
    register(citizen)
    deposit(citizen, tmp_path, subject=SUBJECT)

    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.get_by_role("link", name="Courrier", exact=True).click()
    clerk.get_by_role("row").filter(has_text=SUBJECT).get_by_role("link").click()
    number = clerk.url.rsplit("/workspace/mail/", 1)[1]
    clerk.get_by_label("Affecter au service").select_option("rh")
    clerk.get_by_role("button", name="Affecter").click()

    head = new_page()
    sign_in(head, "mef.chef")
    head.goto(f"/workspace/mail/{number}")
    head.get_by_role("button", name="Valider").click()
    expect(head.locator("#status")).to_have_attribute("data-status", "validated")

    agent = new_page()
    sign_in(agent, "mef.agent")
    agent.goto(f"/workspace/mail/{number}")
    agent.get_by_label("Objet de la réponse").fill(REPLY)
    agent.get_by_label("Texte de la réponse").fill("Madame, nous avons le plaisir de vous informer...")
    agent.get_by_label("Signature : Hassan Alami (MA/GOV/MEF/sg)").check()
    agent.get_by_label("Signature : Karim Bennani (MA/GOV/MEF/dg)").check()
    agent.get_by_label("Signatures requises").select_option("all")
    agent.get_by_role("button", name="Répondre").click()
    expect(agent.locator("#status")).to_have_attribute("data-status", "replied")
    expect(agent.locator(".signature-circuit")).to_be_visible()

    first = new_page()
    sign_in(first, "mef.signataire")
    open_folder(first, REPLY)
    first.goto("/workspace/sign")
    first.screenshot(path=shots / "workspace-sign-pending.png", full_page=True)
    first.get_by_role("link", name=re.compile(re.escape(REPLY))).first.click()
    expect(first.locator("#folder-status")).to_have_attribute("data-status", "in-progress")
    first.get_by_role("link", name=re.compile(r"^reponse-.*\.xml$")).click()
    expect(first.locator("pre.document-text")).to_contain_text(REPLY)  # the reply itself, escaped XML
    first.go_back()
    first.get_by_role("button", name="Signer").click()
    expect(first.locator(".history")).to_contain_text("Hassan Alami")
    agent.reload()
    expect(agent.locator(".signature-circuit")).to_have_attribute("data-state", "in-circuit")

    second = new_page()
    sign_in(second, "mef.dg")
    open_folder(second, f"Réponse {_reply_number(agent)} : {REPLY}")
    second.get_by_role("button", name="Signer").click()
    expect(second.locator("#folder-status")).to_have_attribute("data-status", "completed")
    with second.expect_download() as download:
        second.get_by_role("link", name="Télécharger le dossier de preuve").click()
    assert download.value.suggested_filename.endswith(".zip")

    for _ in range(80):
        agent.reload()
        if agent.locator('.signature-circuit[data-state="signed"]').count():
            break
        agent.wait_for_timeout(250)
    expect(agent.locator(".signature-circuit")).to_have_attribute("data-state", "signed")

    for _ in range(80):  # the reply reaches the citizen's portal over the bus
        citizen.goto("/letters")
        if citizen.get_by_text(REPLY).count():
            break
        citizen.wait_for_timeout(250)
    expect(citizen.get_by_text(REPLY).first).to_be_visible()


def _reply_number(page: Page) -> str:
    reply = page.locator(".signature-circuit").get_attribute("data-reply")
    assert reply
    return reply


def test_a_delegate_signs_on_behalf_of_and_another_administration_gets_404(new_page, shots: Path):  # type: ignore[no-untyped-def]  # noqa: F811 (fixtures)
    principal = new_page()
    sign_in(principal, "mef.signataire")
    principal.get_by_role("link", name="Parapheur", exact=True).click()
    principal.get_by_role("link", name="Mes délégations").click()
    principal.get_by_label("Suppléant").select_option("MA/GOV/MEF/sg-adjoint")
    principal.get_by_label("Premier jour").fill(date.today().isoformat())
    principal.get_by_label("Dernier jour").fill((date.today() + timedelta(days=5)).isoformat())
    principal.get_by_label("Motif").fill("Mission à l'étranger")
    principal.get_by_role("button", name="Déléguer").click()
    expect(principal.locator("table.delegations")).to_contain_text("Fatima Zahra Idrissi")

    head = new_page()
    sign_in(head, "mef.chef")
    head.goto("/workspace/sign/new")
    head.get_by_label("Titre").fill("Arrêté de nomination d'un chef de division")
    head.get_by_label("Action de l'étape 1").select_option("signature")
    head.get_by_role("button", name="Soumettre au parapheur").click()  # no signatory, no document
    expect(head.locator("#step1_signatories-error")).to_contain_text("au moins un signataire")
    expect(head.locator("#documents-error")).to_be_visible()
    head.locator("#step1").get_by_label("Hassan Alami (MA/GOV/MEF/sg)").check()
    head.locator("#documents").set_input_files(
        files=[{"name": "arrete.pdf", "mimeType": "application/pdf", "buffer": one_page_pdf()}]
    )
    head.get_by_role("button", name="Soumettre au parapheur").click()
    expect(head.locator("#folder-status")).to_have_attribute("data-status", "in-progress")
    folder_url = head.url

    delegate = new_page()
    sign_in(delegate, "mef.sga")
    open_folder(delegate, "Arrêté de nomination d'un chef de division")
    delegate.get_by_role("link", name="arrete.pdf").click()
    expect(delegate.locator(".pdf-pages img")).to_have_count(1)
    delegate.wait_for_function(  # the page image is a PNG the server rendered, and it loaded
        "() => { const i = document.querySelector('.pdf-pages img'); return i.complete && i.naturalWidth === 1000; }"
    )
    delegate.screenshot(path=shots / "workspace-sign-document.png", full_page=True)
    delegate.go_back()
    expect(delegate.locator("#sign-for")).to_have_value("MA/GOV/MEF/sg")
    delegate.get_by_role("button", name="Signer").click()
    expect(delegate.locator("#folder-status")).to_have_attribute("data-status", "completed")
    expect(delegate.locator(".history .on-behalf")).to_contain_text("pour le compte de Hassan Alami")
    delegate.screenshot(path=shots / "workspace-sign-folder.png", full_page=True)

    principal.reload()
    principal.get_by_role("button", name="Y mettre fin maintenant").first.click()
    expect(principal.locator("table.delegations")).to_contain_text("Terminée")

    other = new_page()
    sign_in(other, "cnss.signataire")
    response = other.goto(folder_url)
    assert response is not None and response.status == 404
    other.goto("/workspace/sign")
    expect(other.get_by_text("Arrêté de nomination d'un chef de division")).to_have_count(0)
