"""Every user-visible string is in the fi, sv and en catalogs: a missing translation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    return set(extracted_messages_with_plurals())


def extracted_messages_with_plurals() -> dict[str, str | None]:
    """Message id -> its plural form (None for a singular-only message)."""
    method_map = [
        ("app/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {"templates/**.html": {"trimmed": "true"}, "templates/**.txt": {"trimmed": "true"}}
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    found: dict[str, str | None] = {}
    # Babel's directory walk skips folders whose names start with "_", such as the shared
    # macros in templates/_macros: walk those on their own.
    hidden = [
        (str(folder), [("**.html", "jinja2")], {"**.html": {"trimmed": "true"}})
        for folder in (ROOT / "templates").rglob("_*")
        if folder.is_dir()
    ]
    walks = [(str(ROOT), method_map, options), *hidden]
    messages = (
        found_message
        for folder, walk_map, walk_options in walks
        for _file, _line, found_message, _comments, _context in extract_from_dir(
            folder, walk_map, walk_options, keywords=keywords
        )
    )
    for message in messages:
        # A plural message is one catalog entry, keyed by its singular form.
        if isinstance(message, str):
            found.setdefault(message, None)
        else:
            found[message[0]] = message[1]
    return found


MESSAGES = extracted_messages()


def test_extraction_finds_the_strings() -> None:
    assert "Skip to content" in MESSAGES
    assert "Check the following:" in MESSAGES  # templates/_macros, which Babel's walk skips
    assert "Fill in this field." in MESSAGES  # from Python (N_)
    assert len(MESSAGES) > 100


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalog_is_complete(lang: str) -> None:
    with (ROOT / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)

    def translated(message_id: str) -> bool:
        entry = catalog.get(message_id)
        if entry is None:
            return False
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return all(forms)

    missing = sorted(m for m in MESSAGES if not translated(m))
    assert missing == [], f"untranslated in {lang}: {missing}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert fuzzy == [], f"fuzzy in {lang}: {fuzzy}"
    for message in catalog:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(str(message.id))) == set(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_finnish_and_swedish_are_really_translated() -> None:
    with i18n.language("fi"):
        assert i18n.gettext("Skip to content") == "Siirry sisältöön"
    with i18n.language("sv"):
        assert i18n.gettext("Skip to content") == "Hoppa till innehållet"
    with i18n.language("en"):
        assert i18n.gettext("Skip to content") == "Skip to content"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fi"),
        ("", "fi"),
        ("sv", "sv"),
        ("en-US,en;q=0.9", "en"),
        ("fr, sv;q=0.1", "sv"),
        ("sv;q=0, en;q=0.5", "en"),
        ("*", "fi"),
        ("en;q=abc, sv", "sv"),
    ],
)
def test_negotiate(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected
