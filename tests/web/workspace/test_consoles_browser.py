"""The auditor and bus authority consoles in a real browser (Playwright, Debian's Chromium), on the demo
world's bus: an auditor verifies the office's log and sees a tampered copy flagged at the right record;
an agent cannot open the authority console; the bus administrator revokes a certificate, sees the
catalogue diff before signing it, and replays a dead letter.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots (docs/screenshots is made this way).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from starlette.testclient import TestClient

from ..conftest import PortalWorld, deposit, register
from .consoles_support import (
    OFFICE,
    TEST_SERVICE,
    dead_letter,
    queue_depth,
    sign_checkpoint,
    tampered_copy,
    workspace,  # noqa: F401  (the connected workspace replaces the plain one)
)
from .test_browser import browser, new_page, server, shots, sign_in  # noqa: F401  (shared fixtures)


def office_row(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-participant="{OFFICE}"]')


def test_auditor_verifies_the_office_log_and_a_tampered_copy(  # type: ignore[no-untyped-def]
    app,
    new_page,  # noqa: F811
    shots: Path,  # noqa: F811
    portal_world: PortalWorld,
    tmp_path: Path,
):
    with TestClient(app, follow_redirects=False) as citizen:
        register(citizen)
        assert deposit(citizen, subject="Demande d'attestation (audit navigateur)").status_code == 303
    sign_checkpoint(portal_world)
    auditor = new_page()
    sign_in(auditor, "mef.auditeur")
    auditor.get_by_role("link", name="Audit des journaux", exact=True).click()
    expect(office_row(auditor)).to_be_visible()
    expect(auditor.locator("tr[data-participant^='MA/GOV/CNSS/']")).to_have_count(0)
    auditor.screenshot(path=shots / "workspace-audit.png", full_page=True)

    office_row(auditor).get_by_role("button", name=f"Vérifier le journal de {OFFICE}").click()
    expect(auditor.locator("#result")).to_have_attribute("data-result", "ok")
    expect(auditor.locator("#progress")).to_have_attribute("value", "100")
    auditor.screenshot(path=shots / "workspace-audit-verified.png", full_page=True)

    copy = tampered_copy(portal_world, tmp_path, seq=2)
    auditor.goto("/workspace/audit/")
    auditor.get_by_label("Copie du journal").set_input_files(str(copy))
    auditor.get_by_role("button", name="Vérifier la copie").click()
    expect(auditor.locator("#result")).to_have_attribute("data-result", "invalid")
    first = auditor.locator("#first-problem")
    expect(first).to_have_attribute("data-seq", "2")
    expect(first).to_contain_text("record 2 does not match its hash")
    auditor.screenshot(path=shots / "workspace-audit-tampered.png", full_page=True)

    auditor.goto("/workspace/audit/")
    office_row(auditor).get_by_role("link", name="Rechercher").click()
    auditor.get_by_label("Issue").select_option("accepted")
    auditor.get_by_role("button", name="Rechercher").click()
    rows = auditor.locator("#records tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("accepted")
    auditor.screenshot(path=shots / "workspace-audit-search.png", full_page=True)
    with auditor.expect_download() as download:
        rows.first.get_by_role("link", name="Dossier de preuve").click()
    assert download.value.suggested_filename.startswith("evidence-")


def test_agent_cannot_open_the_authority_console(new_page):  # type: ignore[no-untyped-def]  # noqa: F811
    agent = new_page()
    sign_in(agent, "mef.agent")
    expect(agent.get_by_role("link", name="Autorité du bus")).to_have_count(0)
    for path in (
        "/workspace/authority/",
        "/workspace/authority/catalogue",
        "/workspace/authority/dead-letters",
    ):
        response = agent.goto(path)
        assert response is not None and response.status == 403, path


def test_admin_revokes_signs_the_catalogue_and_replays_a_dead_letter(  # type: ignore[no-untyped-def]
    new_page,  # noqa: F811
    shots: Path,  # noqa: F811
    portal_world: PortalWorld,
):
    message_id = dead_letter(portal_world)
    participant = "MA/GOV/TEST/navigateur"
    admin = new_page()
    sign_in(admin, "bus.admin")
    admin.get_by_role("link", name="Autorité du bus").first.click()

    # a certificate issued, then revoked (each after its confirmation page)
    admin.get_by_label("Identifiant du participant").fill(participant)
    admin.get_by_role("button", name="Émettre").click()
    expect(admin.locator("#question")).to_contain_text(participant)
    admin.get_by_role("button", name="Confirmer").click()
    row = admin.locator(f'#certificates tr[data-participant="{participant}"]')
    expect(row).to_have_attribute("data-status", "valide")
    row.get_by_role("button", name=f"Révoquer {participant}").click()
    expect(admin.locator("#question")).to_contain_text("liste de révocation")
    admin.screenshot(path=shots / "workspace-authority-confirm.png", full_page=True)
    admin.get_by_role("button", name="Confirmer").click()
    expect(row).to_have_attribute("data-status", "révoqué")
    admin.screenshot(path=shots / "workspace-authority.png", full_page=True)

    # a grant prepared in the draft; the diff is shown before signing
    admin.get_by_role("link", name="Catalogue", exact=True).click()
    grant = admin.locator('form[action="/workspace/authority/catalogue/grant"]')
    grant.get_by_label("Client").fill("MA/GOV/MEF/desk")
    grant.get_by_label("Service").select_option(TEST_SERVICE)
    grant.get_by_role("button", name="Préparer").click()
    admin.get_by_role("button", name="Confirmer").click()
    change = f"+ grant       MA/GOV/MEF/desk call {TEST_SERVICE}"
    expect(admin.locator("#draft-diff")).to_contain_text(change)
    admin.get_by_role("button", name="Signer et publier…").click()
    expect(admin.locator("#diff")).to_contain_text(change)
    admin.screenshot(path=shots / "workspace-authority-catalogue-diff.png", full_page=True)
    admin.get_by_role("button", name="Confirmer").click()
    expect(admin.locator("#draft-diff-none")).to_be_visible()
    expect(admin.locator("#services")).to_contain_text("MA/GOV/MEF/desk (call)")
    admin.screenshot(path=shots / "workspace-authority-catalogue.png", full_page=True)

    # a dead letter shown, then replayed to its queue
    admin.get_by_role("link", name="Lettres mortes", exact=True).click()
    queue_row = admin.locator(f'#dead-letter-queues tr[data-service="{TEST_SERVICE}"]')
    expect(queue_row).to_be_visible()
    admin.screenshot(path=shots / "workspace-authority-dead-letters.png", full_page=True)
    queue_row.get_by_role("link").click()
    admin.get_by_role("link", name=message_id).click()
    expect(admin.locator("#verification")).to_have_attribute("data-ok", "no")
    admin.screenshot(path=shots / "workspace-authority-dead-letter.png", full_page=True)
    waiting = queue_depth(portal_world, dead=False)
    admin.get_by_role("button", name=f"Rejouer {message_id}").click()
    expect(admin.locator("#question")).to_contain_text(message_id)
    admin.get_by_role("button", name="Confirmer").click()
    expect(admin).to_have_url(re.compile(r"/dead-letters/queue\?"))
    expect(admin.get_by_role("link", name=message_id)).to_have_count(0)
    assert queue_depth(portal_world, dead=False) == waiting + 1

    admin.get_by_role("link", name="Workers", exact=True).click()
    expect(admin.locator('tr[data-worker="attestations-cnss"]')).to_contain_text("HORS SERVICE")
    expect(admin.locator('tr[data-worker="bureau-ordre-mef"]')).to_contain_text("en service")
    admin.screenshot(path=shots / "workspace-authority-workers.png", full_page=True)
