"""Keep the fi/sv/en catalogs in step with the code.

    python scripts/messages.py                 # add new message ids (empty), drop unused ones
    python scripts/messages.py --missing fi    # print the ids still untranslated in a language
    python scripts/messages.py --fill new.json # merge translations {"msgid": {"fi": .., "sv": ..}}

English msgstrs equal their msgids (plural entries get the singular and plural forms). A plural
entry in the JSON file gives a list of forms per language.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_i18n import extracted_messages_with_plurals  # noqa: E402

LANGUAGES = ("fi", "sv", "en")


def po_path(lang: str) -> Path:
    return ROOT / "locale" / lang / "LC_MESSAGES" / "messages.po"


def load(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def save(lang: str, catalog: Catalog) -> None:
    with po_path(lang).open("wb") as fh:
        write_po(fh, catalog, omit_header=False, no_location=True, sort_output=True, width=0)


def sync(fill: dict[str, dict[str, object]] | None = None) -> None:
    wanted = extracted_messages_with_plurals()
    for lang in LANGUAGES:
        old = load(lang)
        new = Catalog(locale=lang, header_comment=old.header_comment, project=old.project)
        new.plural_forms  # noqa: B018 - computed from the locale
        for key, plural in sorted(wanted.items()):
            entry = old.get(key)
            string: Any = entry.string if entry is not None else None
            given = (fill or {}).get(key, {}).get(lang)
            if lang == "en":
                string = (key, plural) if plural else key
            elif given:
                string = tuple(given) if isinstance(given, list) else given
            if plural and not isinstance(string, tuple):
                string = ("", "")
            if string is None:
                string = ""
            new.add(
                (key, plural) if plural else key,
                string,
                flags=("python-format",) if "%(" in key else (),
            )
        save(lang, new)


def missing(lang: str) -> list[str]:
    catalog = load(lang)
    out = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--missing", choices=LANGUAGES)
    parser.add_argument("--fill", type=Path)
    args = parser.parse_args()
    if args.missing:
        sys.stdout.write(json.dumps(missing(args.missing), ensure_ascii=False, indent=1) + "\n")
        return
    sync(json.loads(args.fill.read_text()) if args.fill else None)


if __name__ == "__main__":
    main()
