"""The Helsinki-lisä calculator: the city's worked examples as YAML cases (calculator_cases.yaml),
exactly to the euro, and properties that hold for any input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.rules import read_yaml
from app.subsidies import calculator
from app.subsidies.calculator import (
    CalculationError,
    CalculationInput,
    EarlierPeriod,
    add_months,
    calculate,
    check,
    days360,
    former_benefits,
    months_between,
    result_json,
    round_euros,
)

CASES = read_yaml(Path(__file__).with_name("calculator_cases.yaml"))


def cases(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in CASES if case["kind"] == kind]


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def test_every_case_has_a_known_kind_and_a_unique_name() -> None:
    kinds = {"months", "calculation", "invalid", "former_benefits"}
    assert {case["kind"] for case in CASES} <= kinds
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", cases("months"))
def test_months(case: dict[str, Any]) -> None:
    months = months_between(case["start"], case["end"])
    assert money(calculator.round_months(months)) == case["months"]


@pytest.mark.parametrize("case", cases("calculation"))
def test_calculation(case: dict[str, Any]) -> None:
    result = calculate(
        CalculationInput.model_validate(case["input"]),
        calculation_date=case.get("calculation_date"),
    )
    expected = case["expected"]
    assert money(result.total) == expected["total"]
    assert result.total == sum((row.amount for row in result.rows), Decimal(0))
    if "rows" in expected:
        assert [
            [
                row.start_date,
                row.end_date,
                money(row.months),
                money(row.monthly_amount),
                money(row.amount),
            ]
            for row in result.rows
        ] == expected["rows"]
    if "instalments" in expected:
        assert [[money(i.amount), i.due_date] for i in result.instalments] == expected[
            "instalments"
        ]
    for kind, amount in expected.get("trace", {}).items():
        first = next(row for row in result.trace if row.kind == kind)
        assert money(first.amount) == amount, kind
    used = {rule.name for rule in result.rules}
    assert set(expected.get("rules", [])) <= used


def _error_keys(errors: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(*error["loc"], error["type"]) for error in errors}


@pytest.mark.parametrize("case", cases("invalid"))
def test_invalid(case: dict[str, Any]) -> None:
    expected = {tuple(error) for error in case["errors"]}
    on = case.get("calculation_date")
    try:
        data = CalculationInput.model_validate(case["input"])
    except ValidationError as exc:
        found = [dict(error) for error in exc.errors()]
    else:
        with pytest.raises(CalculationError) as raised:
            calculate(data, calculation_date=on)
        found = raised.value.errors
        # check() finds the same problems without calculating.
        assert _error_keys(check(data, calculation_date=on)) == expected
    assert _error_keys(found) == expected


@pytest.mark.parametrize("case", cases("former_benefits"))
def test_former_benefits(case: dict[str, Any]) -> None:
    found = former_benefits(
        earlier=[
            EarlierPeriod(start, end, apprenticeship)
            for start, end, apprenticeship in case["earlier"]
        ],
        start_date=case["start"],
        end_date=case["end"],
        apprenticeship=case.get("apprenticeship", False),
        on=case.get("on"),
    )
    expected = case["expected"]
    assert money(found.months_used) == expected["months_used"]
    assert money(found.months_remaining) == expected["months_remaining"]
    assert found.last_possible_end_date == expected["last_possible_end_date"]
    assert [warning.code for warning in found.warnings] == expected["warnings"]
    for warning in found.warnings:
        assert "%(" not in warning.text()
    assert {rule.name for rule in found.rules} == {
        "subsidies.benefit_max_months",
        "subsidies.benefit_waiting_period_months",
    }


# --- Details -------------------------------------------------------------------------------------


def test_rules_used_are_exactly_the_values_looked_up() -> None:
    """Every rule value of the result, with the day it took effect and its source; nothing else."""
    result = calculate(
        CalculationInput(
            benefit_type="salary_benefit",
            start_date=date(2023, 9, 1),
            end_date=date(2023, 10, 31),
            monthly_pay=Decimal("2500.00"),
            indirect_labour_costs=Decimal("200.00"),
            state_aid_max_percentage=100,
            pay_subsidies=[
                calculator.PaySubsidy(
                    start_date=date(2023, 9, 1), end_date=date(2023, 10, 31), pay_subsidy_percent=70
                )
            ],
        )
    )
    assert [(rule.name, rule.value, rule.effective_from) for rule in result.rules] == [
        ("subsidies.calculation_range_max_months", 24, date(2023, 7, 1)),
        ("subsidies.salary_benefit_monthly_max", Decimal("800.00"), date(2023, 7, 1)),
        ("subsidies.pay_subsidy_monthly_cap_70", Decimal("1770.00"), date(2023, 7, 1)),
        ("subsidies.instalment_threshold", Decimal("9600.00"), date(2023, 7, 1)),
    ]
    assert all(rule.source for rule in result.rules)
    assert "SALARY_BENEFIT_MAX" in result.rules[1].source


def test_the_trace_reads_like_the_handlers_calculation() -> None:
    """H37's split calculation row by row, with the Finnish descriptions of the city's service."""
    result = calculate(
        CalculationInput.model_validate(
            {
                "benefit_type": "salary_benefit",
                "start_date": "2023-07-10",
                "end_date": "2023-11-10",
                "monthly_pay": "3200",
                "indirect_labour_costs": "200",
                "state_aid_max_percentage": 100,
                "pay_subsidies": [
                    {
                        "start_date": "2023-07-10",
                        "end_date": "2023-09-10",
                        "pay_subsidy_percent": 70,
                    }
                ],
            }
        )
    )
    assert [(row.kind, row.description_fi, money(row.amount)) for row in result.trace] == [
        ("salary_costs", "Palkkauskustannukset", "3400.00"),
        ("state_aid_max_monthly", "Valtiotukimaksimi", "3400.00"),
        ("date_range", "Ajalta 10.7.2023 - 10.9.2023 (2,03 kk)", None),
        ("deductions_heading", "Vähennettävät korvaukset / kk", None),
        ("pay_subsidy_monthly", "Palkkatuki tai yli 55-vuotiaan tuki", "1770.00"),
        ("benefit_monthly", "Helsinki-lisä / kk", "800.00"),
        ("benefit_sub_total", "Yhteensä ajanjaksolta", "1624.00"),
        ("date_range", "Ajalta 11.9.2023 - 10.11.2023 (2,00 kk)", None),
        ("benefit_monthly", "Helsinki-lisä / kk", "800.00"),
        ("benefit_sub_total", "Yhteensä ajanjaksolta", "1600.00"),
        ("total_range", "Koko ajalta 10.7.2023 - 10.11.2023 (4,03 kk)", None),
        ("benefit_total", "Helsinki-lisä yhteensä", "3224.00"),
    ]


def test_result_json_writes_money_with_cents_and_iso_dates() -> None:
    result = calculate(
        CalculationInput(
            benefit_type="employment_benefit",
            start_date=date(2024, 1, 1),
            end_date=date(2024, 1, 31),
        )
    )
    data = result_json(result)
    assert data["total"] == "500.00"
    assert data["rows"] == [
        {
            "start_date": "2024-01-01",
            "end_date": "2024-01-31",
            "months": "1.00",
            "monthly_amount": "500.00",
            "amount": "500.00",
        }
    ]
    assert data["instalments"] == [{"number": 1, "amount": "500.00", "due_date": "2024-01-01"}]
    assert data["calculator"] == "employment_benefit"
    assert {rule["name"]: rule["value"] for rule in data["rules"]} == {
        "subsidies.calculation_range_max_months": "24",
        "subsidies.employment_benefit_monthly_amount": "500.00",
        "subsidies.instalment_threshold": "9600.00",
    }


def test_money_is_never_float() -> None:
    result = calculate(CalculationInput.model_validate(cases("calculation")[0].values[0]["input"]))
    values = [result.total, *[row.amount for row in result.rows]]
    values += [row.amount for row in result.trace if row.amount is not None]
    values += [instalment.amount for instalment in result.instalments]
    assert all(type(value) is Decimal for value in values)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 1, 1), 24, date(2027, 1, 1)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_days360_is_the_european_method() -> None:
    assert days360(date(2023, 1, 31), date(2023, 3, 31)) == 60
    assert days360(date(2023, 2, 28), date(2023, 3, 1)) == 3
    assert days360(date(2023, 1, 1), date(2024, 1, 1)) == 360


def test_the_calculation_range_limit_is_the_day_before_24_months() -> None:
    """H43: shorter than 24 months: 1.9.2023-31.8.2025 passes, 1.9.2025 does not."""

    def problems(end: date) -> list[dict[str, Any]]:
        return check(
            CalculationInput(
                benefit_type="employment_benefit", start_date=date(2023, 9, 1), end_date=end
            )
        )

    assert problems(date(2025, 8, 31)) == []
    assert [p["type"] for p in problems(date(2025, 9, 1))] == ["calculator_range_too_long"]
    assert problems(date(2025, 9, 1))[0]["ctx"] == {"months": "24", "limit": "1.9.2025"}


# --- Properties ------------------------------------------------------------------------------------

CENTS = st.integers(min_value=0, max_value=999_999).map(lambda cents: Decimal(cents) / 100)


@st.composite
def salary_inputs(draw: st.DrawFn) -> tuple[CalculationInput, date]:
    start = draw(st.dates(min_value=date(2023, 7, 1), max_value=date(2027, 12, 31)))
    end = start + timedelta(days=draw(st.integers(min_value=0, max_value=700)))
    subsidies = []
    cursor = start
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        first = cursor + timedelta(days=draw(st.integers(min_value=0, max_value=90)))
        last = first + timedelta(days=draw(st.integers(min_value=0, max_value=200)))
        if last > end:
            break
        subsidies.append(
            calculator.PaySubsidy(
                start_date=first,
                end_date=last,
                pay_subsidy_percent=draw(st.sampled_from([50, 70, 100])),
                work_time_percent=draw(
                    st.none()
                    | st.integers(min_value=100, max_value=10_000).map(lambda v: Decimal(v) / 100)
                ),
            )
        )
        cursor = last + timedelta(days=1)
    apprenticeship = draw(st.booleans())
    training = []
    if apprenticeship and draw(st.booleans()):
        training.append(
            calculator.TrainingCompensation(
                start_date=start, end_date=end, monthly_amount=draw(CENTS)
            )
        )
    data = CalculationInput(
        benefit_type="salary_benefit",
        start_date=start,
        end_date=end,
        monthly_pay=draw(CENTS),
        indirect_labour_costs=draw(CENTS),
        vacation_money=draw(CENTS),
        state_aid_max_percentage=draw(st.sampled_from([50, 70, 100])),
        pay_subsidies=subsidies,
        training_compensations=training,
        apprenticeship=apprenticeship,
        instalments_enabled=draw(st.booleans()),
    )
    calculation_date = start + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    return data, calculation_date


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(salary_inputs())
def test_any_salary_benefit_is_whole_euros_within_the_cap_and_paid_in_full(
    drawn: tuple[CalculationInput, date],
) -> None:
    data, calculation_date = drawn
    result = calculate(data, calculation_date=calculation_date)
    assert result.monthly_max is not None
    assert result.total >= 0
    assert result.total == round_euros(result.total)
    for row in result.rows:
        assert Decimal(0) <= row.monthly_amount <= result.monthly_max
        assert row.amount == round_euros(row.months * row.monthly_amount)
    # The rows cover the period day by day, without gaps or overlaps.
    assert result.rows[0].start_date == data.start_date
    assert result.rows[-1].end_date == data.end_date
    for earlier, later in zip(result.rows, result.rows[1:], strict=False):
        assert later.start_date == earlier.end_date + timedelta(days=1)
    assert sum((i.amount for i in result.instalments), Decimal(0)) == result.total
    assert all(i.amount >= 0 for i in result.instalments)
    assert result.instalments[0].due_date == calculation_date
    assert all(i.due_date >= result.instalments[0].due_date for i in result.instalments)
    # A pay subsidy keeps the cap at 800 whatever the instalments.
    if data.pay_subsidies or not data.instalments_enabled:
        assert result.monthly_max == Decimal("800.00")


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2023, 7, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=0, max_value=700),
    override=st.none()
    | st.integers(min_value=0, max_value=150_000).map(lambda c: Decimal(c) / 100),
)
def test_flat_benefits_are_never_negative_and_instalments_add_up(
    start: date, days: int, override: Decimal | None
) -> None:
    data = CalculationInput(
        benefit_type="employment_benefit",
        start_date=start,
        end_date=start + timedelta(days=days),
        override_monthly_benefit_amount=override,
    )
    result = calculate(data)
    assert result.total >= 0
    assert sum((i.amount for i in result.instalments), Decimal(0)) == result.total
    monthly = override if override is not None else Decimal("500.00")
    assert result.total == round_euros(months_between(data.start_date, data.end_date) * monthly)
    assert len(result.instalments) == (1 if result.total <= Decimal("9600") else 2)


@settings(max_examples=200, deadline=None)
@given(
    periods=st.lists(
        st.tuples(
            st.dates(min_value=date(2018, 1, 1), max_value=date(2025, 12, 31)),
            st.integers(min_value=0, max_value=400),
        ),
        max_size=4,
    ),
    start=st.dates(min_value=date(2023, 7, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=360),
)
def test_former_benefits_never_leave_more_than_12_months(
    periods: list[tuple[date, int]], start: date, days: int
) -> None:
    earlier = [EarlierPeriod(first, first + timedelta(days=length)) for first, length in periods]
    found = former_benefits(
        earlier=earlier, start_date=start, end_date=start + timedelta(days=days)
    )
    assert found.months_remaining is not None
    assert Decimal(0) <= found.months_remaining <= Decimal(12)
    assert found.months_used >= 0
    if found.last_possible_end_date is not None:
        months = months_between(start, found.last_possible_end_date)
        assert months <= found.months_remaining + Decimal("0.01")
        assert found.last_possible_end_date >= start
