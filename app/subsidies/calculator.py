"""The one Helsinki-lisä calculation engine (helsinkilisa.md §3, checklist H32–H45).

Pure: no database, no clock, no request. Every amount, factor and limit comes from the dated
rules (app/rules/subsidies.yaml) in force on the calculation date, and the result lists exactly
the rule values it used, with the day each took effect and its source. Money is Decimal.

    calculate(data, calculation_date=None) -> CalculationResult   (raises CalculationError)
    check(data, calculation_date=None) -> list of problems        (the same checks, no result)
    former_benefits(earlier=..., start_date=..., end_date=..., apprenticeship=...) -> FormerBenefits
    result_json(result) -> the result as JSON-ready data (money as "1600.00", ISO dates)

The calculation date is the day the calculation is made (the handler's calculation, the
decision, or today for the public estimate); it defaults to the period's start date. The rules
in force on it apply, whenever the benefit period itself lies, as in the city's service, where
one calculator (SalaryBenefitCalculator2023) computes every application; the first instalment
falls due on it.

Which calculator (§3.1): a manual monthly amount wins; else the salary benefit ("Palkan
Helsinki-lisä", the 2023 formula) or the employment benefit ("Työllistämisen Helsinki-lisä").

Months are DAYS360 months (European method) of the period, first and last day included:
days360(start, end + 1 day) / 30, rounded half up to two decimals where a row shows them.
Amounts round half up: the trace rows to cents, the monthly benefit and totals to whole euros.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from itertools import pairwise
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app import forms, rules
from app.i18n import N_, gettext
from app.rules import RULES_DIR, RuleMissing, read_yaml
from app.types import Euros

__all__ = [
    "BenefitRow",
    "CalculationError",
    "CalculationInput",
    "CalculationResult",
    "EarlierPeriod",
    "FormerBenefits",
    "Instalment",
    "LimitWarning",
    "PaySubsidy",
    "RuleValue",
    "TraceRow",
    "TrainingCompensation",
    "add_months",
    "calculate",
    "check",
    "days360",
    "former_benefits",
    "months_between",
    "result_json",
    "round_euros",
    "round_months",
    "rule_text",
    "rule_value",
]

CENT = Decimal("0.01")
EURO = Decimal("1")
HUNDRED = Decimal(100)
THIRTY = Decimal(30)
ZERO = Decimal("0.00")
ONE_DAY = timedelta(days=1)
# The form's and the API's ceiling for a monthly amount (the application's own is the same).
MAXIMUM_MONTHLY_AMOUNT = 99999
MAXIMUM_ROWS = 10
RULES_FILE = "subsidies"

BenefitType = Literal["salary_benefit", "employment_benefit"]


# --- Arithmetic ------------------------------------------------------------------------------------


def days360(start: date, end: date) -> int:
    """Days from `start` to `end` on a 360-day calendar, European method: day 31 counts as 30."""
    start_day = min(start.day, 30)
    end_day = min(end.day, 30)
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + end_day - start_day


def months_between(start: date, end: date) -> Decimal:
    """The months of the period `start`..`end`, both days included (unrounded)."""
    return Decimal(days360(start, end + ONE_DAY)) / THIRTY


def round_months(months: Decimal) -> Decimal:
    return months.quantize(CENT, rounding=ROUND_HALF_UP)


def round_euros(amount: Decimal) -> Decimal:
    """Half up to whole euros, written with cents (1600.00)."""
    return amount.quantize(EURO, rounding=ROUND_HALF_UP).quantize(CENT)


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day
    (31.1. + 1 month = 28.2.), as dateutil's relativedelta."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _fi_number(value: Decimal | int, places: int = 2) -> str:
    """1 500,00: the Finnish way the service writes numbers in every language."""
    text = f"{value:,.{places}f}" if places else f"{value:,}"
    return text.replace(",", "\u00a0").replace(".", ",")


def _fi_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


# --- Input ---------------------------------------------------------------------------------------


def _whole_number(value: Any) -> Any:
    """A form's "70" is the percentage 70."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _decimal_text(value: Any) -> Any:
    """A form's "93,3" is 93.3."""
    if isinstance(value, str):
        return value.strip().replace(",", ".")
    return value


Percent = Annotated[Literal[50, 70, 100], BeforeValidator(_whole_number)]
WorkTimePercent = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    Field(ge=1, le=100, decimal_places=2),
]
MonthlyAmount = Annotated[Euros, Field(le=MAXIMUM_MONTHLY_AMOUNT)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PaySubsidy(_Input):
    """A pay subsidy ("palkkatuki") decision's period and percentage; the working time (percent
    of full time) matters only for a 100 % subsidy and defaults to the rules' 65 %."""

    start_date: date
    end_date: date
    pay_subsidy_percent: Percent
    work_time_percent: WorkTimePercent | None = None


class TrainingCompensation(_Input):
    """An apprenticeship's training compensation ("koulutuskorvaus"), deducted monthly."""

    start_date: date
    end_date: date
    monthly_amount: MonthlyAmount


class CalculationInput(_Input):
    """Everything the engine needs; the public estimate API takes exactly these fields.

    Types and single-field limits are checked here; what depends on several fields or on the
    dated rules (the period's length, the manual amount's maximum, ranges within the period)
    by check() and calculate(), which report every problem at its field."""

    benefit_type: BenefitType
    start_date: date
    end_date: date
    monthly_pay: MonthlyAmount | None = None
    indirect_labour_costs: MonthlyAmount = ZERO
    vacation_money: MonthlyAmount = ZERO
    state_aid_max_percentage: Percent | None = None
    pay_subsidies: list[PaySubsidy] = Field(default_factory=list, max_length=MAXIMUM_ROWS)
    training_compensations: list[TrainingCompensation] = Field(
        default_factory=list, max_length=MAXIMUM_ROWS
    )
    apprenticeship: bool = False
    override_monthly_benefit_amount: Euros | None = None
    instalments_enabled: bool = False


# --- Problems ------------------------------------------------------------------------------------

# The engine's own error types, in the user's language through app.forms (the core types it
# also uses, "missing" and "employment_dates_order", have their messages there).
MESSAGES: dict[str, str] = {
    "calculator_range_too_long": N_(
        "The period must be shorter than %(months)s months: enter an end date before %(limit)s."
    ),
    "calculator_override_max": N_("Enter a monthly amount of at most %(max)s €."),
    "calculator_outside_period": N_("The dates must be within the benefit period."),
    "calculator_overlap": N_("The periods must not overlap."),
    "calculator_training_needs_apprenticeship": N_(
        "Training compensation is deducted only in an apprenticeship: tick the apprenticeship "
        "or remove the training compensation."
    ),
    "calculator_rules_not_in_force": N_("No calculation rules are in force on %(date)s."),
    "decimal_max_places": N_("Enter a number with at most %(decimal_places)s decimals."),
}
forms.MESSAGES.update(MESSAGES)


class CalculationError(ValueError):
    """The input cannot be calculated; `errors` are in Pydantic's error shape (type, loc, msg,
    input, ctx), one per problem at its field, so the API answers 422 and a page shows each
    message at its field."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))


def _problem(
    loc: tuple[str | int, ...], kind: str, msg: str, value: Any, **ctx: str
) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value, "ctx": ctx}


# --- The dated rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleValue:
    """One rule value a calculation used: its name, value, the day it took effect and its source."""

    name: str
    value: Any
    effective_from: date
    source: str


@cache
def _histories() -> dict[str, tuple[list[date], list[str]]]:
    """(effective_from days, sources) of each parameter of subsidies.yaml, in file order.

    app.rules serves the values (validated, typed); the day and source of the entry in force
    are read from the same file here, as the loader reads it."""
    content = read_yaml(RULES_DIR / f"{RULES_FILE}.yaml")
    return {
        name: (
            [entry["effective_from"] for entry in parameter["values"]],
            [" ".join(str(entry["source"]).split()) for entry in parameter["values"]],
        )
        for name, parameter in content.items()
    }


@lru_cache(maxsize=4096)
def rule_value(name: str, on: date) -> RuleValue:
    """The parameter `subsidies.<name>` in force on `on` (RuleMissing when none is)."""
    full_name = f"{RULES_FILE}.{name}"
    value = rules.value(full_name, on)  # validates the file first; RuleMissing if none in force
    days, sources = _histories()[name]
    index = bisect_right(days, on) - 1
    return RuleValue(full_name, value, days[index], sources[index])


class _Rules:
    """The rules in force on one day, remembering each value asked for."""

    __slots__ = ("on", "used")

    def __init__(self, on: date) -> None:
        self.on = on
        self.used: dict[str, RuleValue] = {}

    def __call__(self, name: str) -> Any:
        found = rule_value(name, self.on)
        self.used.setdefault(found.name, found)
        return found.value

    def optional(self, name: str) -> Any | None:
        """The value, or None when the parameter has none in force yet (it is then not used)."""
        try:
            return self(name)
        except RuleMissing:
            return None


# --- Output --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenefitRow:
    """The benefit of one sub-period: months (two decimals) × monthly amount = amount."""

    start_date: date
    end_date: date
    months: Decimal
    monthly_amount: Decimal
    amount: Decimal


# The Finnish descriptions of the handler's calculation rows, as the city's service words them.
DESCRIPTIONS_FI = {
    "salary_costs": "Palkkauskustannukset",
    "state_aid_max_monthly": "Valtiotukimaksimi",
    "date_range": "Ajalta",
    "deductions_heading": "Vähennettävät korvaukset / kk",
    "pay_subsidy_monthly": "Palkkatuki tai yli 55-vuotiaan tuki",
    "training_compensation_monthly": "Oppisopimuksen koulutuskorvaus",
    "deductions_total": "Vähennykset yhteensä",
    "benefit_monthly": "Helsinki-lisä / kk",
    "manual_monthly": "Helsinki-lisä / kk (käsin syötetty)",
    "benefit_sub_total": "Yhteensä ajanjaksolta",
    "total_range": "Koko ajalta",
    "benefit_total": "Helsinki-lisä yhteensä",
}


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One line of the calculation as the handler sees it (yjdh's RowType): salary_costs,
    state_aid_max_monthly, date_range, deductions_heading, pay_subsidy_monthly,
    training_compensation_monthly, deductions_total, benefit_monthly (manual_monthly for an
    amount entered by hand), benefit_sub_total, total_range, benefit_total."""

    kind: str
    amount: Decimal | None = None
    start_date: date | None = None
    end_date: date | None = None
    months: Decimal | None = None

    @property
    def description_fi(self) -> str:
        """The row's Finnish description ("Ajalta 10.7.2023 - 10.9.2023 (2,03 kk)")."""
        text = DESCRIPTIONS_FI[self.kind]
        if self.kind in ("date_range", "total_range") and self.start_date and self.end_date:
            months = _fi_number(self.months or Decimal(0))
            return f"{text} {_fi_date(self.start_date)} - {_fi_date(self.end_date)} ({months} kk)"
        return text


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    amount: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class CalculationResult:
    total: Decimal
    rows: tuple[BenefitRow, ...]
    trace: tuple[TraceRow, ...]
    instalments: tuple[Instalment, ...]
    rules: tuple[RuleValue, ...]
    calculator: str  # salary_benefit | employment_benefit | manual_override
    calculation_date: date
    monthly_max: Decimal | None = None  # the salary benefit's cap a month


# --- Checks ----------------------------------------------------------------------------------------


def _rows_problems(
    name: str, items: Sequence[PaySubsidy | TrainingCompensation], period: tuple[date, date] | None
) -> list[dict[str, Any]]:
    if not items:
        return []
    problems: list[dict[str, Any]] = []
    valid: list[tuple[int, date, date]] = []
    for index, item in enumerate(items):
        if item.end_date < item.start_date:
            problems.append(
                _problem(
                    (name, index, "end_date"),
                    "employment_dates_order",
                    "The end date is before the start date",
                    item.end_date.isoformat(),
                )
            )
            continue
        if period is not None:
            outside = False
            if item.start_date < period[0]:
                problems.append(
                    _problem(
                        (name, index, "start_date"),
                        "calculator_outside_period",
                        "The dates must be within the benefit period",
                        item.start_date.isoformat(),
                    )
                )
                outside = True
            if item.end_date > period[1]:
                problems.append(
                    _problem(
                        (name, index, "end_date"),
                        "calculator_outside_period",
                        "The dates must be within the benefit period",
                        item.end_date.isoformat(),
                    )
                )
                outside = True
            if outside:
                continue
        valid.append((index, item.start_date, item.end_date))
    latest_end: date | None = None
    for index, start, end in sorted(valid, key=lambda row: (row[1], row[2], row[0])):
        if latest_end is not None and start <= latest_end:
            problems.append(
                _problem(
                    (name, index, "start_date"),
                    "calculator_overlap",
                    "The periods overlap",
                    start.isoformat(),
                )
            )
        latest_end = end if latest_end is None else max(latest_end, end)
    return problems


def _problems(data: CalculationInput, used: _Rules) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    period: tuple[date, date] | None = None
    if data.end_date < data.start_date:
        problems.append(
            _problem(
                ("end_date",),
                "employment_dates_order",
                "The end date is before the start date",
                data.end_date.isoformat(),
            )
        )
    else:
        period = (data.start_date, data.end_date)
        limit_months = used("calculation_range_max_months")
        limit = add_months(data.start_date, limit_months)
        if data.end_date >= limit:
            problems.append(
                _problem(
                    ("end_date",),
                    "calculator_range_too_long",
                    f"The period must be shorter than {limit_months} months",
                    data.end_date.isoformat(),
                    months=str(limit_months),
                    limit=_fi_date(limit),
                )
            )
    manual = data.override_monthly_benefit_amount is not None
    if manual:
        highest = used("manual_override_monthly_max")
        amount = data.override_monthly_benefit_amount
        if amount is not None and amount > highest:
            problems.append(
                _problem(
                    ("override_monthly_benefit_amount",),
                    "calculator_override_max",
                    f"The monthly amount may be at most {highest}",
                    str(amount),
                    max=_fi_number(highest),
                )
            )
    elif data.benefit_type == "salary_benefit":
        for name in ("monthly_pay", "state_aid_max_percentage"):
            if getattr(data, name) is None:
                problems.append(_problem((name,), "missing", "Field required", None))
    problems += _rows_problems("pay_subsidies", data.pay_subsidies, period)
    problems += _rows_problems("training_compensations", data.training_compensations, period)
    if data.training_compensations and not data.apprenticeship:
        problems.append(
            _problem(
                ("training_compensations",),
                "calculator_training_needs_apprenticeship",
                "Training compensation needs an apprenticeship",
                None,
            )
        )
    return problems


def _rules_missing(on: date, explicit: bool) -> CalculationError:
    return CalculationError(
        [
            _problem(
                ("calculation_date",) if explicit else ("start_date",),
                "calculator_rules_not_in_force",
                f"No calculation rules are in force on {on.isoformat()}",
                on.isoformat(),
                date=_fi_date(on),
            )
        ]
    )


def check(data: CalculationInput, *, calculation_date: date | None = None) -> list[dict[str, Any]]:
    """Every problem that stops calculate() (an empty list when it can calculate)."""
    on = calculation_date or data.start_date
    try:
        return _problems(data, _Rules(on))
    except RuleMissing:
        return _rules_missing(on, calculation_date is not None).errors


# --- The calculators --------------------------------------------------------------------------


def _merged(subsidies: Iterable[PaySubsidy], default_work_time: Any) -> list[PaySubsidy]:
    """Adjacent subsidies with the same terms are one (yjdh merge_compatible_subsidies), so the
    period is not split, and its months not rounded, where nothing changes."""
    merged: list[PaySubsidy] = []
    for subsidy in sorted(subsidies, key=lambda s: s.start_date):
        if merged:
            last = merged[-1]
            same = last.pay_subsidy_percent == subsidy.pay_subsidy_percent and (
                subsidy.pay_subsidy_percent != 100
                or (last.work_time_percent or default_work_time())
                == (subsidy.work_time_percent or default_work_time())
            )
            if same and last.end_date + timedelta(days=1) >= subsidy.start_date:
                merged[-1] = last.model_copy(
                    update={"end_date": max(last.end_date, subsidy.end_date)}
                )
                continue
        merged.append(subsidy)
    return merged


_Item = TypeVar("_Item", PaySubsidy, TrainingCompensation)


def _in_effect(items: Sequence[_Item], day: date) -> _Item | None:
    for item in items:
        if item.start_date <= day <= item.end_date:
            return item
    return None


def _pay_subsidy_deduction(subsidy: PaySubsidy, monthly_pay: Decimal, used: _Rules) -> Decimal:
    """§3.3 step 4: 50/70 %: min(cap, percent × pay); 100 %: min(cap, pay / work-time fraction
    × 0.65 × 1.23). Since 1.7.2023 holiday pay and indirect costs are not part of the base."""
    cap: Decimal = used(f"pay_subsidy_monthly_cap_{subsidy.pay_subsidy_percent}")
    if subsidy.pay_subsidy_percent == 100:
        work_time = subsidy.work_time_percent
        if work_time is None:
            work_time = Decimal(used("pay_subsidy_default_work_time_percent"))
        share = Decimal(used("pay_subsidy_100_max_work_time_percent")) / HUNDRED
        coefficient = Decimal(used("pay_subsidy_100_gross_wage_coefficient_percent")) / HUNDRED
        amount = monthly_pay / (work_time / HUNDRED) * share * coefficient
    else:
        amount = Decimal(subsidy.pay_subsidy_percent) / HUNDRED * monthly_pay
    return round_cents(min(cap, amount))


def _salary_benefit(
    data: CalculationInput, used: _Rules
) -> tuple[list[BenefitRow], list[TraceRow], Decimal]:
    """The salary benefit, rules from 1.7.2023 (§3.3)."""
    monthly_pay = data.monthly_pay or ZERO
    salary_costs = monthly_pay + data.indirect_labour_costs + data.vacation_money
    state_aid_max = round_cents(
        salary_costs * Decimal(data.state_aid_max_percentage or 0) / HUNDRED
    )
    highest: Decimal | None = None
    if data.instalments_enabled and not data.pay_subsidies:
        # The higher cap exists only with payment in instalments, and only once in force.
        highest = used.optional("salary_benefit_monthly_max_without_pay_subsidy")
    if highest is None:
        highest = used("salary_benefit_monthly_max")
    trace = [
        TraceRow("salary_costs", round_cents(salary_costs)),
        TraceRow("state_aid_max_monthly", state_aid_max),
    ]
    subsidies: list[PaySubsidy] = data.pay_subsidies
    if len(subsidies) > 1:

        def default_work_time() -> Decimal:
            return Decimal(used("pay_subsidy_default_work_time_percent"))

        subsidies = _merged(subsidies, default_work_time)
    compensations = data.training_compensations
    if len(compensations) > 1:
        compensations = sorted(compensations, key=lambda t: t.start_date)
    start, end = data.start_date, data.end_date
    change_days = {start, end + ONE_DAY}
    items: list[PaySubsidy | TrainingCompensation] = [*subsidies, *compensations]
    for item in items:
        if item.start_date > start:
            change_days.add(item.start_date)
        if item.end_date < end:
            change_days.add(item.end_date + ONE_DAY)
    days = sorted(change_days)
    several = len(days) > 2
    rows: list[BenefitRow] = []
    append = trace.append
    for range_start, next_start in pairwise(days):
        range_end = next_start - ONE_DAY
        months = round_months(months_between(range_start, range_end))
        if several:
            append(TraceRow("date_range", None, range_start, range_end, months))
        subsidy = _in_effect(subsidies, range_start) if subsidies else None
        compensation = _in_effect(compensations, range_start) if compensations else None
        if compensation is not None and compensation.monthly_amount <= 0:
            compensation = None
        deductions = ZERO
        if subsidy is not None or compensation is not None:
            append(TraceRow("deductions_heading"))
        if subsidy is not None:
            pay_subsidy = _pay_subsidy_deduction(subsidy, monthly_pay, used)
            append(TraceRow("pay_subsidy_monthly", pay_subsidy))
            deductions += pay_subsidy
        if compensation is not None:
            training = round_cents(compensation.monthly_amount)
            append(TraceRow("training_compensation_monthly", training))
            deductions += training
        if subsidy is not None and compensation is not None:
            append(TraceRow("deductions_total", deductions))
        monthly = round_euros(max(ZERO, min(highest, state_aid_max - deductions)))
        append(TraceRow("benefit_monthly", monthly))
        amount = round_euros(months * monthly)
        rows.append(BenefitRow(range_start, range_end, months, monthly, amount))
        if several:
            append(TraceRow("benefit_sub_total", amount, range_start, range_end, months))
    total = sum([row.amount for row in rows], ZERO)
    whole_months = rows[0].months if not several else round_months(months_between(start, end))
    if several:
        append(TraceRow("total_range", None, start, end, whole_months))
    append(TraceRow("benefit_total", total, start, end, whole_months))
    return rows, trace, highest


def _flat_benefit(
    data: CalculationInput, monthly: Decimal, kind: str
) -> tuple[list[BenefitRow], list[TraceRow]]:
    """A flat monthly amount × the period's unrounded months, rounded to euros (§3.4)."""
    months = months_between(data.start_date, data.end_date)
    total = round_euros(months * monthly)
    shown = round_months(months)
    row = BenefitRow(data.start_date, data.end_date, shown, round_cents(monthly), total)
    trace = [
        TraceRow(kind, round_cents(monthly)),
        TraceRow("benefit_total", total, data.start_date, data.end_date, shown),
    ]
    return [row], trace


def _instalments(total: Decimal, start: date, on: date, used: _Rules) -> list[Instalment]:
    """§3.6: up to the threshold one instalment, due on the calculation date; above it the first
    instalment's amount then, and the rest months after the start (never before the first)."""
    threshold: Decimal = used("instalment_threshold")
    if total <= threshold:
        return [Instalment(1, total, on)]
    first: Decimal = used("first_instalment_amount")
    months: int = used("second_instalment_due_months")
    return [
        Instalment(1, first, on),
        Instalment(2, total - first, max(add_months(start, months), on)),
    ]


def calculate(data: CalculationInput, *, calculation_date: date | None = None) -> CalculationResult:
    """The benefit for `data` under the rules in force on `calculation_date` (default: the
    period's start). Raises CalculationError with every problem at its field."""
    on = calculation_date or data.start_date
    used = _Rules(on)
    try:
        problems = _problems(data, used)
        if problems:
            raise CalculationError(problems)
        highest: Decimal | None = None
        if data.override_monthly_benefit_amount is not None:
            kind = "manual_override"
            rows, trace = _flat_benefit(
                data, data.override_monthly_benefit_amount, "manual_monthly"
            )
        elif data.benefit_type == "salary_benefit":
            kind = "salary_benefit"
            rows, trace, highest = _salary_benefit(data, used)
        else:
            kind = "employment_benefit"
            rows, trace = _flat_benefit(
                data, used("employment_benefit_monthly_amount"), "benefit_monthly"
            )
        total = sum((row.amount for row in rows), ZERO)
        instalments = _instalments(total, data.start_date, on, used)
    except RuleMissing:
        raise _rules_missing(on, calculation_date is not None) from None
    return CalculationResult(
        total=total,
        rows=tuple(rows),
        trace=tuple(trace),
        instalments=tuple(instalments),
        rules=tuple(used.used.values()),
        calculator=kind,
        calculation_date=on,
        monthly_max=highest,
    )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def rule_text(value: Any) -> str:
    """A rule value as the API writes it: money with cents ("800.00"), integers as digits."""
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def result_json(result: CalculationResult) -> dict[str, Any]:
    """The result as JSON-ready data: money and months as decimal strings, ISO dates."""
    return {
        "calculator": result.calculator,
        "calculation_date": result.calculation_date.isoformat(),
        "total": _money(result.total),
        "monthly_max": _money(result.monthly_max),
        "rows": [
            {
                "start_date": row.start_date.isoformat(),
                "end_date": row.end_date.isoformat(),
                "months": f"{row.months:.2f}",
                "monthly_amount": _money(row.monthly_amount),
                "amount": _money(row.amount),
            }
            for row in result.rows
        ],
        "trace": [
            {
                "kind": row.kind,
                "description_fi": row.description_fi,
                "amount": _money(row.amount),
                "start_date": row.start_date.isoformat() if row.start_date else None,
                "end_date": row.end_date.isoformat() if row.end_date else None,
                "months": None if row.months is None else f"{row.months:.2f}",
            }
            for row in result.trace
        ],
        "instalments": [
            {
                "number": instalment.number,
                "amount": _money(instalment.amount),
                "due_date": instalment.due_date.isoformat(),
            }
            for instalment in result.instalments
        ],
        "rules": [
            {
                "name": rule.name,
                "value": rule_text(rule.value),
                "effective_from": rule.effective_from.isoformat(),
                "source": rule.source,
            }
            for rule in result.rules
        ],
    }


# --- Former benefits and the limits (H45) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EarlierPeriod:
    """An earlier benefit of the same employee at the same company (an accepted application or a
    benefit recorded by staff)."""

    start_date: date
    end_date: date
    apprenticeship: bool = False


@dataclass(frozen=True, slots=True)
class LimitWarning:
    """A warning for the handler, not a refusal. `message` is a message id; `params` are already
    written the Finnish way, as every language of the service writes numbers and dates."""

    code: str  # months_limit | waiting_period | overlap
    message: str
    params: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The warning in the current language."""
        return gettext(self.message) % dict(self.params)


@dataclass(frozen=True, slots=True)
class FormerBenefits:
    months_used: Decimal  # two decimals
    months_remaining: Decimal | None  # None: no limit (an apprenticeship)
    last_possible_end_date: date | None  # None: no limit, or nothing remains
    warnings: tuple[LimitWarning, ...]
    counted: tuple[EarlierPeriod, ...]  # the earlier periods in the current chain, newest first
    rules: tuple[RuleValue, ...]


LIMIT_MESSAGES = {
    "months_limit": N_(
        "The benefit can be granted for at most %(max_months)s months to the same employee at "
        "the same employer. %(months_used)s months have been used, so %(months_remaining)s "
        "months remain: the period should end by %(last_end)s."
    ),
    "months_limit_used": N_(
        "The benefit can be granted for at most %(max_months)s months to the same employee at "
        "the same employer, and %(months_used)s months have been used."
    ),
    "waiting_period": N_(
        "The benefit cannot be granted before the %(waiting_months)s-month waiting period after "
        "the latest benefit (ended %(latest_end)s) expires: a new benefit can start on "
        "%(earliest_start)s at the earliest."
    ),
    "overlap": N_(
        "There is already an accepted benefit for an overlapping period (%(start)s–%(end)s)."
    ),
}


def _chain(
    earlier: Sequence[EarlierPeriod], start: date, end: date, waiting: int
) -> list[EarlierPeriod]:
    """The earlier periods that still count (yjdh benefit_aggregation): starting by the new
    period's end, newest first, back to the first gap longer than the waiting period; none if
    the newest ended more than the waiting period before the new start."""
    past = sorted(
        (p for p in earlier if p.start_date <= end),
        key=lambda p: (p.start_date, p.end_date),
        reverse=True,
    )
    if not past or add_months(past[0].end_date, waiting) < start:
        return []
    chain = [past[0]]
    for newer, older in pairwise(past):
        if add_months(older.end_date, waiting) < newer.start_date:
            break
        chain.append(older)
    return chain


def _last_end(start: date, months: Decimal) -> date | None:
    """The latest end date with at most `months` months from `start` (None if not even a day)."""
    target = months * THIRTY
    end = start + timedelta(days=int(target * Decimal("1.1")) + 5)
    while end >= start:
        if days360(start, end + timedelta(days=1)) <= target:
            return end
        end -= timedelta(days=1)
    return None


def former_benefits(
    *,
    earlier: Sequence[EarlierPeriod],
    start_date: date,
    end_date: date,
    apprenticeship: bool = False,
    on: date | None = None,
) -> FormerBenefits:
    """H45: how much of the 12-month limit the employee's earlier benefits at the same company
    use, what remains for the new period `start_date`..`end_date`, and warnings: the limit
    (with the waiting period after which it starts again), and overlapping accepted periods.

    An apprenticeship has no limit (the earlier periods still show as used, and overlaps still
    warn). Every earlier period counts toward the limit, apprenticeships too, as in the city's
    service. The limits in force on `on` (default: the new period's start) apply."""
    used = _Rules(on or start_date)
    max_months = int(used("benefit_max_months"))
    waiting = int(used("benefit_waiting_period_months"))
    chain = _chain(earlier, start_date, end_date, waiting)
    warnings: list[LimitWarning] = []
    for period in sorted(chain, key=lambda p: p.start_date):
        if period.start_date <= end_date and start_date <= period.end_date:
            warnings.append(
                LimitWarning(
                    "overlap",
                    LIMIT_MESSAGES["overlap"],
                    {"start": _fi_date(period.start_date), "end": _fi_date(period.end_date)},
                )
            )
    months_used = sum((months_between(p.start_date, p.end_date) for p in chain), Decimal(0))
    remaining: Decimal | None = None
    last_end: date | None = None
    if not apprenticeship:
        remaining = max(Decimal(0), Decimal(max_months) - months_used)
        last_end = _last_end(start_date, remaining) if remaining > 0 else None
        if months_between(start_date, end_date) > remaining:
            params = {
                "max_months": str(max_months),
                "months_used": _fi_number(round_months(months_used)),
                "months_remaining": _fi_number(round_months(remaining)),
                "last_end": _fi_date(last_end) if last_end else "",
            }
            code = "months_limit" if last_end else "months_limit_used"
            warnings.append(LimitWarning("months_limit", LIMIT_MESSAGES[code], params))
            latest_end = max(p.end_date for p in chain) if chain else None
            if latest_end is not None:
                earliest = add_months(latest_end, waiting) + timedelta(days=1)
                warnings.append(
                    LimitWarning(
                        "waiting_period",
                        LIMIT_MESSAGES["waiting_period"],
                        {
                            "waiting_months": str(waiting),
                            "latest_end": _fi_date(latest_end),
                            "earliest_start": _fi_date(earliest),
                        },
                    )
                )
    return FormerBenefits(
        months_used=round_months(months_used),
        months_remaining=None if remaining is None else round_months(remaining),
        last_possible_end_date=last_end,
        warnings=tuple(warnings),
        counted=tuple(chain),
        rules=tuple(used.used.values()),
    )
