"""French and Arabic catalogues: complete, consistent placeholders, compiled at start; Arabic right to left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import LANGUAGES, LOCALE_DIR, choose, language

ROOT = Path(__file__).parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def extracted() -> set[str]:
    method_map = [
        ("web/**.py", "python"),
        ("web/templates/**.html", "jinja2"),
        ("web/workspace/templates/**.html", "jinja2"),
    ]
    keywords = {"_": None, "N_": None, "FormError": (1,), "FieldError": (1,)}
    messages = extract_from_dir(str(ROOT), method_map, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in messages if isinstance(message, str)}


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated(code):
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    ids = extracted()
    assert len(ids) > 100
    for message in ids:
        entry = catalog.get(message)
        assert entry is not None and entry.string, f"{code}: no translation of {message!r}"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(message)), message
    assert not list(LOCALE_DIR.rglob("*.mo")), "catalogues are compiled at start, not committed"


def test_workspace_templates_are_extracted():
    ids = extracted()
    assert {"Agents' workspace", "Work the letter", "Assign to the service"} <= ids


def test_catalogues_compile_and_translate():
    assert language("ar").gettext("Sign in") == "تسجيل الدخول"
    assert (
        language("fr").gettext("Status updated: %(status)s", status="Validé") == "Statut mis à jour : Validé"
    )
    assert language("ar").direction == "rtl" and language("fr").direction == "ltr"


def test_language_from_cookie_then_browser_then_french():
    assert choose("ar", "fr-FR").code == "ar"
    assert choose(None, "ar-MA,ar;q=0.9").code == "ar"
    assert choose(None, "en-US").code == "fr"
    assert choose("xx", None).code == "fr"


def test_arabic_page_over_http(client):
    page = client.get("/login", headers={"accept-language": "ar-MA"})
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "تسجيل الدخول" in page.text
    assert '<label for="identifier">' in page.text and 'id="identifier"' in page.text
