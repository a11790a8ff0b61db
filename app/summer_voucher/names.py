"""Fuzzy matching of the youth's last name against the full name an employer types (K38).

Both sides are normalised (NFC, casefold, æ→ae, ø→o, ı→i, đ/ð→d, typographic apostrophes and
every Unicode dash unified, accents dropped except on ä, ö and å, whitespace collapsed). The
last name then matches if it is within a small edit distance of some run of words at the
start or the end of the typed name: 0 edits for names of up to 2 letters, 1 for 3-5 and 2 for
longer ones. "Gil" matches "Jon Gil" and "Gil Jon" but not "Gilmore Jon"; "Magi" matches
"Mägi Jon".
"""

from __future__ import annotations

import re
import unicodedata

_REPLACEMENTS = str.maketrans(
    {"æ": "ae", "ø": "o", "ı": "i", "đ": "d", "ð": "d", "’": "'", "‘": "'", "ʼ": "'"}
)
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2E3A\u2E3B\uFE58\uFE63\uFF0D-]")
_KEEP_MARKS = {"ä", "ö", "å"}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(_REPLACEMENTS)
    text = _DASHES.sub("-", text)
    out = []
    for char in text:
        if char in _KEEP_MARKS:
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join("".join(out).split())


def allowed_distance(name: str) -> int:
    return 0 if len(name) <= 2 else 1 if len(name) <= 5 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, stopping early once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def last_name_matches(last_name: str, full_name: str) -> bool:
    wanted = normalize(last_name)
    words = normalize(full_name).split(" ")
    if not wanted or not words or words == [""]:
        return False
    limit = allowed_distance(wanted)
    candidates = {" ".join(words[:n]) for n in range(1, len(words) + 1)}
    candidates |= {" ".join(words[-n:]) for n in range(1, len(words) + 1)}
    return any(distance(wanted, candidate, limit) <= limit for candidate in candidates)
