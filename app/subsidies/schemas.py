"""Input schemas of the employer's Helsinki-lisä application, shared by the pages and the JSON API.

One schema per wizard step. Every field may be empty while the application is a draft, but a
value that is given must be valid; completeness and the rules that depend on the date or on other
steps are checked by the service (`service.save_step`, `service.submit_problems`).

Yes/no questions are `YesNo` (true, false or not answered), not `bool`: an unanswered radio group
stays unanswered instead of becoming "no" (app.forms reads a missing `bool` as an unticked box).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app import forms
from app.i18n import N_
from app.types import Email, Euros, FinnishIban, Hetu, Hours, Phone, Postcode

# H12: the fewest working hours a week the benefit accepts; more than the week has is a typo.
MINIMUM_WORKING_HOURS = Decimal("18")
MAXIMUM_WORKING_HOURS = Decimal("168")
# Salary costs a month: the database keeps 8 digits; the city's form stops at 99 999 €.
MAXIMUM_MONTHLY_AMOUNT = 99_999


class Step(StrEnum):
    """The wizard's steps in order; the staff side uses the same keys."""

    employer = "employer"
    de_minimis = "de_minimis"
    employee = "employee"
    period = "period"
    attachments = "attachments"
    summary = "summary"
    consents = "consents"


def _yes_no(value: Any) -> Any:
    """true/false, "true"/"false", "yes"/"no", "1"/"0"; "" is not answered."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
    raise PydanticCustomError("bool_parsing", "Choose yes or no")


def _whole_number(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


YesNo = Annotated[Literal[True, False] | None, BeforeValidator(_yes_no)]
PaySubsidyPercent = Annotated[Literal[50, 70, 100] | None, BeforeValidator(_whole_number)]
Language = Literal["fi", "sv", "en"]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmployerStepIn(StepIn):
    """H3–H6, H8, H10 (the association question), H11. The register data is not input."""

    use_alternative_address: bool = False
    company_department: str | None = Field(default=None, max_length=256)
    alternative_street_address: str | None = Field(default=None, max_length=256)
    alternative_postcode: Postcode | None = None
    alternative_city: str | None = Field(default=None, max_length=128)
    iban: FinnishIban | None = None
    contact_first_name: str | None = Field(default=None, max_length=64)
    contact_last_name: str | None = Field(default=None, max_length=64)
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    language: Language | None = None
    # Associations only (the service clears it for companies).
    association_has_business_activities: YesNo = None
    co_operation_negotiations: YesNo = None
    co_operation_negotiations_description: str | None = Field(default=None, max_length=256)
    other_subsidised_employed: YesNo = None
    other_subsidised_number: int | None = Field(default=None, ge=1, le=100_000)


class DeMinimisAidIn(StepIn):
    """One aid received; the amount's upper limit and the dates are checked by the service,
    against the rules in force (subsidies.de_minimis_cap, de_minimis_window_tax_years)."""

    granter: str = Field(min_length=1, max_length=64)
    amount: Euros = Field(ge=1)
    granted_at: date


class DeMinimisStepIn(StepIn):
    """H7: yes requires at least one row (at submit); no allows none."""

    de_minimis_aid: YesNo = None
    aids: list[DeMinimisAidIn] = Field(default_factory=list, max_length=50)


class EmployeeStepIn(StepIn):
    """H9, H10 (the job supervisor), H12 and the pay subsidy and apprenticeship answers."""

    employee_first_name: str | None = Field(default=None, max_length=64)
    employee_last_name: str | None = Field(default=None, max_length=64)
    employee_hetu: Hetu | None = None
    is_living_in_helsinki: bool = False
    # Associations only (the service clears it for companies).
    association_immediate_manager_check: bool = False
    job_title: str | None = Field(default=None, max_length=128)
    working_hours: Hours | None = None
    collective_bargaining_agreement: str | None = Field(default=None, max_length=128)
    monthly_pay: Euros | None = Field(default=None, gt=0, le=MAXIMUM_MONTHLY_AMOUNT)
    vacation_money: Euros | None = Field(default=None, le=MAXIMUM_MONTHLY_AMOUNT)
    other_expenses: Euros | None = Field(default=None, le=MAXIMUM_MONTHLY_AMOUNT)
    pay_subsidy_granted: YesNo = None
    pay_subsidy_percent: PaySubsidyPercent = None
    apprenticeship_program: YesNo = None

    @field_validator("working_hours")
    @classmethod
    def working_hours_in_range(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < MINIMUM_WORKING_HOURS:
            raise PydanticCustomError(
                "working_hours_min",
                "Too few working hours",
                {"min": f"{MINIMUM_WORKING_HOURS:.0f}"},
            )
        if value is not None and value > MAXIMUM_WORKING_HOURS:
            raise PydanticCustomError("working_hours_max", "Too many working hours", {"max": "168"})
        return value


class PeriodStepIn(StepIn):
    """H13–H14: the length rules and the start-date limit are the service's (they need both
    dates, which a PATCH may send one at a time, and today's date)."""

    start_date: date | None = None
    end_date: date | None = None


STEP_SCHEMAS: dict[str, type[StepIn]] = {
    Step.employer: EmployerStepIn,
    Step.de_minimis: DeMinimisStepIn,
    Step.employee: EmployeeStepIn,
    Step.period: PeriodStepIn,
}


class TermsAcceptIn(BaseModel):
    """The terms of service (H2) or the applicant's terms at submit (H19): every consent of the
    version shown must be ticked. `terms_id` is the version the person read; a newer version in
    force meanwhile is refused, so nobody accepts terms they did not see."""

    model_config = ConfigDict(extra="forbid")

    terms_id: int | None = Field(default=None, ge=1)
    consent_ids: list[int] = Field(default_factory=list, max_length=50)


class SubmitIn(TermsAcceptIn):
    """Sending the application: the consents of the applicant terms in force (H19)."""


class MessageIn(BaseModel):
    """The applicant's message to the handlers (H24)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content: str = Field(min_length=1, max_length=4096)


# Messages of the error types raised here and in the service, in the user's language (app.forms
# renders every error through one table; these join it).
MESSAGES: dict[str, str] = {
    "working_hours_min": N_("Enter working hours of at least %(min)s hours a week."),
    "working_hours_max": N_("Enter working hours of at most %(max)s hours a week."),
    "subsidy_required": N_("Fill in this field before sending the application."),
    "subsidy_answer_required": N_("Answer this question before sending the application."),
    "helsinki_residence_required": N_(
        "To be eligible for the Helsinki benefit, the employee's municipality of residence must "
        "be Helsinki. Tick the box to confirm it."
    ),
    "job_supervisor_required": N_("Confirm that the employee has been assigned a job supervisor."),
    "de_minimis_rows_missing": N_("Add at least one aid received, or answer no."),
    "de_minimis_rows_forbidden": N_("Remove the aid rows, or answer yes."),
    "de_minimis_not_allowed": N_(
        "An association without business activities does not declare de minimis aid."
    ),
    "de_minimis_date_future": N_("Enter a grant date that is not in the future."),
    "de_minimis_date_too_old": N_("Enter only aid granted on or after %(earliest)s."),
    "de_minimis_amount_max": N_("Enter an amount of at most %(cap)s."),
    "de_minimis_cap_exceeded": N_(
        "Maximum amount exceeded: de minimis aid may total at most %(cap)s over the current and "
        "the two previous tax years, and the aid given adds up to %(total)s. The Helsinki "
        "benefit cannot be granted as de minimis aid."
    ),
    "period_too_short": N_(
        "The benefit period must be at least one month: enter an end date on or after %(earliest)s."
    ),
    "period_too_long": N_(
        "The benefit period must be shorter than 12 months: enter an end date on or before "
        "%(latest)s."
    ),
    "period_start_too_early": N_(
        "The benefit period may start at most four months before the application is sent: "
        "enter a start date on or after %(earliest)s."
    ),
    "attachment_required": N_("Add this file before sending the application."),
    "consent_required": N_("Tick every box to continue."),
    "terms_changed": N_("The terms have changed. Read the terms shown now and tick the boxes."),
}
forms.MESSAGES.update(MESSAGES)
