"""Voucher serial numbers: random, and shown so that a mistyped serial is refused, never misread.

A serial is a random integer (stored as a big integer). People see it in Crockford's base32
alphabet, which has no I, L, O or U, followed by one check symbol from the same alphabet and
grouped by three: `X3A-AA4-00H`. Reading forgives what people confuse (case, dashes, spaces,
I or L for 1, O for 0) and refuses everything else.

The check symbol makes the symbols s1 … sk satisfy s1·α^(k−1) + … + sk = 0 in the field GF(32)
(α a root of x^5 + x^2 + 1). This is Damm's check for orders that are prime powers: the step
c ∗ s = α·c + s forms a Latin square, so changing any one symbol changes the sum; and it is
totally anti-symmetric, since (c ∗ x) ∗ y = (c ∗ y) ∗ x only when (α + 1)(x + y) = 0, that is
x = y, so swapping two different neighbouring symbols (the check symbol included) is detected
too. A symbol left out or added is caught about 31 times out of 32.

Serials of the earliest years are sequential numbers below 100 000, shown and read as plain
digits. New serials are drawn at or above 32^4, so they have at least six symbols, and no
substitution or swap can make one read as such an old number (at most five digits).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SYMBOL_VALUES = {symbol: value for value, symbol in enumerate(_ALPHABET)}
_LOOK_ALIKES = str.maketrans("ILO", "110")
# Spaces and the hyphens and dashes that mail clients and word processors put in pasted text.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_FIELD_MODULUS = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2)

_LEGACY_LIMIT = 100_000  # serials below this are the old sequential ones
_SERIAL_LIMIT = 2**50  # exclusive upper bound of every serial
_ISSUED_FROM = 32**4  # the smallest serial with six symbols (five digits and the check)
_MAX_SYMBOLS = 11  # ten base32 digits reach 2^50 − 1; one check symbol


def _times_alpha(value: int) -> int:
    value <<= 1
    return value ^ _FIELD_MODULUS if value & 0b100000 else value


def _checksum(values: Iterable[int]) -> int:
    """Fold the symbols with Damm's step c ∗ s = α·c + s; a serial with its check folds to 0."""
    folded = 0
    for value in values:
        folded = _times_alpha(folded) ^ value
    return folded


def new_serial_number() -> int:
    """A random serial from the CSPRNG, in [100 000, 2^50 − 1] and never shorter than six symbols."""
    return _ISSUED_FROM + secrets.randbelow(_SERIAL_LIMIT - _ISSUED_FROM)


def format_serial(number: int) -> str:
    """The serial as people see it: plain digits for old sequential serials, else `XXX-XXX-X…`."""
    if not 0 < number < _SERIAL_LIMIT:
        raise ValueError(f"not a voucher serial number: {number}")
    if number < _LEGACY_LIMIT:
        return str(number)
    digits: list[int] = []
    while number:
        number, digit = divmod(number, 32)
        digits.append(digit)
    digits.reverse()
    digits.append(_times_alpha(_checksum(digits)))
    symbols = "".join(_ALPHABET[digit] for digit in digits)
    return "-".join(symbols[start : start + 3] for start in range(0, len(symbols), 3))


def parse_serial(text: str) -> int | None:
    """The serial number typed in `text`, or None if it is not one (a typo, a wrong check symbol).

    Up to five digits with no letter are read as an old sequential serial, so a five-symbol
    serial of digits only (a number below 32^4, never issued here) reads as one of those.
    """
    compact = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    if not compact or len(compact) > _MAX_SYMBOLS:
        return None
    if len(compact) <= 5 and compact.isascii() and compact.isdigit():
        legacy = int(compact)
        return legacy if legacy > 0 else None
    try:
        values = [_SYMBOL_VALUES[symbol] for symbol in compact]
    except KeyError:
        return None
    if _checksum(values) != 0:
        return None
    number = 0
    for value in values[:-1]:
        number = number * 32 + value
    return number if _LEGACY_LIMIT <= number < _SERIAL_LIMIT else None
