"""Voucher serials: every serial reads back as itself; a typed-in typo is refused, not misread."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.summer_voucher.serials import format_serial, new_serial_number, parse_serial

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ISSUED_FROM = 32**4  # new serials start here: six symbols at least
LIMIT = 2**50

issued = st.integers(min_value=ISSUED_FROM, max_value=LIMIT - 1)
legacy = st.integers(min_value=1, max_value=99_999)


def symbols_of(shown: str) -> str:
    return shown.replace("-", "")


def gf32_times(a: int, b: int) -> int:
    """Carry-less multiplication modulo x^5 + x^2 + 1, written apart from the module's shortcut."""
    product = 0
    for bit in range(5):
        if b >> bit & 1:
            product ^= a << bit
    for bit in range(8, 4, -1):
        if product >> bit & 1:
            product ^= 0b100101 << (bit - 5)
    return product


def test_known_serials_keep_their_display() -> None:
    """Issued serials are printed on vouchers: the display must never change."""
    assert format_serial(100_000) == "31N-03"
    assert format_serial(123_456) == "3RJ-09"
    assert format_serial(ISSUED_FROM) == "100-005"
    assert format_serial(10**12) == "X3A-AA4-00H"
    assert format_serial(LIMIT - 1) == "ZZZ-ZZZ-ZZZ-Z4"


@given(issued)
def test_check_symbol_makes_the_weighted_sum_zero(number: int) -> None:
    """The scheme as documented: Σ s_i·α^(k−i) = 0 in GF(32), with α = x."""
    total = 0
    for symbol in symbols_of(format_serial(number)):
        total = gf32_times(total, 2) ^ CROCKFORD.index(symbol)
    assert total == 0


@settings(max_examples=500)
@given(st.one_of(legacy, issued))
def test_round_trip(number: int) -> None:
    assert parse_serial(format_serial(number)) == number


@given(st.integers(min_value=100_000, max_value=ISSUED_FROM - 1))
def test_short_serials_read_back_unless_they_look_like_old_numbers(number: int) -> None:
    """Never issued here; five symbols of digits only are read as an old sequential serial."""
    shown = format_serial(number)
    if symbols_of(shown).isdigit():
        assert parse_serial(shown) == int(symbols_of(shown))
    else:
        assert parse_serial(shown) == number


@settings(max_examples=300)
@given(issued)
def test_every_single_substitution_is_refused(number: int) -> None:
    """Exhaustive for each serial: every position, every other symbol, and a symbol not in use."""
    symbols = symbols_of(format_serial(number))
    for position, original in enumerate(symbols):
        for replacement in CROCKFORD + "U*":
            if replacement != original:
                typo = symbols[:position] + replacement + symbols[position + 1 :]
                assert parse_serial(typo) is None, (symbols, typo)


@settings(max_examples=300)
@given(issued)
def test_every_adjacent_transposition_is_refused(number: int) -> None:
    """Damm's check is totally anti-symmetric, so swapping neighbours (the check too) is caught."""
    symbols = symbols_of(format_serial(number))
    for position in range(len(symbols) - 1):
        first, second = symbols[position], symbols[position + 1]
        if first != second:
            typo = symbols[:position] + second + first + symbols[position + 2 :]
            assert parse_serial(typo) is None, (symbols, typo)


@given(issued)
def test_reading_forgives_case_separators_and_look_alikes(number: int) -> None:
    shown = format_serial(number)
    compact = symbols_of(shown)
    variants = [
        shown.lower(),
        compact,
        " ".join(compact),
        f"  {shown}\n",
        shown.replace("-", "\u2013"),  # an en dash from a word processor
        shown.replace("1", "I").replace("0", "O"),
        shown.replace("1", "l").replace("0", "o"),
        shown.replace("1", "L").lower(),
    ]
    for variant in variants:
        assert parse_serial(variant) == number, variant


@given(legacy)
def test_legacy_serials_are_plain_digits(number: int) -> None:
    assert format_serial(number) == str(number)
    assert parse_serial(str(number)) == number
    assert parse_serial(f" {number} ") == number


def test_legacy_digits_forgive_look_alikes() -> None:
    assert parse_serial("1O4") == 104
    assert parse_serial("l2 345") == 12_345


@pytest.mark.parametrize(
    "text",
    ["", " - ", "0", "00000", "U", "31N-0U", "31N-03*", "١٢٣", "Z" * 12, "31N-03-" + "0" * 10],
)
def test_not_serials(text: str) -> None:
    assert parse_serial(text) is None


@pytest.mark.parametrize("number", [0, -1, LIMIT])
def test_format_refuses_numbers_outside_the_range(number: int) -> None:
    with pytest.raises(ValueError, match="not a voucher serial number"):
        format_serial(number)


def test_new_serials_are_random_within_the_range() -> None:
    drawn = {new_serial_number() for _ in range(200)}
    assert len(drawn) == 200
    assert all(ISSUED_FROM <= number < LIMIT for number in drawn)
    assert all(len(symbols_of(format_serial(number))) >= 6 for number in drawn)


@pytest.mark.parametrize(("draw", "expected"), [(0, ISSUED_FROM), (None, LIMIT - 1)])
def test_new_serials_reach_both_ends(
    monkeypatch: pytest.MonkeyPatch, draw: int | None, expected: int
) -> None:
    monkeypatch.setattr(secrets, "randbelow", lambda bound: bound - 1 if draw is None else draw)
    assert new_serial_number() == expected
