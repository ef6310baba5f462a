"""Every page of the workspace's menus is reached under ``/workspace``, whichever module serves it.

``mount`` puts all the desk's modules under one ``/workspace`` mount (a mount answers every path under
its prefix, so a second one would be shadowed: its pages would all answer 404), and the consoles' own
mounts before it.
"""

from __future__ import annotations

import pytest

from .conftest import sign_in

PAGES = [
    ("mef.clerc", "/workspace/"),
    ("mef.clerc", "/workspace/mail"),
    ("mef.clerc", "/workspace/counter"),
    ("mef.clerc", "/workspace/send"),
    ("mef.clerc", "/workspace/alerts"),
    ("mef.clerc", "/workspace/registers"),
    ("mef.agent", "/workspace/sign/new"),
    ("mef.agent", "/workspace/sign/submitted"),
    ("mef.signataire", "/workspace/sign"),
    ("mef.signataire", "/workspace/sign/delegations"),
    ("mef.auditeur", "/workspace/audit/"),
    ("bus.admin", "/workspace/authority"),
    ("bus.admin", "/workspace/authority/"),
    ("bus.admin", "/workspace/authority/catalogue"),
]


@pytest.mark.parametrize(("login", "path"), PAGES)
def test_each_menu_page_answers_its_role(new_client, login: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client = new_client()
    sign_in(client, login)
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    assert "Espace des agents" in page.text  # the workspace's page, not the portal's "not found"
