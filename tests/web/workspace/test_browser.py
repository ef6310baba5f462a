"""The workspace in a real browser (Playwright, Debian's Chromium): a citizen's letter is assigned by the
clerk, validated by the head of service and answered by the agent; role and administration checks.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots (docs/screenshots is made this way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.testclient import TestClient

from web.workspace.demo import DEMO_PASSWORD

from ..conftest import LiveServer, deposit, register

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def server(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def new_page(browser: Browser, server: LiveServer):  # type: ignore[no-untyped-def]
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=server.url, locale="fr-FR", accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = os.environ.get("GOVBUS_SCREENSHOTS")
    path = Path(directory) if directory else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in(page: Page, login: str) -> None:
    page.goto("/workspace/login")
    page.get_by_label("Identifiant d'agent").fill(login)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/workspace/$"))


def test_clerk_assigns_head_validates_agent_replies(app, new_page, shots: Path):  # type: ignore[no-untyped-def]
    subject = "Demande d'attestation de salaire (navigateur)"
    with TestClient(app, follow_redirects=False) as citizen:
        register(citizen)
        assert deposit(citizen, subject=subject).status_code == 303

    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.screenshot(path=shots / "workspace-home.png", full_page=True)
    clerk.get_by_role("link", name="Courrier", exact=True).click()
    row = clerk.get_by_role("row").filter(has_text=subject)
    expect(row).to_be_visible()
    clerk.screenshot(path=shots / "workspace-queue.png", full_page=True)
    row.get_by_role("link").click()
    number = clerk.url.rsplit("/workspace/mail/", 1)[1]
    clerk.get_by_label("Affecter au service").select_option("rh")
    clerk.get_by_label("Commentaire").first.fill("Pour attestation")
    clerk.get_by_role("button", name="Affecter").click()
    expect(clerk.locator(".history")).to_contain_text("mef.clerc (Nadia Berrada)")
    clerk.screenshot(path=shots / "workspace-letter.png", full_page=True)

    head = new_page()
    sign_in(head, "mef.chef")
    head.goto(f"/workspace/mail/{number}")
    expect(head.get_by_role("button", name="Affecter")).to_have_count(0)  # a head does not assign
    head.get_by_role("button", name="Valider").click()
    expect(head.locator("#status")).to_have_attribute("data-status", "validated")

    agent = new_page()
    sign_in(agent, "mef.agent")
    agent.goto(f"/workspace/mail/{number}")
    expect(agent.get_by_role("button", name="Valider")).to_have_count(0)
    agent.get_by_label("Objet de la réponse").fill("Votre attestation de salaire")
    agent.get_by_label("Texte de la réponse").fill("Madame, vous trouverez votre attestation ci-jointe.")
    agent.get_by_role("button", name="Répondre").click()
    expect(agent.locator("#status")).to_have_attribute("data-status", "replied")
    expect(agent.locator(".history")).to_contain_text("mef.agent (Omar Tazi)")

    head.goto("/workspace/registers")
    expect(head.get_by_role("row").filter(has_text=subject)).to_be_visible()
    head.screenshot(path=shots / "workspace-registers.png", full_page=True)

    other = new_page()
    sign_in(other, "cnss.clerc")
    response = other.goto(f"/workspace/mail/{number}")
    assert response is not None and response.status == 404


def test_agent_cannot_open_the_authority_console(new_page, shots: Path):  # type: ignore[no-untyped-def]
    agent = new_page()
    sign_in(agent, "mef.agent")
    expect(agent.get_by_role("link", name="Autorité du bus")).to_have_count(0)
    response = agent.goto("/workspace/authority")
    assert response is not None and response.status == 403
    admin = new_page()
    sign_in(admin, "bus.admin")
    admin.get_by_role("link", name="Autorité du bus").first.click()
    expect(admin.get_by_role("cell", name="MA/GOV/MEF/bureau-ordre", exact=True)).to_be_visible()
    admin.screenshot(path=shots / "workspace-authority.png", full_page=True)
