"""Agent administration in a real browser (Playwright, Debian's Chromium): the bus administrator creates
a clerk, reads the password shown once, the clerk signs in with it, and once disabled is signed out."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from .test_browser import browser, new_page, server, sign_in  # noqa: F401  (shared fixtures)


def test_admin_creates_then_disables_a_clerk(new_page):  # type: ignore[no-untyped-def]  # noqa: F811
    login = f"mef.b{uuid.uuid4().hex[:6]}"
    admin = new_page()
    sign_in(admin, "bus.admin")
    admin.goto("/workspace/authority/agents")
    form = admin.locator("#new-agent")
    form.locator('input[name="login"]').fill(login)
    form.locator('input[name="name"]').fill("Imane Berrada")
    form.locator('select[name="administration"]').select_option("MA/GOV/MEF/bureau-ordre")
    form.get_by_label("Agent du bureau d'ordre").check()
    form.locator('button[type="submit"]').click()
    expect(admin.locator("#question")).to_contain_text(login)
    admin.get_by_role("button", name="Confirmer").click()
    password = admin.locator("#new-password").inner_text()
    assert len(password) >= 20

    clerk = new_page()
    clerk.goto("/workspace/login")
    clerk.get_by_label("Identifiant d'agent").fill(login)
    clerk.get_by_label("Mot de passe").fill(password)
    clerk.get_by_role("button", name="Se connecter").click()
    expect(clerk).to_have_url(re.compile(r"/workspace/$"))

    admin.goto("/workspace/authority/agents")
    admin.locator(f'tr[data-agent="{login}"] form[action$="/disable"] button').click()
    admin.get_by_role("button", name="Confirmer").click()
    expect(admin.locator(f'tr[data-agent="{login}"]')).to_have_attribute("data-disabled", "yes")
    clerk.goto("/workspace/mail")
    expect(clerk).to_have_url(re.compile(r"/workspace/login$"))
