"""French and Arabic through Babel message catalogues, compiled in memory from the ``.po`` files at start.

Message ids are English; ``web/locale/<lang>/LC_MESSAGES/messages.po`` translate them (no compiled
``.mo`` is kept in the repository). The language comes from the ``lang`` cookie, else the browser's
``Accept-Language``, else French. Arabic pages are written right to left.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("fr", "ar")
DEFAULT_LANGUAGE = "fr"
RTL = frozenset({"ar"})


def N_(message: str) -> str:
    """Marks a message id for extraction (``pybabel extract -k N_``) without translating it here."""
    return message


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    translations: Translations

    @property
    def direction(self) -> str:
        return "rtl" if self.code in RTL else "ltr"

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str, **values: object) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text


@cache
def language(code: str) -> Language:
    """The compiled catalogue of one of ``LANGUAGES``."""
    if code not in LANGUAGES:
        code = DEFAULT_LANGUAGE
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Language(code, Translations(compiled))


def choose(cookie: str | None, accept_language: str | None) -> Language:
    if cookie in LANGUAGES:
        return language(cookie)
    wanted = [part.split(";")[0].strip() for part in (accept_language or "").split(",") if part.strip()]
    return language(negotiate_locale(wanted, LANGUAGES, sep="-") or DEFAULT_LANGUAGE)
