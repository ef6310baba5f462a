"""The workspace in Arabic in a real browser (Playwright, Debian's Chromium): an agent switches to Arabic
in the header, the pages are right to left, the registration number keeps its order, and the clerk
assigns a letter from the Arabic letter page; the choice stays for the next pages.

``GOVBUS_SCREENSHOTS=DIR`` keeps the screenshots (docs/screenshots/workspace-queue-ar.png).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from starlette.testclient import TestClient

from ..conftest import deposit, register
from . import test_browser
from .test_browser import sign_in

browser, server, new_page, shots = (
    test_browser.browser,
    test_browser.server,
    test_browser.new_page,
    test_browser.shots,
)


def test_clerk_switches_to_arabic_and_assigns_a_letter(app, new_page, shots: Path):  # type: ignore[no-untyped-def]
    subject = "Attestation de salaire, version arabe"
    with TestClient(app, follow_redirects=False) as citizen:
        register(citizen)
        assert deposit(citizen, subject=subject).status_code == 303

    clerk = new_page()
    sign_in(clerk, "mef.clerc")
    clerk.get_by_role("link", name="العربية").click()
    expect(clerk.locator("html")).to_have_attribute("dir", "rtl")
    expect(clerk.locator("html")).to_have_attribute("lang", "ar")
    expect(clerk).to_have_url(re.compile(r"/workspace/$"))
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("مرحبا")

    clerk.get_by_role("link", name="المراسلات", exact=True).click()
    expect(clerk.get_by_role("heading", name="البريد الوارد")).to_be_visible()
    row = clerk.get_by_role("row").filter(has_text=subject)
    expect(row).to_be_visible()
    number_cell = row.get_by_role("cell").first
    expect(number_cell.locator("bdi")).to_have_count(1)
    assert number_cell.evaluate("cell => getComputedStyle(cell).direction") == "rtl"
    clerk.screenshot(path=shots / "workspace-queue-ar.png", full_page=True)

    row.get_by_role("link").click()
    number = clerk.url.rsplit("/workspace/mail/", 1)[1]
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(number)
    expect(clerk.locator("html")).to_have_attribute("dir", "rtl")
    clerk.get_by_label("إحالة إلى المصلحة").select_option("rh")
    clerk.get_by_label("تعليق").first.fill("للإنجاز")
    clerk.get_by_role("button", name="إحالة", exact=True).click()
    expect(clerk.locator("#status")).to_have_attribute("data-status", "assigned")
    expect(clerk.locator("#status")).to_have_text("محال")
    expect(clerk.locator(".history")).to_contain_text("للإنجاز")

    clerk.get_by_role("link", name="Français").click()
    expect(clerk.locator("html")).to_have_attribute("dir", "ltr")
    expect(clerk.locator("#status")).to_have_text("Affecté")
