"""The pages' two languages, Georgian (ka) and English (en): message catalogues and the
language of the request being served.

The catalogues' sources are the `.po` files under `locale/`; they are compiled in memory when
this module is imported (Babel's own reader and writer), so a plain install needs no build
step and a catalogue cannot drift from a stale compiled copy.

The language comes from `?lang=` (which also sets a cookie), else the cookie, else the
browser's Accept-Language, else English. It is held in a context variable for the request, so
the number and date formatters and the templates all read the same one.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

LANGUAGES = ("ka", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"ka": "ქართული", "en": "English"}
LANG_COOKIE = "mzk_lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def _compile(language: str) -> Translations:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


CATALOGUES: dict[str, Translations] = {language: _compile(language) for language in LANGUAGES}
LOCALES: dict[str, Locale] = {language: Locale.parse(language) for language in LANGUAGES}

_current: ContextVar[str] = ContextVar("mzekari_web_language", default=DEFAULT_LANGUAGE)


def language_of(request: Request) -> tuple[str, bool]:
    """The request's language and whether it was chosen now (`?lang=`: set the cookie)."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGUAGES:
        return kept, False
    header = request.headers.get("accept-language", "")[:200]
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    chosen = negotiate_locale([w for w in wanted if w], list(LANGUAGES), sep="_")
    return (chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE), False


def use(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current() -> str:
    return _current.get()


def locale() -> Locale:
    return LOCALES[_current.get()]


def gettext(message: str) -> str:
    return CATALOGUES[_current.get()].gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return CATALOGUES[_current.get()].ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; translated where it is shown."""
    return message


_ = gettext
