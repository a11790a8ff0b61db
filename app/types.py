"""Validated constrained types for Finnish identifiers and money, shared by every schema.

python-stdnum does the checksum work; these wrap it as Pydantic types whose errors carry a
stable `type` (e.g. "business_id") that app.forms turns into a message in the user's language.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from stdnum import iban as std_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import hetu as std_hetu
from stdnum.fi import ytunnus as std_ytunnus

CENT = Decimal("0.01")
MAX_HOURS = Decimal("10000")
MAX_EUROS = Decimal("99999999.99")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value.strip()


def normalize_business_id(value: Any) -> str:
    """Y-tunnus as 1234567-8 (a leading zero may be missing: 123456-7 -> 0123456-7)."""
    text = _text(value)
    if re.fullmatch(r"\d{6}-\d", text):
        text = "0" + text  # old ids are often written without their leading zero
    try:
        return str(std_ytunnus.format(std_ytunnus.validate(text)))
    except StdnumError as exc:
        raise PydanticCustomError("business_id", "Invalid business id") from exc


def normalize_hetu(value: Any) -> str:
    """Finnish personal identity code, upper case; the 2023 century letters (Y X W V U, B C D E F)
    are accepted. Temporary codes (individual number 900-999) are refused."""
    text = _text(value).upper()
    try:
        return str(std_hetu.validate(text))
    except StdnumError as exc:
        raise PydanticCustomError("hetu", "Invalid personal identity code") from exc


def normalize_iban(value: Any) -> str:
    """IBAN in compact form (FI2112345600000785); shown grouped by the templates."""
    text = _text(value)
    try:
        return str(std_iban.validate(text))
    except StdnumError as exc:
        raise PydanticCustomError("iban", "Invalid IBAN") from exc


def require_finnish_iban(value: str) -> str:
    if not value.startswith("FI"):
        raise PydanticCustomError("iban_not_finnish", "The IBAN must be a Finnish account")
    return value


_POSTCODE = re.compile(r"^\d{5}$")


def normalize_postcode(value: Any) -> str:
    text = _text(value).replace(" ", "")
    if not _POSTCODE.match(text):
        raise PydanticCustomError("postcode", "Invalid postcode")
    return text


_PHONE_CHARS = re.compile(r"[\s\-().]")


def normalize_phone(value: Any) -> str:
    """A phone number in international form: 040 123 4567 -> +358401234567."""
    text = _PHONE_CHARS.sub("", _text(value))
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+358" + text[1:]
    if not re.fullmatch(r"\+\d{7,15}", text):
        raise PydanticCustomError("phone", "Invalid phone number")
    return text


def normalize_euros(value: Any) -> Decimal:
    """Money as Decimal with two places; accepts 1 234,50 and 1234.50; never a float."""
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, Decimal):
        amount = value
    else:
        text = _text(value).replace("\u00a0", "").replace(" ", "").replace("€", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise PydanticCustomError("euros", "Invalid amount") from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_EUROS:
        raise PydanticCustomError("euros", "Invalid amount")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise PydanticCustomError("euros_cents", "At most two decimals")
    return amount.quantize(CENT)


def normalize_hours(value: Any) -> Decimal:
    """Hours worked with at most two decimals; accepts 62,5 and 62.5."""
    text = _text(value).replace(" ", "") if not isinstance(value, Decimal) else str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = repr(value)
    text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise PydanticCustomError("hours", "Invalid hours") from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_HOURS:
        raise PydanticCustomError("hours", "Invalid hours")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise PydanticCustomError("hours_decimals", "At most two decimals")
    return amount.quantize(CENT)


BusinessId = Annotated[str, BeforeValidator(normalize_business_id)]
Hetu = Annotated[str, BeforeValidator(normalize_hetu)]
Iban = Annotated[str, BeforeValidator(normalize_iban)]
FinnishIban = Annotated[str, BeforeValidator(normalize_iban), AfterValidator(require_finnish_iban)]
Postcode = Annotated[str, BeforeValidator(normalize_postcode)]
Phone = Annotated[str, BeforeValidator(normalize_phone)]
Euros = Annotated[Decimal, BeforeValidator(normalize_euros)]
Hours = Annotated[Decimal, BeforeValidator(normalize_hours)]


def mask_hetu(value: str | None) -> str:
    """Lists show only the birth date part: 131052-308T -> 131052-****."""
    if not value:
        return ""
    return value[:7] + "****"


def format_iban(value: str) -> str:
    return str(std_iban.format(value))


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalize_email(value: Any) -> str:
    """An e-mail address with the domain in lower case (no DNS look-ups: that is the mailer's job)."""
    text = _text(value)
    if len(text) > 254 or not _EMAIL.match(text):
        raise PydanticCustomError("email", "Invalid e-mail address")
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


Email = Annotated[str, BeforeValidator(normalize_email)]
