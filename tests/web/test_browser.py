"""The portal in a real browser: Playwright driving Debian's Chromium against uvicorn and the demo bus.

Set ``GOVBUS_SCREENSHOTS=DIR`` to keep the screenshots (docs/screenshots is made this way); otherwise
they go to a temporary directory, still taken so that rendering is exercised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from teleservices.mail_office import ASSIGN, Assign

from .conftest import PASSWORD, PDF, new_cin, wait_until

CHROMIUM = "/usr/bin/chromium"
OFFICE = "MA/GOV/MEF/bureau-ordre"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = os.environ.get("GOVBUS_SCREENSHOTS")
    path = Path(directory) if directory else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def register(page: Page, *, name: str = "Salma Bennani") -> str:
    cin = new_cin()
    page.goto("/register")
    page.get_by_label("Un citoyen (CIN)").check()
    page.get_by_label("CIN ou ICE").fill(cin)
    page.get_by_label("Nom complet, ou raison sociale").fill(name)
    page.get_by_label("Adresse électronique").fill("salma@example.ma")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page).to_have_url(re.compile(r"/letters$"))
    return cin


def deposit(page: Page, tmp_path: Path, *, subject: str = "Demande d'attestation de salaire") -> str:
    attachment = tmp_path / "bulletin.pdf"
    attachment.write_bytes(PDF)
    page.goto("/letters/new")
    page.get_by_label("Administration").select_option(OFFICE)
    page.get_by_label("Objet").fill(subject)
    page.get_by_label("Votre courrier").fill("Madame, Monsieur,\nje vous prie de m'adresser une attestation.")
    page.get_by_label("Pièces jointes").set_input_files(attachment)
    page.get_by_role("button", name="Déposer le courrier").click()
    expect(page).to_have_url(re.compile(r"/letters/[^/]+/acknowledgement$"))
    return page.url.removesuffix("/acknowledgement")


def test_register_sign_in_deposit_print_and_verify(page: Page, tmp_path: Path, shots: Path, portal_world):
    page.goto("/")
    page.screenshot(path=shots / "home.png", full_page=True)
    cin = register(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto("/login")
    page.get_by_label("CIN ou ICE").fill(cin)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.screenshot(path=shots / "login.png", full_page=True)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes courriers")).to_be_visible()

    page.goto("/letters/new")
    page.screenshot(path=shots / "deposit.png", full_page=True)
    deposit(page, tmp_path)
    ack = page.locator("article.acknowledgement")
    expect(ack.get_by_role("heading", name="Accusé de réception")).to_be_visible()
    expect(ack).to_contain_text("Numéro d'enregistrement")
    expect(ack).to_contain_text("bulletin.pdf")
    expect(ack).to_contain_text("Boulevard Mohammed V")
    expect(ack).to_contain_text("tribunal administratif")
    number = ack.locator(".number").inner_text()
    assert re.fullmatch(r"MEF/\d{4}/A/\d+", number)
    page.screenshot(path=shots / "acknowledgement.png", full_page=True)
    acknowledgement_url = page.url

    # Printable: the print button (JavaScript) shows; the print rendering keeps only the acknowledgement.
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("link", name="Télécharger l'accusé de réception signé (XML)")).to_be_hidden()
    expect(ack.locator(".number")).to_be_visible()
    page.screenshot(path=shots / "acknowledgement-print.png", full_page=True)
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'accusé de réception signé (XML)").click()
    signed = tmp_path / "accuse.xml"
    download.value.save_as(signed)
    assert download.value.suggested_filename.startswith("accuse-MEF-")

    page.goto("/verify")
    page.get_by_label("Fichier de l'accusé de réception (XML)").set_input_files(signed)
    page.get_by_role("button", name="Vérifier").click()
    verdict = page.locator("section.verdict")
    expect(verdict).to_have_class(re.compile("valid"))
    expect(verdict).to_contain_text("Accusé de réception valide")
    expect(verdict).to_contain_text(number)
    page.screenshot(path=shots / "verify-valid.png", full_page=True)

    tampered = tmp_path / "falsifie.xml"
    tampered.write_bytes(
        signed.read_bytes().replace(b"<m:serviceInCharge>rh<", b"<m:serviceInCharge>fiscalite<")
    )
    assert tampered.read_bytes() != signed.read_bytes()
    page.get_by_label("Fichier de l'accusé de réception (XML)").set_input_files(tampered)
    page.get_by_role("button", name="Vérifier").click()
    expect(page.locator("section.verdict.invalid")).to_contain_text("Client.InvalidSignature")
    page.screenshot(path=shots / "verify-tampered.png", full_page=True)

    page.goto("/lang/ar?next=" + acknowledgement_url.removeprefix(page.url.split("/verify")[0]))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("وصل الاستلام")
    expect(page.locator(".acknowledgement .number")).to_have_text(number)
    page.screenshot(path=shots / "acknowledgement-ar.png", full_page=True)


def test_status_change_arrives_live_when_the_office_assigns_the_letter(
    page: Page, tmp_path: Path, shots: Path, portal_world
):
    cin = register(page)
    letter_url = deposit(page, tmp_path, subject="Réclamation sur un remboursement")
    portal = portal_world.portal
    user = portal.accounts.by_identifier(cin)
    letter = portal.letters.of_owner(user.id)[0]
    page.goto(letter_url)
    status = page.locator(".facts [data-status]")
    expect(status).to_have_text("Enregistré")
    wait_until(lambda: portal.hub.listeners(user.id) > 0, what="the page's event stream")
    portal_world.world.desk(OFFICE).call(
        OFFICE,
        ASSIGN,
        Assign(registration_number=letter.registration_number, service="rh", comment="Dossier transmis"),
    )
    expect(status).to_have_text("Affecté à un service")  # no reload: pushed by the server
    expect(page.locator("#history li")).to_have_count(2)
    expect(page.locator("#history")).to_contain_text("Dossier transmis")
    expect(page.locator("#live")).to_contain_text("Statut mis à jour")
    page.screenshot(path=shots / "letter-live.png", full_page=True)
    page.goto("/letters")
    expect(page.locator(f'tr[data-letter="{letter.public_id}"] [data-status]')).to_have_text(
        "Affecté à un service"
    )
    page.screenshot(path=shots / "letters.png", full_page=True)


def test_another_account_is_refused_by_url(browser: Browser, live_server, page: Page, tmp_path: Path):
    register(page)
    letter_url = deposit(page, tmp_path)
    other = browser.new_context(base_url=live_server.url, locale="fr-FR").new_page()
    register(other, name="Omar Tazi")
    for url in (letter_url, letter_url + "/acknowledgement", letter_url + "/acknowledgement.xml"):
        response = other.goto(url)
        assert response is not None and response.status == 404
        expect(other.locator("main")).to_contain_text("n'existe pas, ou elle ne vous appartient pas")
    other.context.close()


def test_a_post_without_csrf_token_is_refused(page: Page):
    register(page)
    page.goto("/letters/new")
    page.locator('form[action="/letters/new"] input[name="csrf"]').evaluate("input => input.remove()")
    page.get_by_label("Objet").fill("Sans jeton")
    page.get_by_label("Administration").select_option(OFFICE)
    with page.expect_response(
        lambda r: r.url.endswith("/letters/new") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Déposer le courrier").click()
    assert answer.value.status == 403
    expect(page.locator("main")).to_contain_text("Ce formulaire a expiré")


def test_arabic_pages_are_right_to_left(page: Page, tmp_path: Path, shots: Path):
    page.goto("/")
    page.get_by_role("link", name="العربية").click()
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_have_text("راسل الإدارة من بيتك")
    page.screenshot(path=shots / "home-ar.png", full_page=True)
    page.goto("/register")
    expect(page.get_by_label("رقم البطاقة الوطنية أو المعرف الموحد للمقاولة")).to_be_visible()
    page.screenshot(path=shots / "register-ar.png", full_page=True)


def test_forms_work_from_the_keyboard(page: Page):
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.get_by_label("CIN ou ICE").focus()
    page.keyboard.type("ZZ999999")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect")


def test_the_portal_works_without_javascript(browser: Browser, live_server, tmp_path: Path):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        register(page)
        deposit(page, tmp_path, subject="Sans JavaScript")
        expect(page.locator("article.acknowledgement .number")).to_be_visible()
        expect(page.get_by_role("button", name="Imprimer")).to_be_hidden()  # shown only by the script
        page.goto("/letters")
        expect(page.locator(".nojs-hint")).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(1)
    finally:
        context.close()
