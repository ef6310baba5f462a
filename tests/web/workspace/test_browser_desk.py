"""The mail desk in a real browser (Playwright, Debian's Chromium): a clerk registers a paper letter at
the counter and prints its acknowledgement, assigns it, the head validates and the agent drafts the reply,
which the visitor (who gave their CIN) finds in the portal; a MEF agent asks the CNSS for an opinion,
a CNSS agent answers it in the CNSS's workspace, and the answer shows on the MEF letter.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots (docs/screenshots is made this way).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from starlette.testclient import TestClient

from ..conftest import PDF, deposit, new_cin, register, wait_until
from . import test_browser
from .test_browser import sign_in

# The browser, live server, page and screenshot fixtures of the workspace's first browser tests.
browser, server, new_page, shots = (
    test_browser.browser,
    test_browser.server,
    test_browser.new_page,
    test_browser.shots,
)

CNSS = "MA/GOV/CNSS/bureau-ordre"


def test_counter_letter_printed_assigned_answered_and_seen_in_the_portal(
    app, new_page, shots: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    cin = new_cin()
    subject = f"Demande de duplicata de quittance {cin}"
    scan = tmp_path / "lettre-scannee.pdf"
    scan.write_bytes(PDF)

    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.get_by_role("link", name="Guichet", exact=True).click()
    clerk.get_by_label("Nom et prénom (ou raison sociale)").fill("Fatima Zahra Ouali")
    clerk.get_by_label("Pièce d'identité").select_option("citizen")
    clerk.get_by_label("Numéro de CIN ou d'ICE").fill(cin)
    clerk.get_by_label("Type").select_option("request")
    clerk.get_by_label("Objet").fill(subject)
    clerk.get_by_label("Texte (facultatif)").fill("Lettre manuscrite d'une page, remise au guichet.")
    clerk.get_by_label("Pages numérisées").set_input_files(str(scan))
    clerk.screenshot(path=shots / "workspace-counter.png", full_page=True)
    clerk.get_by_role("button", name="Enregistrer et imprimer l'accusé").click()

    expect(clerk.get_by_role("heading", name="Accusé de réception")).to_be_visible()
    number = clerk.locator("dd.number").inner_text()
    assert number.startswith("MEF/")
    expect(clerk.locator(".acknowledgement")).to_contain_text(cin)
    expect(clerk.locator(".acknowledgement")).to_contain_text("lettre-scannee.pdf")
    expect(clerk.get_by_role("link", name="/verify")).to_be_visible()
    expect(clerk.get_by_role("button", name="Imprimer")).to_be_visible()
    clerk.screenshot(path=shots / "workspace-counter-acknowledgement.png", full_page=True)
    clerk.emulate_media(media="print")  # what the printer gets: the acknowledgement without the menus
    expect(clerk.locator("header.top")).to_be_hidden()
    expect(clerk.get_by_role("button", name="Imprimer")).to_be_hidden()
    expect(clerk.get_by_role("heading", name="Accusé de réception")).to_be_visible()
    clerk.emulate_media(media="screen")
    with clerk.expect_download() as download:
        clerk.get_by_role("link", name="Télécharger l'accusé signé (XML)").click()
    signed = Path(download.value.path()).read_bytes()
    assert b"mail.register-counter" in signed

    clerk.get_by_role("link", name="Ouvrir le courrier").click()
    expect(clerk.locator(".history")).to_contain_text("mef.clerc (Nadia Berrada)")
    clerk.get_by_label("Affecter au service").select_option("rh")
    clerk.get_by_role("button", name="Affecter").click()
    expect(clerk.locator("#status")).to_have_attribute("data-status", "assigned")

    head = new_page()
    sign_in(head, "mef.chef")
    head.goto(f"/workspace/mail/{number}")
    head.get_by_role("button", name="Valider").click()
    expect(head.locator("#status")).to_have_attribute("data-status", "validated")

    agent = new_page()
    sign_in(agent, "mef.agent")
    agent.goto(f"/workspace/mail/{number}")
    agent.get_by_label("Objet de la réponse").fill("Votre duplicata de quittance")
    agent.get_by_label("Texte de la réponse").fill("Madame, votre duplicata est joint.")
    agent.get_by_role("button", name="Répondre").click()
    expect(agent.locator("#status")).to_have_attribute("data-status", "replied")
    expect(agent.locator(".history")).to_contain_text("mef.agent (Omar Tazi)")

    with TestClient(app, follow_redirects=False) as visitor:
        register(visitor, cin, name="Fatima Zahra Ouali")
        assert subject in visitor.get("/letters").text  # the letter handed in on paper
        wait_until(
            lambda: "Votre duplicata de quittance" in visitor.get("/letters").text,
            what="the reply in the portal",
        )
        verify_page = visitor.get("/verify").text
        token = re.search(r'name="csrf" value="([^"]+)"', verify_page)
        assert token
        verified = visitor.post(
            "/verify",
            data={"csrf": token.group(1)},
            files={"acknowledgement": ("accuse.xml", signed, "application/xml")},
        )
        assert verified.status_code == 200 and number in verified.text


def test_opinion_asked_of_the_cnss_is_answered_there_and_shows_on_the_mef_letter(app, new_page, shots: Path):  # type: ignore[no-untyped-def]
    cin = new_cin()
    subject = f"Demande de mutation {cin}"
    with TestClient(app, follow_redirects=False) as citizen:
        register(citizen, cin)
        assert deposit(citizen, subject=subject).status_code == 303

    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.get_by_role("link", name="Courrier", exact=True).click()
    clerk.get_by_role("row").filter(has_text=subject).get_by_role("link").click()
    number = clerk.url.rsplit("/workspace/mail/", 1)[1]
    clerk.get_by_label("Affecter au service").select_option("rh")
    clerk.get_by_role("button", name="Affecter").click()
    expect(clerk.locator("#status")).to_have_attribute("data-status", "assigned")

    agent = new_page()
    sign_in(agent, "mef.agent")
    agent.goto(f"/workspace/mail/{number}")
    agent.get_by_label("Demander l'avis de").select_option(CNSS)
    agent.get_by_label("Question").fill("Le demandeur est-il à jour de ses cotisations ?")
    agent.get_by_role("button", name="Demander un avis").click()
    expect(agent.locator("#status")).to_have_attribute("data-status", "awaiting-opinion")

    cnss_clerk = new_page()
    sign_in(cnss_clerk, "cnss.clerc")
    row = cnss_clerk.get_by_role("row").filter(has_text=subject)
    for _ in range(60):  # the consultation travels through the MEF's outbox
        cnss_clerk.goto("/workspace/mail")
        if row.count():
            break
        cnss_clerk.wait_for_timeout(500)
    row.get_by_role("link").click()
    expect(cnss_clerk.locator(".facts")).to_contain_text("Consultation d'une autre administration")
    cnss_clerk.get_by_label("Affecter au service").select_option("prestations")
    cnss_clerk.get_by_role("button", name="Affecter").click()
    consultation = cnss_clerk.url.rsplit("/workspace/mail/", 1)[1]

    cnss_agent = new_page()
    sign_in(cnss_agent, "cnss.agent")
    cnss_agent.goto(f"/workspace/mail/{consultation}")
    cnss_agent.get_by_label(re.compile("Avis de l'administration")).fill(
        "À jour de ses cotisations au 30/11."
    )
    cnss_agent.screenshot(path=shots / "workspace-consultation.png", full_page=True)
    cnss_agent.get_by_role("button", name="Répondre à la consultation").click()
    expect(cnss_agent.locator("#status")).to_have_attribute("data-status", "replied")

    for _ in range(60):  # the opinion travels back through the CNSS's outbox
        agent.goto(f"/workspace/mail/{number}")
        if agent.locator(".opinions").filter(has_text="À jour de ses cotisations").count():
            break
        agent.wait_for_timeout(500)
    expect(agent.locator(".opinions")).to_contain_text("cnss.agent (Meryem Idrissi)")
    expect(agent.locator("#status")).to_have_attribute("data-status", "assigned")
    agent.screenshot(path=shots / "workspace-opinion.png", full_page=True)
