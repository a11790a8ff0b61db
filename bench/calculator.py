"""Calculations per second of the Helsinki-lisä engine (app/subsidies/calculator.py), in-process.

A tool, not a test. It runs the city's worked examples (helsinkilisa.md §3.5) and the other
calculators over and over for a few seconds each and prints how many calculations a second one
core does: the engine alone (inputs already validated), and with the input validated from a
JSON-like dict first, as the estimate API does. Target: at least 10 000 a second.

    .venv/bin/python bench/calculator.py                 # 2 s per case
    .venv/bin/python bench/calculator.py --seconds 5 --json /tmp/calculator.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.subsidies.calculator import CalculationInput, calculate

TARGET_PER_SECOND = 10_000
ON = date(2025, 1, 15)

CASES: dict[str, dict[str, Any]] = {
    "salary, one range (H33)": {
        "benefit_type": "salary_benefit",
        "start_date": "2023-09-01",
        "end_date": "2023-10-31",
        "monthly_pay": "2500.00",
        "indirect_labour_costs": "200.00",
        "state_aid_max_percentage": 100,
        "pay_subsidies": [
            {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
        ],
    },
    "salary, split (H37)": {
        "benefit_type": "salary_benefit",
        "start_date": "2023-07-10",
        "end_date": "2023-11-10",
        "monthly_pay": "3200.00",
        "indirect_labour_costs": "200.00",
        "state_aid_max_percentage": 100,
        "pay_subsidies": [
            {"start_date": "2023-07-10", "end_date": "2023-09-10", "pay_subsidy_percent": 70}
        ],
    },
    "apprenticeship, 100 % (H38-like)": {
        "benefit_type": "salary_benefit",
        "start_date": "2024-02-08",
        "end_date": "2025-02-07",
        "monthly_pay": "1470.00",
        "indirect_labour_costs": "303.70",
        "vacation_money": "26.75",
        "state_aid_max_percentage": 100,
        "apprenticeship": True,
        "pay_subsidies": [
            {
                "start_date": "2024-02-08",
                "end_date": "2024-06-30",
                "pay_subsidy_percent": 100,
                "work_time_percent": "80",
            },
            {"start_date": "2024-07-01", "end_date": "2024-12-31", "pay_subsidy_percent": 50},
        ],
        "training_compensations": [
            {"start_date": "2024-02-08", "end_date": "2025-02-07", "monthly_amount": "200.00"}
        ],
    },
    "instalments, 18000 in two": {
        "benefit_type": "salary_benefit",
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "monthly_pay": "2500.00",
        "indirect_labour_costs": "200.00",
        "state_aid_max_percentage": 100,
        "instalments_enabled": True,
    },
    "employment benefit": {
        "benefit_type": "employment_benefit",
        "start_date": "2024-09-01",
        "end_date": "2024-10-15",
    },
    "manual amount": {
        "benefit_type": "salary_benefit",
        "start_date": "2024-01-01",
        "end_date": "2024-06-30",
        "override_monthly_benefit_amount": "1000.00",
    },
}


def validate_and_calculate(raw: dict[str, Any]) -> object:
    return calculate(CalculationInput.model_validate(raw), calculation_date=ON)


def rate(work: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls a second over `seconds` (after a short warm-up), and the number of calls."""
    warm_until = time.perf_counter() + min(0.2, seconds / 4)
    while time.perf_counter() < warm_until:
        work()
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            work()
        calls += 100
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started), calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per case")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    print(
        f"Helsinki-lisä calculator, in-process ({platform.python_implementation()} "
        f"{platform.python_version()}, one core), {args.seconds:g} s per case"
    )
    print(f"{'case':36} {'engine /s':>11} {'validate+engine /s':>19} {'µs/calc':>8}")
    for name, raw in CASES.items():
        data = CalculationInput.model_validate(raw)
        total = calculate(data, calculation_date=ON).total
        engine, _ = rate(partial(calculate, data, calculation_date=ON), args.seconds)
        full, _ = rate(partial(validate_and_calculate, raw), args.seconds)
        rows.append({"case": name, "total": str(total), "engine_per_s": engine, "full_per_s": full})
        print(f"{name:36} {engine:>11,.0f} {full:>19,.0f} {1e6 / engine:>8.1f}")

    inputs = [CalculationInput.model_validate(raw) for raw in CASES.values()]

    def mixed() -> None:
        for data in inputs:
            calculate(data, calculation_date=ON)

    mix_rate, _ = rate(mixed, args.seconds)
    per_second = mix_rate * len(inputs)
    verdict = "meets" if per_second >= TARGET_PER_SECOND else "MISSES"
    print(f"{'all cases mixed':36} {per_second:>11,.0f}")
    print(
        f"Engine: {per_second:,.0f} calculations/s ({verdict} the target of "
        f"{TARGET_PER_SECOND:,}/s)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"cases": rows, "mixed_per_s": per_second, "target_per_s": TARGET_PER_SECOND},
                indent=2,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
