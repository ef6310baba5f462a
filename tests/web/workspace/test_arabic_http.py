"""The workspace in Arabic over HTTP: the portal's language choice (``lang`` cookie, else the browser's
language), right-to-left pages, translated labels and errors, identifiers isolated in ``<bdi>``."""

from __future__ import annotations

import re

from ..conftest import deposit, register
from .conftest import csrf, sign_in


def test_arabic_login_page_from_the_browser_language(new_client):  # type: ignore[no-untyped-def]
    client = new_client()
    page = client.get("/workspace/login", headers={"accept-language": "ar-MA"})
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "دخول الموظفين" in page.text and "Connexion des agents" not in page.text
    assert '<label for="login">' in page.text and 'id="login"' in page.text
    assert 'href="/lang/fr?next=/workspace/login"' in page.text


def test_the_switch_is_remembered_and_errors_are_translated(new_client):  # type: ignore[no-untyped-def]
    client = new_client()
    switched = client.get("/lang/ar", params={"next": "/workspace/login"})
    assert switched.status_code in (302, 303) and switched.headers["location"] == "/workspace/login"
    refused = client.post(
        "/workspace/login", data={"csrf": csrf(client), "login": "nobody", "password": "wrong"}
    )
    assert refused.status_code == 400
    assert '<html lang="ar" dir="rtl">' in refused.text
    assert "المعرّف أو كلمة المرور غير صحيحة." in refused.text
    client.get("/lang/fr", params={"next": "/workspace/login"})
    assert "Connexion des agents" in client.get("/workspace/login").text


def test_arabic_queue_isolates_registration_numbers(new_client):  # type: ignore[no-untyped-def]
    citizen = new_client()
    register(citizen)
    subject = "Demande de certificat (عربي)"
    assert deposit(citizen, subject=subject).status_code == 303
    clerk = new_client()
    sign_in(clerk, "mef.clerc")
    clerk.get("/lang/ar", params={"next": "/workspace/"})
    queue = clerk.get("/workspace/mail")
    assert queue.status_code == 200
    assert '<html lang="ar" dir="rtl">' in queue.text
    assert "البريد الوارد" in queue.text and "رقم التسجيل" in queue.text
    assert "Courrier entrant" not in queue.text
    row = next(line for line in queue.text.split("<tr") if subject in line)
    number = re.search(r'href="/workspace/mail/([^"]+)"><bdi>\1</bdi></a>', row)
    assert number, row
    letter = clerk.get(f"/workspace/mail/{number.group(1)}")
    assert f"<h1>رسالة <bdi>{number.group(1)}</bdi></h1>" in letter.text
    assert "معالجة المراسلة" in letter.text and ">إحالة</button>" in letter.text
