"""Input and output schemas of Kesäseteli, shared by the pages and the JSON API."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.i18n import N_, gettext
from app.summer_voucher.models import HiredWithoutVoucher, NoteType, TargetGroup
from app.types import Email, Euros, Hetu, Hours, Iban, Phone, Postcode


class YearConfigurationIn(BaseModel):
    """A year's configuration as staff admins set it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: int = Field(ge=2020, le=2100)
    voucher_value: Euros
    min_work_hours: int = Field(ge=1, le=2000)
    min_work_compensation: Euros
    target_groups: Annotated[list[TargetGroup], Field(min_length=1)]
    opens_on: date
    closes_on: date

    @model_validator(mode="after")
    def dates_in_order(self) -> YearConfigurationIn:
        if self.closes_on < self.opens_on:
            raise PydanticCustomError(
                "dates_order", "The closing date is before the opening date", {"field": "closes_on"}
            )
        return self


class SchoolImportIn(BaseModel):
    """Bulk import: one school name per line; existing names are skipped."""

    model_config = ConfigDict(extra="forbid")

    names: str = Field(min_length=1, max_length=100_000)

    def lines(self) -> list[str]:
        seen: dict[str, None] = {}
        for line in self.names.splitlines():
            name = " ".join(line.split())
            if name and len(name) <= 256:
                seen.setdefault(name, None)
        return list(seen)


TARGET_GROUP_NAMES: dict[TargetGroup, str] = {
    TargetGroup.hki_15: N_("8th grader (age 15)"),
    TargetGroup.primary: N_("9th grader (age 16)"),
    TargetGroup.secondary: N_("First-year upper secondary student (age 17)"),
    TargetGroup.hki_18: N_("Second-year upper secondary student (age 18)"),
}


def target_group_names() -> dict[str, str]:
    """The target groups' names in the current language, by identifier."""
    return {group.value: gettext(name) for group, name in TARGET_GROUP_NAMES.items()}


class YouthApplicationIn(BaseModel):
    """The youth's application, as on the Kela card; one form, no login."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str = Field(min_length=1, max_length=128)
    last_name: str = Field(min_length=1, max_length=128)
    hetu: Hetu
    postcode: Postcode
    school: str | None = Field(default=None, max_length=256)
    is_unlisted_school: bool = False
    unlisted_school: str | None = Field(default=None, max_length=256, validate_default=True)
    target_group: TargetGroup
    phone: Phone
    email: Email
    terms_accepted: bool = Field(default=False, validate_default=True)
    # "Send anyway": the youth insists although the register disagrees; a handler decides.
    send_anyway: bool = False

    @field_validator("unlisted_school")
    @classmethod
    def school_given(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("is_unlisted_school"):
            if not value:
                raise PydanticCustomError("missing", "Field required")
        elif not info.data.get("school"):
            raise PydanticCustomError("school_missing", "Choose a school", {"field": "school"})
        return value

    @field_validator("terms_accepted")
    @classmethod
    def must_accept(cls, value: bool) -> bool:
        if not value:
            raise PydanticCustomError("must_be_true", "Accept the terms")
        return value

    @property
    def school_name(self) -> str:
        return (self.unlisted_school if self.is_unlisted_school else self.school) or ""


class AdditionalInfoReason(StrEnum):
    """The fixed reasons a youth can give (identifiers kept from the city's current service)."""

    unlisted_school = "unlisted_school"
    student_in_helsinki_but_not_resident = "student_in_helsinki_but_not_resident"
    moving_to_helsinki = "moving_to_helsinki"
    underage_or_overage = "underage_or_overage"
    personal_info_differs_from_vtj = "personal_info_differs_from_vtj"
    other = "other"


ADDITIONAL_INFO_REASON_NAMES: dict[AdditionalInfoReason, str] = {
    AdditionalInfoReason.unlisted_school: N_("My school is not on the list"),
    AdditionalInfoReason.student_in_helsinki_but_not_resident: N_(
        "I study in Helsinki but do not live here"
    ),
    AdditionalInfoReason.moving_to_helsinki: N_("I am moving to Helsinki before 1 June"),
    AdditionalInfoReason.underage_or_overage: N_("I am younger or older than the target group"),
    AdditionalInfoReason.personal_info_differs_from_vtj: N_(
        "My information differs from the population register"
    ),
    AdditionalInfoReason.other: N_("Other reason"),
}


def additional_info_reason_names() -> list[tuple[str, str]]:
    return [(reason.value, gettext(name)) for reason, name in ADDITIONAL_INFO_REASON_NAMES.items()]


class AdditionalInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reasons: Annotated[list[AdditionalInfoReason], Field(min_length=1)]
    description: str = Field(min_length=1, max_length=4096)


# --- Employer claims ------------------------------------------------------------------------

BIC_PATTERN = r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"


def _bic(value: object) -> object:
    if value is None or value == "":
        return None
    text = "".join(str(value).split()).upper()
    if not re.fullmatch(BIC_PATTERN, text):
        raise PydanticCustomError("bic", "Invalid BIC")
    return text


class ClaimLookupIn(BaseModel):
    """The employee's full name and the voucher's serial, as on the voucher (K37)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    employee_name: str = Field(min_length=1, max_length=256)
    serial: str = Field(min_length=1, max_length=32)


class ClaimDraftIn(BaseModel):
    """What the employer fills in; every field may be empty while the claim is a draft, but a
    value that is given must be valid. Submitting checks completeness (claims.submit)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    employee_phone: Phone | None = None
    employment_postcode: Postcode | None = None
    employment_start: date | None = None
    employment_end: date | None = None
    work_hours: Hours | None = None
    salary_paid: Euros | None = None
    job_description: str | None = Field(default=None, max_length=4096)
    hired_without_voucher: HiredWithoutVoucher | None = None
    contact_name: str | None = Field(default=None, max_length=256)
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    street_address: str | None = Field(default=None, max_length=256)
    iban: Iban | None = None
    payee_name: str | None = Field(default=None, max_length=256)
    payee_address: str | None = Field(default=None, max_length=512)
    bic: Annotated[str | None, BeforeValidator(_bic)] = None
    bank_name: str | None = Field(default=None, max_length=256)
    bank_address: str | None = Field(default=None, max_length=512)
    is_separate_invoicer: bool = False
    invoicer_name: str | None = Field(default=None, max_length=256)
    invoicer_email: Email | None = None
    invoicer_phone: Phone | None = None

    @model_validator(mode="after")
    def dates_in_order(self) -> ClaimDraftIn:
        if (
            self.employment_start
            and self.employment_end
            and self.employment_end < self.employment_start
        ):
            raise PydanticCustomError(
                "employment_dates_order",
                "The end date is before the start date",
                {"field": "employment_end"},
            )
        return self


# Required on submit (K40, K41); the foreign-account fields only for a non-Finnish IBAN (K42).
CLAIM_REQUIRED_FIELDS = (
    "employee_phone",
    "employment_postcode",
    "employment_start",
    "employment_end",
    "work_hours",
    "salary_paid",
    "hired_without_voucher",
    "contact_name",
    "contact_email",
    "contact_phone",
    "street_address",
    "iban",
)
FOREIGN_ACCOUNT_FIELDS = ("payee_name", "payee_address", "bic", "bank_name", "bank_address")
INVOICER_FIELDS = ("invoicer_name", "invoicer_email", "invoicer_phone")


class ClaimSubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms_accepted: bool = Field(default=False, validate_default=True)

    @field_validator("terms_accepted")
    @classmethod
    def must_accept(cls, value: bool) -> bool:
        if not value:
            raise PydanticCustomError("must_be_true", "Accept the terms")
        return value


class InformationRequestIn(BaseModel):
    """What the handler asks of the employer; e-mailed to the claim's contact person."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=4096)


class ClaimDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Annotated[str, Field(pattern="^(accepted|rejected)$")]
    reason: str | None = Field(default=None, max_length=4096, validate_default=True)

    @field_validator("reason")
    @classmethod
    def reason_for_rejection(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("decision") == "rejected" and not value:
            raise PydanticCustomError("missing", "Give the reason for the rejection")
        return value


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content: str = Field(min_length=1, max_length=4096)
    note_type: NoteType = NoteType.internal
    important: bool = False
    # A note on one of a claim's files: internal only (kesaseteli.md §5.3).
    attachment_id: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def file_notes_are_internal(self) -> NoteIn:
        if self.attachment_id is not None and self.note_type != NoteType.internal:
            raise PydanticCustomError(
                "attachment_note_internal",
                "A note on a file is internal",
                {"field": "note_type"},
            )
        return self
