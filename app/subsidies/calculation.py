"""The handler's calculation of a Helsinki-lisä application (H32–H46): the inputs, prefilled from
the application, stored as the Calculation row; the pure engine (calculator.py) computes the
rows, the instalments and the rule values used, and the result is stored with the inputs; the
limits across the employee's earlier benefits at the same company (accepted applications found
through the HETU's blind index, and PreviousBenefit rows entered by staff) are warnings.

Session first, keyword arguments; never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import audit
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.rules import RuleMissing
from app.security import Actor
from app.subsidies import calculator, events, service
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Calculation,
    FieldChange,
    PreviousBenefit,
)
from app.subsidies.staff_schemas import CalculationIn, PreviousBenefitIn

S = ApplicationStatus
CENT = Decimal("0.01")
# Inputs as the Calculation row stores them (the JSON lists hold ISO dates and decimal strings).
INPUT_FIELDS = (
    "benefit_type",
    "start_date",
    "end_date",
    "monthly_pay",
    "other_expenses",
    "vacation_money",
    "state_aid_max_percentage",
    "apprenticeship",
    "instalments_enabled",
    "pay_subsidies",
    "training_compensations",
    "override_monthly_benefit_amount",
    "override_justification",
)


def get(session: Session, *, application: Application) -> Calculation | None:
    return session.exec(
        select(Calculation).where(Calculation.application_id == application.id)
    ).first()


# --- Inputs -------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(CENT)}"


def prefill(application: Application) -> dict[str, Any]:
    """The calculation's inputs from the application (the handler checks and completes them):
    the period, pay, indirect labour costs, holiday pay, the pay subsidy over the whole period
    and the apprenticeship."""
    pay_subsidies: list[dict[str, Any]] = []
    if (
        application.pay_subsidy_granted
        and application.pay_subsidy_percent
        and application.start_date
        and application.end_date
    ):
        pay_subsidies.append(
            {
                "start_date": application.start_date.isoformat(),
                "end_date": application.end_date.isoformat(),
                "pay_subsidy_percent": application.pay_subsidy_percent,
                "work_time_percent": None,
            }
        )
    return {
        "benefit_type": application.benefit_type,
        "start_date": application.start_date,
        "end_date": application.end_date,
        "monthly_pay": application.monthly_pay,
        "other_expenses": application.other_expenses,
        "vacation_money": application.vacation_money,
        "state_aid_max_percentage": None,
        "apprenticeship": bool(application.apprenticeship_program),
        "instalments_enabled": False,
        "pay_subsidies": pay_subsidies,
        "training_compensations": [],
        "override_monthly_benefit_amount": None,
        "override_justification": None,
    }


def inputs_of(calculation: Calculation | None, application: Application) -> dict[str, Any]:
    """The stored inputs, or the application's prefill when nothing is stored yet."""
    if calculation is None:
        return prefill(application)
    return {name: getattr(calculation, name) for name in INPUT_FIELDS}


def _json_inputs(data: CalculationIn) -> dict[str, Any]:
    return {
        "pay_subsidies": [
            {
                "start_date": p.start_date.isoformat(),
                "end_date": p.end_date.isoformat(),
                "pay_subsidy_percent": p.pay_subsidy_percent,
                "work_time_percent": None
                if p.work_time_percent is None
                else str(p.work_time_percent),
            }
            for p in data.pay_subsidies
        ],
        "training_compensations": [
            {
                "start_date": t.start_date.isoformat(),
                "end_date": t.end_date.isoformat(),
                "monthly_amount": _money(t.monthly_amount),
            }
            for t in data.training_compensations
        ],
    }


def _problem(
    loc: tuple[Any, ...], kind: str, ctx: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": kind, "input": None, "ctx": dict(ctx or {})}


# --- The engine ------------------------------------------------------------------------------------


def engine_inputs(data: CalculationIn, start: date, end: date) -> calculator.CalculationInput:
    """The engine's input from the handler's (validated) form and its period."""
    return calculator.CalculationInput(
        benefit_type=data.benefit_type,
        start_date=start,
        end_date=end,
        monthly_pay=data.monthly_pay,
        indirect_labour_costs=data.other_expenses or Decimal("0"),
        vacation_money=data.vacation_money or Decimal("0"),
        state_aid_max_percentage=data.state_aid_max_percentage,
        pay_subsidies=[
            calculator.PaySubsidy(
                start_date=p.start_date,
                end_date=p.end_date,
                pay_subsidy_percent=p.pay_subsidy_percent,
                work_time_percent=p.work_time_percent,
            )
            for p in data.pay_subsidies
        ],
        training_compensations=[
            calculator.TrainingCompensation(
                start_date=t.start_date, end_date=t.end_date, monthly_amount=t.monthly_amount
            )
            for t in data.training_compensations
        ],
        apprenticeship=data.apprenticeship,
        override_monthly_benefit_amount=data.override_monthly_benefit_amount,
        instalments_enabled=data.instalments_enabled,
    )


def _required_problems(data: CalculationIn) -> list[dict[str, Any]]:
    """What the engine cannot check: the period it needs to run at all, and the justification
    of a monthly amount entered by hand (H43). The rest (the pay and the state-aid maximum of
    the salary benefit, the range under 24 months, the manual amount's maximum, the rows within
    the period) the engine reports at its field."""
    problems = [
        _problem((name,), "subsidy_required_for_calculation")
        for name in ("start_date", "end_date")
        if getattr(data, name) is None
    ]
    manual = data.override_monthly_benefit_amount is not None
    if manual and not (data.override_justification or "").strip():
        problems.append(_problem(("override_justification",), "subsidy_override_justification"))
    return problems


def calculate(
    session: Session, *, application: Application, data: CalculationIn, actor: Actor
) -> Calculation:
    """Store the inputs and the engine's answer (H32–H44). Invalid inputs raise
    ValidationFailed with a field per problem and store nothing."""
    problems = _required_problems(data)
    result: calculator.CalculationResult | None = None
    if data.start_date is not None and data.end_date is not None:
        # The engine's problems too, so that the handler sees every one at once.
        try:
            result = calculator.calculate(
                engine_inputs(data, data.start_date, data.end_date),
                calculation_date=service.today(),
            )
        except calculator.CalculationError as exc:
            problems += [p for p in exc.errors if p.get("loc") not in [q["loc"] for q in problems]]
    if problems or result is None:
        raise ValidationFailed(problems)
    row = get(session, application=application) or Calculation(application_id=application.id or 0)
    values = data.model_dump(exclude={"pay_subsidies", "training_compensations"})
    if values["override_monthly_benefit_amount"] is None:
        values["override_justification"] = None
    for name, value in {**values, **_json_inputs(data)}.items():
        setattr(row, name, value)
    row.result = calculator.result_json(result)
    row.total = result.total
    row.calculated_at = utcnow()
    row.calculated_by_id = events.actor_user_id(actor)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.calculation",
        target_type="subsidy_application",
        target_id=application.id,
        fields=[*INPUT_FIELDS, "result", "total"],
    )
    return row


def is_current(session: Session, *, application: Application, calculation: Calculation) -> bool:
    """A result computed after the application last changed (no field change since)."""
    if calculation.result is None or calculation.calculated_at is None:
        return False
    latest = session.exec(
        select(sa.func.max(FieldChange.created_at)).where(
            FieldChange.application_id == application.id
        )
    ).one()
    return latest is None or latest <= calculation.calculated_at


def frozen(calculation: Calculation) -> dict[str, Any]:
    """The decided calculation: the engine's result with the inputs it was made from."""
    inputs = {
        name: (
            value.isoformat()
            if isinstance(value, date)
            else _money(value)
            if isinstance(value, Decimal)
            else value
        )
        for name in INPUT_FIELDS
        for value in [getattr(calculation, name)]
    }
    return {
        **(calculation.result or {}),
        "total": _money(calculation.total),
        "inputs": inputs,
        "calculated_at": calculation.calculated_at.isoformat()
        if calculation.calculated_at
        else None,
    }


# --- Earlier benefits and the limits (H45, H46) ------------------------------------------------------


@dataclass(frozen=True)
class EarlierBenefit:
    """One earlier benefit of the same employee at the same company."""

    start_date: date
    end_date: date
    source: str  # "application" | "previous"
    apprenticeship: bool
    application_number: int | None = None
    previous_id: int | None = None
    monthly_amount: Decimal | None = None
    total_amount: Decimal | None = None


@dataclass(frozen=True)
class CalculationView:
    calculation: Calculation | None
    inputs: dict[str, Any]
    current: bool
    earlier: list[EarlierBenefit] = field(default_factory=list)
    limits: calculator.FormerBenefits | None = None
    previous: list[PreviousBenefit] = field(default_factory=list)


def _period_of(application: Application) -> tuple[date | None, date | None]:
    """An accepted application's benefit period: the decided calculation's, else the applied."""
    inputs = (application.decided_calculation or {}).get("inputs") or {}
    try:
        start = date.fromisoformat(inputs["start_date"]) if inputs.get("start_date") else None
        end = date.fromisoformat(inputs["end_date"]) if inputs.get("end_date") else None
    except (TypeError, ValueError):
        start = end = None
    return start or application.start_date, end or application.end_date


def earlier_benefits(session: Session, *, application: Application) -> list[EarlierBenefit]:
    """Accepted applications of the same employee (HETU, through its blind index) at the same
    company, and the PreviousBenefit rows staff entered for them; oldest first."""
    hetu_index = application.employee_hetu_index
    if not hetu_index:
        return []
    found: list[EarlierBenefit] = []
    for other in session.exec(
        select(Application).where(
            Application.company_id == application.company_id,
            Application.employee_hetu_index == hetu_index,
            Application.status == S.accepted,
            Application.id != application.id,
        )
    ).all():
        start, end = _period_of(other)
        if start and end:
            found.append(
                EarlierBenefit(
                    start_date=start,
                    end_date=end,
                    source="application",
                    apprenticeship=bool(other.apprenticeship_program),
                    application_number=other.application_number,
                    total_amount=other.granted_amount,
                )
            )
    for row in previous_benefits(session, application=application):
        found.append(
            EarlierBenefit(
                start_date=row.start_date,
                end_date=row.end_date,
                source="previous",
                apprenticeship=row.apprenticeship,
                previous_id=row.id,
                monthly_amount=row.monthly_amount,
                total_amount=row.total_amount,
            )
        )
    return sorted(found, key=lambda b: (b.start_date, b.end_date))


def limits(
    *,
    earlier: Sequence[EarlierBenefit],
    start: date | None,
    end: date | None,
    apprenticeship: bool,
) -> calculator.FormerBenefits | None:
    if start is None or end is None or end < start:
        return None
    try:
        return former_benefits(earlier, start, end, apprenticeship)
    except RuleMissing:  # a period before the rules on record: no limits to show
        return None


def former_benefits(
    earlier: Sequence[EarlierBenefit], start: date, end: date, apprenticeship: bool
) -> calculator.FormerBenefits:
    return calculator.former_benefits(
        earlier=[
            calculator.EarlierPeriod(
                start_date=b.start_date, end_date=b.end_date, apprenticeship=b.apprenticeship
            )
            for b in earlier
        ],
        start_date=start,
        end_date=end,
        apprenticeship=apprenticeship,
    )


def view(session: Session, *, application: Application) -> CalculationView:
    row = get(session, application=application)
    inputs = inputs_of(row, application)
    earlier = earlier_benefits(session, application=application)
    return CalculationView(
        calculation=row,
        inputs=inputs,
        current=row is not None and is_current(session, application=application, calculation=row),
        earlier=earlier,
        limits=limits(
            earlier=earlier,
            start=inputs.get("start_date"),
            end=inputs.get("end_date"),
            apprenticeship=bool(inputs.get("apprenticeship")),
        ),
        previous=previous_benefits(session, application=application),
    )


def previous_benefits(session: Session, *, application: Application) -> list[PreviousBenefit]:
    """H46: the earlier benefits staff entered for this company and the application's employee."""
    if not application.employee_hetu_index:
        return []
    return list(
        session.exec(
            select(PreviousBenefit)
            .where(
                PreviousBenefit.company_id == application.company_id,
                PreviousBenefit.employee_hetu_index == application.employee_hetu_index,
            )
            .order_by(col(PreviousBenefit.start_date), col(PreviousBenefit.id))
        ).all()
    )


def add_previous_benefit(
    session: Session, *, application: Application, data: PreviousBenefitIn, actor: Actor
) -> PreviousBenefit:
    """A benefit granted before this service for the application's company and a HETU (usually
    the employee's), counted toward the limits of every application of that pair."""
    row = PreviousBenefit(
        company_id=application.company_id,
        employee_hetu=data.employee_hetu,
        employee_hetu_index=service.hetu_index(data.employee_hetu),
        start_date=data.start_date,
        end_date=data.end_date,
        monthly_amount=data.monthly_amount,
        total_amount=data.total_amount,
        apprenticeship=data.apprenticeship,
        created_by_id=events.actor_user_id(actor),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_previous_benefit.add",
        target_type="subsidy_previous_benefit",
        target_id=row.id,
        fields=["employee_hetu", "start_date", "end_date", "monthly_amount", "total_amount"],
        detail=f"application={application.id}",
    )
    return row


def get_previous_benefit(
    session: Session, *, application: Application, benefit_id: int
) -> PreviousBenefit:
    """A row of the application's company (any HETU: staff may have entered it for another
    employee of the company from this page); another company's answers 404."""
    row = session.exec(
        select(PreviousBenefit).where(
            PreviousBenefit.id == benefit_id, PreviousBenefit.company_id == application.company_id
        )
    ).first()
    if row is None:
        raise NotFound()
    return row


def delete_previous_benefit(
    session: Session, *, application: Application, benefit: PreviousBenefit, actor: Actor
) -> None:
    benefit_id = benefit.id
    session.delete(benefit)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_previous_benefit.delete",
        target_type="subsidy_previous_benefit",
        target_id=benefit_id,
        detail=f"application={application.id}",
    )


def calculated_at(calculation: Calculation | None) -> datetime | None:
    return calculation.calculated_at if calculation else None
