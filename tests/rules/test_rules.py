"""Dated rules: each file answers its YAML cases; the loader refuses files that would mislead."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Strict, TypeAdapter

from app import rules
from app.rules import RULES_DIR, RuleFileError, RuleMissing, load_rules, read_yaml

CASES_DIR = RULES_DIR / "tests"


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    parameter: str
    on: Annotated[date, Strict()]
    expected: Any


def load_cases() -> list[Case]:
    adapter = TypeAdapter(list[Case])
    return [
        case
        for path in sorted(CASES_DIR.glob("*_cases.yaml"))
        for case in adapter.validate_python(read_yaml(path))
    ]


def as_written(value: object) -> object:
    """A value in the form the YAML files write it: money as its string, lists as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=f"{case.parameter}@{case.on}") for case in load_cases()]
)
def test_case(case: Case) -> None:
    assert as_written(rules.value(case.parameter, case.on)) == case.expected


def test_every_rules_file_has_cases() -> None:
    for path in RULES_DIR.glob("*.yaml"):
        assert (CASES_DIR / f"{path.stem}_cases.yaml").is_file(), path.name


def test_every_parameter_has_a_case() -> None:
    assert {case.parameter for case in load_cases()} == set(rules.parameter_names())


def test_parameter_names_are_namespaced_by_file() -> None:
    names = rules.parameter_names()
    assert names == sorted(names)
    assert "summer_voucher.voucher_value" in names
    assert "subsidies.de_minimis_cap" in names
    assert {name.split(".")[0] for name in names} == {"summer_voucher", "subsidies"}


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_voucher_value_is_the_latest_entry_not_after_the_day(day: date) -> None:
    expected = Decimal("350.00") if day >= date(2024, 1, 1) else Decimal("325.00")
    assert rules.value("summer_voucher.voucher_value", day) == expected


def test_money_is_decimal_and_nothing_is_float() -> None:
    later = date(2030, 1, 1)
    voucher = rules.value("summer_voucher.voucher_value", later)
    assert type(voucher) is Decimal
    assert voucher == Decimal("350.00")
    assert type(rules.value("subsidies.de_minimis_cap", later)) is Decimal
    for name in rules.parameter_names():
        assert not isinstance(rules.value(name, later), float), name


def test_collections_cannot_be_changed_through_a_lookup() -> None:
    """Values are shared by every caller in the process: a lookup must not be able to alter them."""
    ages = rules.value("summer_voucher.target_group_ages", date(2026, 1, 1))
    with pytest.raises(TypeError):
        ages["hki_15"] = 14
    assert isinstance(rules.value("summer_voucher.default_target_groups", date(2026, 1, 1)), tuple)


def test_before_the_first_entry_nothing_is_in_force() -> None:
    with pytest.raises(RuleMissing, match="takes effect on 2023-07-01"):
        rules.value("subsidies.salary_benefit_monthly_max", date(2023, 6, 30))
    with pytest.raises(RuleMissing, match="takes effect on 2020-01-01"):
        rules.value("summer_voucher.voucher_value", date(2019, 12, 31))


def test_unknown_parameter() -> None:
    with pytest.raises(RuleMissing, match=re.escape("no rule parameter 'summer_voucher.nope'")):
        rules.value("summer_voucher.nope", date(2026, 1, 1))


def test_a_datetime_is_refused() -> None:
    """A moment is not a day until someone decides in which time zone; the caller must."""
    with pytest.raises(TypeError, match="pass the date"):
        rules.value("summer_voucher.voucher_value", datetime(2026, 1, 1, 12))  # noqa: DTZ001


def test_loaded_once_per_process() -> None:
    assert load_rules() is load_rules()


# --- The loader, on files written for the test ---------------------------------------------

FEE = """\
fee:
  type: money
  description: A fee that was raised once.
  values:
    - effective_from: 2024-01-01
      value: "100.00"
      source: first decision
    - effective_from: 2025-03-01
      value: "120.50"
      source: second decision
"""


def write(directory: Path, text: str, name: str = "programme.yaml") -> Path:
    (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 1), Decimal("100.00")),
        (date(2025, 2, 28), Decimal("100.00")),
        (date(2025, 3, 1), Decimal("120.50")),
        (date(2099, 12, 31), Decimal("120.50")),
    ],
)
def test_boundaries(tmp_path: Path, day: date, expected: Decimal) -> None:
    assert load_rules(write(tmp_path, FEE)).value("programme.fee", day) == expected


def test_day_before_first_entry(tmp_path: Path) -> None:
    with pytest.raises(
        RuleMissing, match=re.escape("programme.fee has no value in force on 2023-12-31")
    ):
        load_rules(write(tmp_path, FEE)).value("programme.fee", date(2023, 12, 31))


def test_every_file_in_the_directory_is_a_namespace(tmp_path: Path) -> None:
    write(tmp_path, FEE, "first.yaml")
    write(tmp_path, FEE, "second.yaml")
    (tmp_path / "tests").mkdir()
    write(tmp_path / "tests", "not: [a, rules, file]", "ignored.yaml")
    assert load_rules(tmp_path).parameter_names() == ["first.fee", "second.fee"]


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    """Rules files left out of a deployment must stop the lookups, not make every rule missing."""
    with pytest.raises(RuleFileError, match="no rules files"):
        load_rules(tmp_path)


@pytest.mark.parametrize(
    "value", ["350.00", "350.0", "350", '"350"', '"350.5"', '"-1.00"', '"1e3"', "true"]
)
def test_money_must_be_a_string_with_cents(tmp_path: Path, value: str) -> None:
    """A YAML float (or anything but a quoted amount with cents) never becomes money."""
    text = FEE.replace('value: "100.00"', f"value: {value}")
    with pytest.raises(
        RuleFileError,
        match=re.escape('money must be a quoted string with two decimals, like "350.00"'),
    ):
        load_rules(write(tmp_path, text))


HOURS = """\
hours:
  type: integer
  description: Some hours.
  values:
    - effective_from: 2024-01-01
      value: 60
      source: a decision
"""


def typed(type_name: str, value: str) -> str:
    """HOURS with another type and value."""
    return HOURS.replace("type: integer", f"type: {type_name}").replace(
        "value: 60", f"value: {value}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HOURS.replace("value: 60", "value: 60.0"), "valid integer"),
        (HOURS.replace("value: 60", 'value: "60"'), "valid integer"),
        (HOURS.replace("value: 60", "value: -1"), "greater than or equal to 0"),
        (HOURS.replace("2024-01-01", '"2024-01-01"'), "valid date"),
        (HOURS.replace("2024-01-01", "2024-01-01 12:00:00"), "valid date"),
        (HOURS.replace("      source: a decision\n", ""), "source"),
        (HOURS.replace("source: a decision", 'source: " "'), "at least 1 character"),
        (HOURS.replace("type: integer", "type: percentage"), "does not match any of the expected"),
        (HOURS.replace("  description: Some hours.\n", ""), "description"),
        (HOURS + "    - {effective_from: 2023-01-01, value: 50, source: older}\n", "increasing"),
        (HOURS + "    - {effective_from: 2024-01-01, value: 50, source: same day}\n", "increasing"),
        (HOURS.replace("  values:\n", "  unit: h\n  values:\n"), "Extra inputs"),
        (HOURS.replace("hours:", "Hours:"), "should match pattern"),
        (HOURS + HOURS, "duplicate key 'hours'"),
        (HOURS.replace("source: a decision", "source: a\n      source: b"), "duplicate key"),
        (HOURS.replace("value: 60", "value: [60"), "expected ',' or ']'"),
        (typed("month_day", '"02-29"'), "a month-day must be a day of every year"),
        (typed("month_day", '"6-1"'), "a month-day must be a day of every year"),
        (typed("integer_map", "{}"), "at least 1 item"),
        (typed("integer_map", "{hki_15: 15.0}"), "valid integer"),
        (typed("string_list", "[]"), "at least 1 item"),
        (typed("string_list", "[1]"), "valid string"),
    ],
)
def test_invalid_files_are_refused_at_load_time(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RuleFileError, match=message):
        load_rules(write(tmp_path, text))


def test_file_name_must_be_a_namespace(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="snake_case programme name"):
        load_rules(write(tmp_path, HOURS, "Summer-Voucher.yaml"))


def test_yaml_1_1_words_stay_words(tmp_path: Path) -> None:
    """`on:` must stay the key "on" in case files; no/yes/off are words, not booleans."""
    path = tmp_path / "words.yaml"
    path.write_text("on: 2024-01-01\nanswers: [no, yes, off, true, False]\n", encoding="utf-8")
    assert read_yaml(path) == {"on": date(2024, 1, 1), "answers": ["no", "yes", "off", True, False]}
