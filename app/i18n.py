"""Languages fi/sv/en: the current request's language and the Babel catalogs under locale/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"
LANGUAGE_COOKIE = "lang"
# Formatting locales: Finnish conventions (1 234,50 €, 24.11.2026) in every language.
FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_FI"}
# Each language's own name, for the language switch.
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated later, when the language is known."""
    return message


@lru_cache
def catalogs() -> dict[str, Translations]:
    """Compile the .po files in memory once per process (no build step, never stale)."""
    result: dict[str, Translations] = {}
    for lang in LANGUAGES:
        po_path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        result[lang] = Translations(buffer)
    return result


def current_language() -> str:
    return _current.get()


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Run a block in another language (e-mails in the recipient's language)."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return catalogs()[_current.get()].ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogs()[_current.get()].ungettext(singular, plural, n)


_ = gettext


def format_locale() -> Locale:
    return Locale.parse(FORMAT_LOCALES[_current.get()])


def negotiate(accept_language: str | None) -> str:
    """Pick fi/sv/en from an Accept-Language header by quality; Finnish when nothing matches."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary == "nb" or primary == "no":
            primary = ""  # Norwegian is not Swedish
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return sorted(choices)[0][2] if choices else DEFAULT_LANGUAGE
