"""HTML forms into the same Pydantic schemas the JSON API uses, with errors in the user's language."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from app.i18n import N_, gettext

M = TypeVar("M", bound=BaseModel)

# Pydantic error type -> message id. Custom types (app.types) raise their own error types.
MESSAGES: dict[str, str] = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Fill in this field."),
    "string_too_long": N_("Use at most %(max_length)s characters."),
    "too_long": N_("Choose at most %(max_length)s items."),
    "too_short": N_("Choose at least %(min_length)s items."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "decimal_parsing": N_("Enter a number."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "greater_than": N_("Enter a number greater than %(gt)s."),
    "less_than_equal": N_("Enter a number of at most %(le)s."),
    "date_parsing": N_("Enter a date, for example 24.11.2026."),
    "date_from_datetime_parsing": N_("Enter a date, for example 24.11.2026."),
    "date_type": N_("Enter a date, for example 24.11.2026."),
    "bool_parsing": N_("Choose yes or no."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "must_be_true": N_("You must accept this to continue."),
    "business_id": N_("Enter a valid business id, for example 1234567-8."),
    "hetu": N_("Enter a valid personal identity code, for example 131052-308T."),
    "iban": N_("Enter a valid IBAN, for example FI21 1234 5600 0007 85."),
    "iban_not_finnish": N_("Enter a Finnish bank account: the IBAN starts with FI."),
    "postcode": N_("Enter a postcode of five digits, for example 00100."),
    "phone": N_("Enter a phone number, for example 040 123 4567."),
    "email": N_("Enter an e-mail address, for example name@example.com."),
    "euros": N_("Enter an amount in euros, for example 1 234,50."),
    "euros_cents": N_("Enter the amount with at most two decimals."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("The request body must be a JSON object."),
    "dict_type": N_("The request body must be a JSON object."),
    "extra_forbidden": N_("This field is not allowed."),
    "reply_needs_email": N_("Enter your e-mail address so that we can reply."),
    "dates_order": N_("Enter a closing date that is on or after the opening date."),
    "birthdate_range": N_("Enter a birth date in the past."),
    "hours": N_("Enter the hours as a number, for example 62,5."),
    "hours_decimals": N_("Enter the hours with at most two decimals."),
    "employment_dates_order": N_("Enter an end date that is on or after the start date."),
    "end_before_start": N_("Enter an end date that is on or after the start date."),
    "choose_one": N_("Choose at least one."),
    "website": N_("Enter a web address, for example www.example.com."),
    "classification": N_("Choose one of the options."),
    "area": N_("Choose an area from the list or enter a postcode of five digits."),
    "bic": N_("Enter the bank's SWIFT/BIC code, for example NDEAFIHH."),
    "required_on_submit": N_("Fill in this field before sending the claim."),
    "outside_work_period": N_("The employment must be within the work period %(start)s–%(end)s."),
    "below_min_hours": N_(
        "The voucher requires at least %(min_hours)s hours of work. Check the hours."
    ),
    "below_min_pay": N_(
        "The voucher requires a salary of at least %(min_pay)s €. Check the salary."
    ),
    "attachments_missing": N_("Add at least one file."),
    "attachment_note_internal": N_("A note on a file can only be an internal note."),
    "employee_not_loaded": N_(
        "Load the employee's information with their name and the voucher's serial number first."
    ),
    "school_missing": N_(
        "Choose your school, or tick that it is not on the list and type its name."
    ),
    "paid_on_future": N_("Enter a payment date that is today or earlier."),
    "status_file_invalid": N_(
        "The file is not a bank status report (pain.002) nor a CSV of application numbers."
    ),
    "status_file_empty": N_("The file is empty."),
    "status_file_no_rows": N_("The file has no payment statuses."),
    "bank_file_empty": N_("The batch has no payments."),
    "bank_file_invalid": N_("The bank file does not pass the ISO 20022 schema: %(detail)s"),
}
FALLBACK_MESSAGE = N_("Check this value.")


def error_message(error: Mapping[str, Any]) -> str:
    """The message for one Pydantic error, translated into the current language."""
    template = MESSAGES.get(str(error.get("type")))
    if template is None:
        return gettext(FALLBACK_MESSAGE)
    text = gettext(template)
    ctx = error.get("ctx") or {}
    try:
        return text % dict(ctx) if "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return gettext(FALLBACK_MESSAGE)


def error_loc(error: Mapping[str, Any]) -> list[Any]:
    """The error's location; a cross-field validator names its field in ctx["field"]."""
    loc = list(error.get("loc", ()))
    ctx_field = (error.get("ctx") or {}).get("field")
    if ctx_field and not [p for p in loc if p not in ("body", "query", "form")]:
        loc.append(ctx_field)
    return loc


def field_name(loc: Iterable[Any]) -> str:
    """The form field an error belongs to: the first location part that is not 'body'."""
    parts = [str(p) for p in loc if p not in ("body", "query", "form")]
    return parts[0] if parts else "__all__"


def localized_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors in the API's 422 shape, with `msg` in the user's language."""
    return [
        {"loc": error_loc(err), "msg": error_message(err), "type": str(err.get("type"))}
        for err in errors
    ]


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return bool in get_args(annotation) and all(
            a in (bool, type(None)) for a in get_args(annotation)
        )
    return False


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, set, frozenset, tuple):
        return True
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation))
    return False


def _getlist(form: FormData | Mapping[str, Any], key: str) -> list[Any]:
    if isinstance(form, FormData):
        return list(form.getlist(key))
    value = form.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def normalize(schema: type[BaseModel], form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """HTML quirks away: "" means not given, a missing checkbox is False, repeated keys a list."""
    data: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        key = info.alias or name
        annotation = info.annotation
        if _is_list(annotation):
            raw_list: list[Any] = _getlist(form, key)
            data[key] = [v for v in raw_list if not (isinstance(v, str) and v.strip() == "")]
            continue
        raw = form.get(key)
        if _is_bool(annotation):
            data[key] = raw is not None and str(raw).lower() not in ("", "false", "0", "off", "no")
            continue
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            continue
        if isinstance(raw, UploadFile) and not raw.filename:
            continue
        data[key] = raw
    return data


@dataclass
class FormResult(Generic[M]):
    """A parsed form: the model when valid, else field errors; `values` refill the form."""

    values: dict[str, Any]
    data: M | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None


def values_of(form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to put back in the form (files are never echoed)."""
    values: dict[str, Any] = {}
    keys = form.keys()
    for key in keys:
        if key == "csrf_token":
            continue
        items = _getlist(form, key)
        texts = [v for v in items if isinstance(v, str)]
        values[key] = texts if len(texts) > 1 else (texts[0] if texts else "")
    return values


def errors_by_field(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for err in errors:
        result.setdefault(field_name(error_loc(err)), error_message(err))
    return result


def parse_form(schema: type[M], form: FormData | Mapping[str, Any]) -> FormResult[M]:
    values = values_of(form)
    try:
        return FormResult(values=values, data=schema.model_validate(normalize(schema, form)))
    except ValidationError as exc:
        return FormResult(values=values, errors=errors_by_field(exc.errors()))
