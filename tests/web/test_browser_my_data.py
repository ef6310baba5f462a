"""Tell us once and "who used my data" in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from teleservices.cnss_attestation.employers import ATLAS

from . import test_browser as shared
from .conftest import PASSWORD

browser, page, shots = shared.browser, shared.page, shared.shots  # the shared Chromium fixtures

PURPOSE = "public procurement: application to tender AO-117/2026"


def register_company(page: Page, ice: str, name: str) -> None:
    page.goto("/register")
    page.get_by_label("Une entreprise (ICE), en tant que représentant légal").check()
    page.get_by_label("CIN ou ICE").fill(ice)
    page.get_by_label("Nom complet, ou raison sociale").fill(name)
    page.get_by_label("Représentant légal (entreprises seulement)").fill("Youssef Benali")
    page.get_by_label("Adresse électronique").fill("contact@atlas.example.ma")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page).to_have_url(re.compile(r"/letters$"))


def test_tell_us_once_then_who_used_my_data_lists_the_cnss_query(page: Page, tmp_path: Path, shots: Path):
    register_company(page, ATLAS.ice, ATLAS.name)
    page.get_by_role("link", name="Marchés publics").click()
    expect(page.get_by_role("heading", name="Marchés publics", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Vous ne déposez aucun document")
    assert page.locator('input[type="file"]').count() == 0  # the company uploads nothing
    page.get_by_label("Appel d'offres").select_option("AO-117/2026")
    page.get_by_role("button", name="Postuler").click()
    application = page.locator("li[data-application]").first
    expect(application).to_contain_text("Certificat obtenu auprès de la CNSS le")
    expect(application).to_contain_text("en règle")
    expect(application).to_contain_text("attestation ATT-")
    page.screenshot(path=shots / "tell-us-once.png", full_page=True)

    with page.expect_download() as download:
        application.get_by_role("link", name="Télécharger la réponse signée de la CNSS (XML)").click()
    evidence = tmp_path / "cnss.xml"
    download.value.save_as(evidence)
    signed = evidence.read_bytes()
    assert b"<client>MA/GOV/CNSS/attestations</client>" in signed
    assert f"<dataSubject>ICE:{ATLAS.ice}</dataSubject>".encode() in signed
    assert b"good-standing" in signed and b"SignatureValue" in signed

    page.get_by_role("link", name="Qui a utilisé mes données").click()
    row = page.locator("table.accesses tbody tr").first
    for _ in range(100):  # the CNSS reports the access from its outbox, just after its answer
        if page.locator("table.accesses").count():
            break
        page.wait_for_timeout(100)
        page.reload()
    expect(row).to_contain_text("MA/GOV/MEF/marches-publics")
    expect(row).to_contain_text("MA/GOV/CNSS/attestations")
    expect(row).to_contain_text(PURPOSE)
    expect(row.locator(".check-ok")).to_have_text("vérifié dans le journal du fournisseur")
    page.screenshot(path=shots / "who-used-my-data.png", full_page=True)

    page.goto("/lang/ar?next=/my-data")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("من استعمل بياناتي")
    page.screenshot(path=shots / "who-used-my-data-ar.png", full_page=True)
