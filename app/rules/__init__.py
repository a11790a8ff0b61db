"""Dated rule parameters: the amounts and limits that change by date, kept as data beside this code.

Each YAML file here is one programme, and its name is the namespace (`summer_voucher.*`).
A parameter declares its type, says what it is for, and lists every value it has had, each with
the day it took effect and the source that says so. Code asks for the value in force on the
relevant date, so a new rate is a reviewed data change with its source, and older cases keep being
judged by the rules of their time. Files are validated once per process, when first used: a bad
file stops the lookup instead of serving a wrong amount.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Generic, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    Strict,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
)

__all__ = [
    "RULES_DIR",
    "RuleFileError",
    "RuleMissing",
    "Rules",
    "load_rules",
    "parameter_names",
    "read_yaml",
    "value",
]

RULES_DIR = Path(__file__).resolve().parent


class RuleMissing(LookupError):
    """No value of the parameter is in force on the date asked, or no such parameter exists."""


class RuleFileError(ValueError):
    """A rules file is missing or breaks the format; raised at load time, before any value is used."""


# --- Reading YAML ------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    """SafeLoader with two YAML 1.1 traps closed.

    Only true/false are booleans (YAML 1.1 also reads on/off/yes/no, and the case files have an
    `on:` key), and a key written twice is an error instead of the last one silently winning.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> Any:
    """Read a rules or rule-case file with the loader both kinds of file are written for."""
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


# --- Value types -------------------------------------------------------------------------------

_MONEY = re.compile(r"\d+\.\d{2}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def _money(raw: object) -> Decimal:
    """Money is written as a quoted string with cents: a YAML float is binary and inexact."""
    if not isinstance(raw, str) or not _MONEY.fullmatch(raw):
        raise ValueError(
            f'money must be a quoted string with two decimals, like "350.00"; got {raw!r}'
        )
    return Decimal(raw)


def _month_day(raw: object) -> str:
    """A yearly day written "MM-DD"; it must exist in every year, so "02-29" is refused."""
    if isinstance(raw, str) and (match := _MONTH_DAY.fullmatch(raw)):
        month, day = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 1 <= day <= monthrange(2001, month)[1]:  # 2001: a common year
            return raw
    raise ValueError(f'a month-day must be a day of every year written "MM-DD"; got {raw!r}')


_Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
_Money = Annotated[Decimal, PlainValidator(_money)]
_Count = Annotated[int, Strict(), Field(ge=0)]
_MonthDay = Annotated[str, PlainValidator(_month_day)]
_CountByName = Annotated[
    Mapping[_Text, _Count], Field(min_length=1), AfterValidator(MappingProxyType)
]
_Names = Annotated[tuple[_Text, ...], Field(min_length=1)]

_V = TypeVar("_V")


class _Entry(BaseModel, Generic[_V]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_from: Annotated[date, Strict()]
    value: _V
    source: _Text


class _Parameter(BaseModel, Generic[_V]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: _Text
    values: Annotated[list[_Entry[_V]], Field(min_length=1)]

    @field_validator("values")
    @classmethod
    def _in_date_order(cls, values: list[_Entry[_V]]) -> list[_Entry[_V]]:
        """Entries are kept in the order they took effect, so the file reads as a history."""
        days = [entry.effective_from for entry in values]
        if any(earlier >= later for earlier, later in pairwise(days)):
            raise ValueError("values must be listed with strictly increasing effective_from")
        return values


class _MoneyParameter(_Parameter[_Money]):
    type: Literal["money"]


class _IntegerParameter(_Parameter[_Count]):
    type: Literal["integer"]


class _MonthDayParameter(_Parameter[_MonthDay]):
    type: Literal["month_day"]


class _IntegerMapParameter(_Parameter[_CountByName]):
    type: Literal["integer_map"]


class _StringListParameter(_Parameter[_Names]):
    type: Literal["string_list"]


_AnyParameter = Annotated[
    _MoneyParameter
    | _IntegerParameter
    | _MonthDayParameter
    | _IntegerMapParameter
    | _StringListParameter,
    Field(discriminator="type"),
]
_Name = Annotated[StrictStr, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class _RulesFile(RootModel[dict[_Name, _AnyParameter]]):
    pass


# --- Lookup ------------------------------------------------------------------------------------


class Rules:
    """Every parameter of one directory's rules files, asked for the value in force on a day."""

    def __init__(self, parameters: Mapping[str, _Parameter[Any]]) -> None:
        self._timelines = {
            name: (
                [entry.effective_from for entry in parameter.values],
                [entry.value for entry in parameter.values],
            )
            for name, parameter in parameters.items()
        }

    def value(self, parameter: str, on: date) -> Any:
        """The value of `parameter` in force on the day `on` (the latest entry not after it)."""
        if isinstance(on, datetime):
            raise TypeError("rules are in force on calendar days: pass the date, not a datetime")
        try:
            days, values = self._timelines[parameter]
        except KeyError:
            raise RuleMissing(f"there is no rule parameter {parameter!r}") from None
        index = bisect_right(days, on)
        if index == 0:
            raise RuleMissing(
                f"{parameter} has no value in force on {on.isoformat()}; "
                f"its first value takes effect on {days[0].isoformat()}"
            )
        return values[index - 1]

    def parameter_names(self) -> list[str]:
        return sorted(self._timelines)


@cache
def load_rules(directory: Path = RULES_DIR) -> Rules:
    """Validate and load every `*.yaml` file directly in `directory` (once per process)."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise RuleFileError(f"no rules files (*.yaml) in {directory}")
    parameters: dict[str, _Parameter[Any]] = {}
    for path in paths:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", path.stem):
            raise RuleFileError(f"{path.name}: the file name must be a snake_case programme name")
        try:
            content = _RulesFile.model_validate(read_yaml(path)).root
        except (yaml.YAMLError, ValidationError) as error:
            raise RuleFileError(f"{path.name}: {error}") from error
        parameters.update({f"{path.stem}.{name}": p for name, p in content.items()})
    return Rules(parameters)


def value(parameter: str, on: date) -> Any:
    """The value of a namespaced parameter (`summer_voucher.voucher_value`) in force on `on`."""
    return load_rules().value(parameter, on)


def parameter_names() -> list[str]:
    """Every namespaced parameter the application's rules files define."""
    return load_rules().parameter_names()
