"""Input schemas of the staff side of Helsinki-lisä, shared by the back-office pages and the
staff JSON API (one schema per use case; app.forms parses the HTML forms into the same ones)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app import forms
from app.i18n import N_
from app.subsidies.calculator import MAXIMUM_ROWS
from app.subsidies.models import ReviewSection
from app.subsidies.schemas import Step, YesNo
from app.types import BusinessId, Euros, Hetu

# The steps a handler may reopen for the applicant (H26): the wizard's edit steps.
REOPENABLE_STEPS: tuple[Step, ...] = (
    Step.employer,
    Step.de_minimis,
    Step.employee,
    Step.period,
    Step.attachments,
)
ReopenableStep = Literal["employer", "de_minimis", "employee", "period", "attachments"]


def _whole_number(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Percent = Annotated[Literal[50, 70, 100], BeforeValidator(_whole_number)]


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MessageIn(StaffIn):
    """A handler's message to the applicant (e-mailed: a new message waits) or an internal note."""

    kind: Literal["handler_message", "note"] = "handler_message"
    content: str = Field(min_length=1, max_length=4096)


class InformationRequestIn(StaffIn):
    """H26: what the applicant must add, and the parts of the application they may change."""

    message: str = Field(min_length=1, max_length=4096)
    steps: list[ReopenableStep] = Field(min_length=1, max_length=len(REOPENABLE_STEPS))


class CancelIn(StaffIn):
    """H48: the reason is required; cancelling is final."""

    reason: str = Field(min_length=1, max_length=4096)


class DecisionIn(StaffIn):
    """Issue #5 §8, H47: accepting needs the de minimis answer (and a current calculation, the
    service checks it); rejecting needs a reason."""

    decision: Literal["accepted", "rejected"]
    granted_as_de_minimis_aid: YesNo = None
    reason: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _needs(self) -> DecisionIn:
        if self.decision == "accepted" and self.granted_as_de_minimis_aid is None:
            raise PydanticCustomError(
                "subsidy_de_minimis_choice",
                "Choose whether the benefit is granted as de minimis aid",
                {"field": "granted_as_de_minimis_aid"},
            )
        if self.decision == "rejected" and not self.reason:
            raise PydanticCustomError(
                "subsidy_reason_required", "A reason is required", {"field": "reason"}
            )
        return self


class ReturnIn(StaffIn):
    """H49: back to handling; the reason is optional and stays on the status history."""

    reason: str | None = Field(default=None, max_length=4096)


class ReviewMarkIn(StaffIn):
    """H30: one section checked or not."""

    section: ReviewSection
    checked: bool = False


class EditReasonIn(StaffIn):
    """The reason a handler gives for changing fields of a sent application (H27)."""

    reason: str | None = Field(default=None, max_length=1024)


# --- The calculator (H32–H45) -------------------------------------------------------------------


class PaySubsidyIn(StaffIn):
    start_date: date
    end_date: date
    pay_subsidy_percent: Percent
    work_time_percent: Decimal | None = Field(default=None, ge=Decimal("1"), le=Decimal("100"))

    @model_validator(mode="after")
    def _order(self) -> PaySubsidyIn:
        _check_order(self.start_date, self.end_date)
        return self


class TrainingCompensationIn(StaffIn):
    start_date: date
    end_date: date
    monthly_amount: Euros = Field(ge=Decimal("0"), le=Decimal("99999"))

    @model_validator(mode="after")
    def _order(self) -> TrainingCompensationIn:
        _check_order(self.start_date, self.end_date)
        return self


def _check_order(start: date, end: date) -> None:
    if end < start:
        raise PydanticCustomError(
            "employment_dates_order", "End before start", {"field": "end_date"}
        )


class CalculationIn(StaffIn):
    """The handler's calculation inputs. Ranges and the override rules are checked by the
    service (calculation.py) so that every problem has its field."""

    benefit_type: Literal["salary_benefit", "employment_benefit"] = "salary_benefit"
    start_date: date | None = None
    end_date: date | None = None
    monthly_pay: Euros | None = Field(default=None, ge=Decimal("0"), le=Decimal("99999"))
    other_expenses: Euros | None = Field(default=None, ge=Decimal("0"), le=Decimal("99999"))
    vacation_money: Euros | None = Field(default=None, ge=Decimal("0"), le=Decimal("99999"))
    state_aid_max_percentage: Annotated[
        Literal[50, 70, 100] | None, BeforeValidator(_whole_number)
    ] = None
    apprenticeship: bool = False
    instalments_enabled: bool = False
    pay_subsidies: list[PaySubsidyIn] = Field(default_factory=list, max_length=MAXIMUM_ROWS)
    training_compensations: list[TrainingCompensationIn] = Field(
        default_factory=list, max_length=MAXIMUM_ROWS
    )
    override_monthly_benefit_amount: Euros | None = Field(
        default=None, ge=Decimal("0"), le=Decimal("99999")
    )
    override_justification: str | None = Field(default=None, max_length=1024)


class PreviousBenefitIn(StaffIn):
    """H46: a benefit granted outside this service that counts toward the limits."""

    employee_hetu: Hetu
    start_date: date
    end_date: date
    monthly_amount: Euros | None = Field(default=None, ge=Decimal("0"), le=Decimal("99999"))
    total_amount: Euros | None = Field(default=None, ge=Decimal("0"), le=Decimal("9999999"))
    apprenticeship: bool = False

    @model_validator(mode="after")
    def _order(self) -> PreviousBenefitIn:
        _check_order(self.start_date, self.end_date)
        return self


# --- Paper applications (H31) ---------------------------------------------------------------------


class PaperStartIn(StaffIn):
    business_id: BusinessId
    paper_application_date: date
    language: Literal["fi", "sv", "en"] = "fi"

    @model_validator(mode="after")
    def _not_future(self) -> PaperStartIn:
        from app.subsidies.terms import helsinki_today

        if self.paper_application_date > helsinki_today():
            raise PydanticCustomError(
                "subsidy_date_future",
                "The date is in the future",
                {"field": "paper_application_date"},
            )
        return self


class PaperSendIn(StaffIn):
    """The handler terms' consents (H31), as the employer's terms at submit."""

    terms_id: int | None = Field(default=None, ge=1)
    consent_ids: list[int] = Field(default_factory=list, max_length=50)


MESSAGES: dict[str, str] = {
    "subsidy_de_minimis_choice": N_("Choose whether the benefit is granted as de minimis aid."),
    "subsidy_reason_required": N_("Give the reason."),
    "subsidy_date_future": N_("Enter a date that is not in the future."),
    "subsidy_calculation_missing": N_(
        "Calculate the benefit first: accepting needs a current calculation."
    ),
    "subsidy_calculation_outdated": N_(
        "The application has changed since the last calculation. Calculate the benefit again."
    ),
    "subsidy_override_justification": N_(
        "Give a justification for the manually entered monthly amount."
    ),
    "subsidy_required_for_calculation": N_("Fill in this field to calculate the benefit."),
    "subsidy_company_not_found": N_(
        "No company with this business id was found in the trade register. Check the business id."
    ),
    "subsidy_register_unavailable": N_(
        "The trade register cannot be reached just now. Try again in a moment."
    ),
}
forms.MESSAGES.update(MESSAGES)
