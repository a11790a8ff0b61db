"""The public Helsinki-lisä estimate page (/subsidies/estimate, fi/sv/en, no login).

Without JavaScript the form posts here (with the CSRF token) and the page comes back with the
typed values, the result or an error summary. Nothing is stored, so a successful post answers
with the page itself instead of a redirect. With JavaScript, static/js/estimate.js updates the
result while the user types by calling the JSON API with the same fields.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.errors import ValidationFailed
from app.forms import error_message, values_of
from app.i18n import N_, gettext
from app.ratelimit import limited
from app.rules import RuleMissing
from app.security import Anonymous
from app.subsidies import calculator
from app.subsidies.estimate_api import RATE_LIMIT_ACTION, estimate_of, helsinki_today
from app.templating import render

router = APIRouter(prefix="/subsidies", dependencies=[Anonymous], include_in_schema=False)

PAY_SUBSIDY_ROWS = 3
TRAINING_ROWS = 1
FIELDS = (
    "benefit_type",
    "start_date",
    "end_date",
    "monthly_pay",
    "indirect_labour_costs",
    "vacation_money",
    "state_aid_max_percentage",
)
CHECKBOXES = ("apprenticeship", "instalments_enabled")
ROWS = {
    "pay_subsidies": (
        PAY_SUBSIDY_ROWS,
        ("start_date", "end_date", "pay_subsidy_percent", "work_time_percent"),
    ),
    "training_compensations": (TRAINING_ROWS, ("start_date", "end_date", "monthly_amount")),
}

# The rules the estimate may use, by name: what each is (its unit is in the label).
RULE_LABELS = {
    "subsidies.salary_benefit_monthly_max": N_("Highest salary benefit a month"),
    "subsidies.salary_benefit_monthly_max_without_pay_subsidy": N_(
        "Highest salary benefit a month without a pay subsidy, when paid in instalments"
    ),
    "subsidies.pay_subsidy_monthly_cap_50": N_("Highest 50 % pay subsidy deducted a month"),
    "subsidies.pay_subsidy_monthly_cap_70": N_("Highest 70 % pay subsidy deducted a month"),
    "subsidies.pay_subsidy_monthly_cap_100": N_("Highest 100 % pay subsidy deducted a month"),
    "subsidies.pay_subsidy_100_max_work_time_percent": N_(
        "Share of full working time a 100 % pay subsidy covers (%)"
    ),
    "subsidies.pay_subsidy_100_gross_wage_coefficient_percent": N_(
        "Gross wage coefficient of a 100 % pay subsidy (%)"
    ),
    "subsidies.pay_subsidy_default_work_time_percent": N_(
        "Working time assumed for a 100 % pay subsidy (%)"
    ),
    "subsidies.employment_benefit_monthly_amount": N_("Employment benefit a month"),
    "subsidies.manual_override_monthly_max": N_("Highest monthly amount entered by a handler"),
    "subsidies.instalment_threshold": N_("Largest total paid in one instalment"),
    "subsidies.first_instalment_amount": N_("First instalment of a benefit paid in two"),
    "subsidies.second_instalment_due_months": N_("Second instalment due after the start (months)"),
    "subsidies.calculation_range_max_months": N_("The period is shorter than (months)"),
}


def labels() -> dict[str, str]:
    """Each form field's name for the error summary (and the script's messages)."""
    found = {
        "benefit_type": gettext("Type of benefit"),
        "start_date": gettext("Start date of the benefit period"),
        "end_date": gettext("End date of the benefit period"),
        "monthly_pay": gettext("Gross pay a month (€)"),
        "indirect_labour_costs": gettext("Indirect labour costs a month (€)"),
        "vacation_money": gettext("Holiday pay a month (€)"),
        "state_aid_max_percentage": gettext("State aid maximum"),
        "apprenticeship": gettext("The employment is an apprenticeship"),
        "instalments_enabled": gettext("The benefit is paid in instalments"),
        "pay_subsidies": gettext("Pay subsidies"),
        "training_compensations": gettext("Training compensation"),
    }
    for index in range(PAY_SUBSIDY_ROWS):
        number = index + 1
        prefix = f"pay_subsidies-{index}-"
        found[prefix + "start_date"] = gettext("Pay subsidy %(number)s: start date") % {
            "number": number
        }
        found[prefix + "end_date"] = gettext("Pay subsidy %(number)s: end date") % {
            "number": number
        }
        found[prefix + "pay_subsidy_percent"] = gettext("Pay subsidy %(number)s: percentage") % {
            "number": number
        }
        found[prefix + "work_time_percent"] = gettext(
            "Pay subsidy %(number)s: working time (%%)"
        ) % {"number": number}
    found["training_compensations-0-start_date"] = gettext("Training compensation: start date")
    found["training_compensations-0-end_date"] = gettext("Training compensation: end date")
    found["training_compensations-0-monthly_amount"] = gettext(
        "Training compensation: amount a month (€)"
    )
    return found


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def form_input(form: FormData) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The form as the API's body, and for each list the form row of each item: empty rows are
    left out, so an error on item 0 may belong to the form's row 2."""
    data: dict[str, Any] = {name: _text(form.get(name)) for name in FIELDS}
    data = {name: value for name, value in data.items() if value}
    for name in CHECKBOXES:
        data[name] = _text(form.get(name)).lower() in ("true", "on", "1", "yes")
    positions: dict[str, list[int]] = {}
    for name, (count, fields) in ROWS.items():
        items: list[dict[str, str]] = []
        positions[name] = []
        for index in range(count):
            row = {field: _text(form.get(f"{name}-{index}-{field}")) for field in fields}
            if any(row.values()):
                items.append({field: value for field, value in row.items() if value})
                positions[name].append(index)
        data[name] = items
    return data, positions


def field_key(loc: Any, positions: dict[str, list[int]]) -> str:
    """The form field of an error's location: ("pay_subsidies", 0, "end_date") of the form's
    third row is "pay_subsidies-2-end_date"."""
    parts = [part for part in loc if part not in ("body", "form")]
    if len(parts) >= 2 and parts[0] in positions and isinstance(parts[1], int):
        rows = positions[str(parts[0])]
        if parts[1] < len(rows):
            parts[1] = rows[parts[1]]
    return "-".join(str(part) for part in parts) or "__all__"


def errors_of(errors: list[dict[str, Any]], positions: dict[str, list[int]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(field_key(error.get("loc", ()), positions), error_message(error))
    return found


def default_work_time() -> str:
    """The working time assumed for a 100 % pay subsidy today, for the form's hint."""
    try:
        return str(
            calculator.rule_value("pay_subsidy_default_work_time_percent", helsinki_today()).value
        )
    except RuleMissing:
        return ""


def months_text(months: Decimal) -> str:
    """Months with two decimals, the Finnish way the service writes numbers (2,03)."""
    return f"{months:.2f}".replace(".", ",")


def rule_shown(rule: calculator.RuleValue) -> Decimal | str:
    return rule.value if isinstance(rule.value, Decimal) else str(rule.value)


def _page(
    request: Request,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    result: calculator.CalculationResult | None = None,
    status: int = 200,
) -> Response:
    names = labels()
    rule_labels = {name: gettext(label) for name, label in RULE_LABELS.items()}
    script_labels = {"fields": names, "rules": rule_labels}
    return render(
        request,
        "subsidies/estimate.html",
        {
            "values": values,
            "errors": errors or {},
            "labels": names,
            "result": result,
            "rule_labels": rule_labels,
            "rule_shown": rule_shown,
            "months_text": months_text,
            "script_labels": json.dumps(script_labels, ensure_ascii=False),
            "pay_subsidy_rows": PAY_SUBSIDY_ROWS,
            "default_work_time": default_work_time(),
        },
        status_code=status,
    )


@router.get("/estimate", name="subsidy_estimate")
def estimate_form(request: Request) -> Response:
    """The empty form: a salary benefit, the most common case."""
    return _page(request, {"benefit_type": "salary_benefit"})


async def _posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (Starlette keeps it for the request)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(_posted_form)]


@router.post("/estimate", name="subsidy_estimate_send", dependencies=[limited(RATE_LIMIT_ACTION)])
def estimate_send(request: Request, form: FormDep) -> Response:
    values = values_of(form)
    data, positions = form_input(form)
    try:
        parsed = calculator.CalculationInput.model_validate(data)
        result = estimate_of(parsed)
    except ValidationError as exc:
        errors = errors_of([dict(error) for error in exc.errors()], positions)
        return _page(request, values, errors=errors, status=422)
    except ValidationFailed as exc:
        return _page(request, values, errors=errors_of(exc.errors, positions), status=422)
    return _page(request, values, result=result)
