"""The reports' filters, read from GET query strings: a date range and a year."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app import forms
from app.forms import FormResult
from app.i18n import N_, gettext

M = TypeVar("M", bound=BaseModel)

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year

# The reports' own error types (the rest are app.forms.MESSAGES).
MESSAGES = {
    "report_date_range": N_("Enter a date between 1.1.2000 and 31.12.2100."),
    "report_year_range": N_("Enter a year between 2000 and 2100."),
}

_FINNISH_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _finnish_date(value: Any) -> Any:
    """A date input sends 2026-01-31; a typed 31.1.2026 is the same day."""
    if isinstance(value, str):
        found = _FINNISH_DATE.fullmatch(value.strip())
        if found:
            try:
                return date(int(found[3]), int(found[2]), int(found[1]))
            except ValueError:
                return value  # e.g. 31.2.2026: reported as not a date
    return value


def _in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError("report_date_range", "The date is out of range")
    return value


def _year_in_range(value: int) -> int:
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise PydanticCustomError("report_year_range", "The year is out of range")
    return value


# A day of the reports' range, typed either way.
Day = Annotated[date, BeforeValidator(_finnish_date), AfterValidator(_in_range)]


class DateRangeIn(BaseModel):
    """Both days included, Helsinki dates."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    start: Day
    end: Day

    @model_validator(mode="after")
    def _in_order(self) -> DateRangeIn:
        if self.end < self.start:
            raise PydanticCustomError("end_before_start", "End before start", {"field": "end"})
        return self


class YearIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    year: Annotated[int, AfterValidator(_year_in_range)]


def parse_query(schema: type[M], query: Mapping[str, Any]) -> FormResult[M]:
    """A GET form into `schema`: app.forms' parsing, with the reports' own messages."""
    values = forms.values_of(query)
    try:
        return FormResult(values=values, data=schema.model_validate(forms.normalize(schema, query)))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            own = MESSAGES.get(str(error.get("type")))
            name = forms.field_name(forms.error_loc(error))
            errors.setdefault(name, gettext(own) if own else forms.error_message(error))
        return FormResult(values=values, errors=errors)
