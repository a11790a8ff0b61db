"""The public Helsinki-lisä estimate's contract (POST /api/v1/subsidies/estimate), shared by the
JSON API and the page: the body is the engine's own input, the answer the result's public part
(money and months as decimal strings with two decimals, dates ISO)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.subsidies import calculator

MONEY = Field(pattern=r"^-?\d+\.\d{2}$", examples=["1600.00"])


class EstimateIn(calculator.CalculationInput):
    """The employment and its subsidies. No personal data: no names, no identity codes.

    Money as decimal strings ("2500.00"; "2 500,00" is read too), dates ISO (2023-09-01).
    `monthly_pay` and `state_aid_max_percentage` are needed for the salary benefit unless
    `override_monthly_benefit_amount` is given. Pay subsidies and training compensations must
    lie within the period and not overlap; training compensation needs `apprenticeship`."""

    model_config = ConfigDict(title="EstimateIn")


class EstimateRowOut(BaseModel):
    start_date: date
    end_date: date
    months: str = Field(pattern=r"^\d+\.\d{2}$", examples=["2.03"])
    monthly_amount: str = MONEY
    amount: str = MONEY


class InstalmentOut(BaseModel):
    amount: str = MONEY
    due_date: date


class RuleOut(BaseModel):
    """A rule value the calculation used: money with cents ("800.00"), counts as digits ("24")."""

    name: str = Field(examples=["subsidies.salary_benefit_monthly_max"])
    value: str = Field(examples=["800.00"])
    effective_from: date
    source: str


class EstimateOut(BaseModel):
    """The estimated benefit: the total, the amount per sub-period, the instalments and the
    rule values used, with the day each took effect and its source."""

    total: str = MONEY
    rows: list[EstimateRowOut]
    instalments: list[InstalmentOut]
    rules: list[RuleOut]

    @classmethod
    def of(cls, result: calculator.CalculationResult) -> EstimateOut:
        data = calculator.result_json(result)
        return cls(
            total=data["total"],
            rows=[EstimateRowOut(**row) for row in data["rows"]],
            instalments=[
                InstalmentOut(amount=i["amount"], due_date=i["due_date"])
                for i in data["instalments"]
            ],
            rules=[RuleOut(**rule) for rule in data["rules"]],
        )


# Named examples for the OpenAPI document (the city's worked examples, helsinkilisa.md §3.5).
EXAMPLES: dict[str, Any] = {
    "salary_benefit": {
        "summary": "Salary benefit with a 70 % pay subsidy (1600 €)",
        "value": {
            "benefit_type": "salary_benefit",
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "monthly_pay": "2500.00",
            "indirect_labour_costs": "200.00",
            "vacation_money": "0.00",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
            ],
            "training_compensations": [],
            "apprenticeship": False,
            "override_monthly_benefit_amount": None,
            "instalments_enabled": False,
        },
    },
    "split_period": {
        "summary": "Pay subsidy for part of the period (1624 € + 1600 €)",
        "value": {
            "benefit_type": "salary_benefit",
            "start_date": "2023-07-10",
            "end_date": "2023-11-10",
            "monthly_pay": "3200.00",
            "indirect_labour_costs": "200.00",
            "vacation_money": "0.00",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {"start_date": "2023-07-10", "end_date": "2023-09-10", "pay_subsidy_percent": 70}
            ],
            "training_compensations": [],
            "apprenticeship": False,
            "override_monthly_benefit_amount": None,
            "instalments_enabled": False,
        },
    },
    "apprenticeship": {
        "summary": "Apprenticeship with a training compensation",
        "value": {
            "benefit_type": "salary_benefit",
            "start_date": "2024-02-08",
            "end_date": "2025-02-07",
            "monthly_pay": "1470.00",
            "indirect_labour_costs": "303.70",
            "vacation_money": "26.75",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {
                    "start_date": "2024-02-08",
                    "end_date": "2024-12-31",
                    "pay_subsidy_percent": 100,
                    "work_time_percent": "80",
                }
            ],
            "training_compensations": [
                {"start_date": "2024-02-08", "end_date": "2025-02-07", "monthly_amount": "200.00"}
            ],
            "apprenticeship": True,
            "override_monthly_benefit_amount": None,
            "instalments_enabled": False,
        },
    },
    "instalments": {
        "summary": "No pay subsidy, paid in instalments (18000 € = 9000 € + 9000 €)",
        "value": {
            "benefit_type": "salary_benefit",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
            "monthly_pay": "2500.00",
            "indirect_labour_costs": "200.00",
            "vacation_money": "0.00",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [],
            "training_compensations": [],
            "apprenticeship": False,
            "override_monthly_benefit_amount": None,
            "instalments_enabled": True,
        },
    },
    "employment_benefit": {
        "summary": "Employment benefit (500 € a month)",
        "value": {
            "benefit_type": "employment_benefit",
            "start_date": "2025-09-01",
            "end_date": "2025-10-15",
        },
    },
}

RESPONSE_EXAMPLE: dict[str, Any] = {
    "total": "3224.00",
    "rows": [
        {
            "start_date": "2023-07-10",
            "end_date": "2023-09-10",
            "months": "2.03",
            "monthly_amount": "800.00",
            "amount": "1624.00",
        },
        {
            "start_date": "2023-09-11",
            "end_date": "2023-11-10",
            "months": "2.00",
            "monthly_amount": "800.00",
            "amount": "1600.00",
        },
    ],
    "instalments": [{"amount": "3224.00", "due_date": "2026-11-24"}],
    "rules": [
        {
            "name": "subsidies.salary_benefit_monthly_max",
            "value": "800.00",
            "effective_from": "2023-07-01",
            "source": "helsinkilisa.md §3.1 and §3.3 (SALARY_BENEFIT_MAX, "
            "SalaryBenefitCalculator2023), checklist H39",
        }
    ],
}

VALIDATION_EXAMPLE: dict[str, Any] = {
    "detail": [
        {
            "loc": ["body", "end_date"],
            "msg": "The period must be shorter than 24 months: enter an end date before 1.9.2025.",
            "type": "calculator_range_too_long",
        },
        {
            "loc": ["body", "pay_subsidies", 0, "start_date"],
            "msg": "The dates must be within the benefit period.",
            "type": "calculator_outside_period",
        },
    ]
}
