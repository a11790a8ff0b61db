"""How long the Helsinki-lisä decision letter takes to make (app/subsidies/decision_document.py),
in-process, without HTTP or a database.

A tool, not a test. It builds a realistic accepted decision (a year's salary benefit split by a
pay subsidy into two periods, payment in two instalments, de minimis statement, every rule
value used, the review instructions; two A4 pages) and renders the letter N times: the HTML
from the template, then the PDF with WeasyPrint, as deciding does. It prints the first render
(WeasyPrint's and the fonts' start-up) apart, then the median and p95 of the rest and whether
the median is under the issue's target of 300 ms. Deciding stores this PDF in the request.
Wall times grow with the machine's load; the CPU time of the process shows the work itself.

    .venv/bin/python bench/decision_pdf.py                    # 30 renders, Finnish
    .venv/bin/python bench/decision_pdf.py --runs 100 --language sv --json /tmp/decision.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.subsidies import calculator, decision_document
from app.subsidies.decision_document import CompanyPart, DecisionContent
from app.subsidies.models import Application

TARGET_MS = 300.0
CALCULATION_DATE = date(2025, 1, 15)
CASE: dict[str, Any] = {
    "benefit_type": "salary_benefit",
    "start_date": "2025-01-01",
    "end_date": "2025-12-31",
    "monthly_pay": "2500.00",
    "indirect_labour_costs": "200.00",
    "state_aid_max_percentage": 100,
    "instalments_enabled": True,
    "pay_subsidies": [
        {"start_date": "2025-01-01", "end_date": "2025-03-31", "pay_subsidy_percent": 50}
    ],
}


def realistic_content(language: str) -> DecisionContent:
    """An accepted decision as handling.decide stores it (the frozen calculation's shape)."""
    data = calculator.CalculationInput.model_validate(CASE)
    result = calculator.calculate(data, calculation_date=CALCULATION_DATE)
    frozen = {
        **calculator.result_json(result),
        "inputs": {
            "benefit_type": "salary_benefit",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
        },
    }
    application = Application(
        id=1,
        application_number=100_023,
        company_id=1,
        creator_id=1,
        language=language,
        status="accepted",
        company_name="Kahvila Esimerkki Oy",
        employee_first_name="Aino",
        employee_last_name="Virtanen",
        employee_hetu="010190-123F",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    return decision_document.compose(
        application=application,
        company=CompanyPart(name="Kahvila Esimerkki Oy", business_id="2956285-9"),
        decision="accepted",
        reason=None,
        granted_as_de_minimis_aid=True,
        calculation=frozen,
        decided_at=datetime(2025, 1, 20, 10, 30, tzinfo=UTC),
        decision_maker="Pekka Päättäjä",
    )


def timed(work: Any, cpu: list[float] | None = None) -> tuple[float, Any]:
    """Wall time of `work()` in ms (its CPU time appended to `cpu`), and its result."""
    started, started_cpu = time.perf_counter(), time.process_time()
    result = work()
    if cpu is not None:
        cpu.append((time.process_time() - started_cpu) * 1000)
    return (time.perf_counter() - started) * 1000, result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="renders to measure (after the first)")
    parser.add_argument("--language", choices=("fi", "sv", "en"), default="fi")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    runs = max(1, args.runs)
    load = os.getloadavg()

    content = realistic_content(args.language)
    first_ms, pdf = timed(lambda: decision_document.letter_pdf(content))
    html_ms: list[float] = []
    pdf_ms: list[float] = []
    pdf_cpu_ms: list[float] = []
    for _ in range(runs):
        html_time, html = timed(lambda: decision_document.letter_html(content))
        html_ms.append(html_time)
        total, pdf = timed(lambda: decision_document.letter_pdf(content), pdf_cpu_ms)
        pdf_ms.append(total)
    median = statistics.median(pdf_ms)
    print(
        f"Helsinki-lisä decision letter ({args.language}, {len(html) // 1024} KiB HTML, "
        f"{len(pdf) // 1024} KiB PDF), in-process ({platform.python_implementation()} "
        f"{platform.python_version()}, one core), {runs} renders"
    )
    print(f"{'':28} {'median ms':>10} {'p95 ms':>8} {'min ms':>8} {'max ms':>8}")
    for name, values in (("HTML (template)", html_ms), ("PDF (HTML + WeasyPrint)", pdf_ms)):
        print(
            f"{name:28} {statistics.median(values):>10.1f} {p95(values):>8.1f} "
            f"{min(values):>8.1f} {max(values):>8.1f}"
        )
    print(f"{'PDF, CPU time of the process':28} {statistics.median(pdf_cpu_ms):>10.1f}")
    print(f"{'first render (start-up)':28} {first_ms:>10.1f}")
    print(f"Load average before the run: {' '.join(f'{x:.2f}' for x in load)}")
    verdict = "meets" if median < TARGET_MS else "MISSES"
    print(f"Median {median:.1f} ms: {verdict} the target of under {TARGET_MS:.0f} ms")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "language": args.language,
                    "runs": runs,
                    "first_ms": first_ms,
                    "html_median_ms": statistics.median(html_ms),
                    "pdf_median_ms": median,
                    "pdf_p95_ms": p95(pdf_ms),
                    "pdf_cpu_median_ms": statistics.median(pdf_cpu_ms),
                    "target_ms": TARGET_MS,
                    "meets_target": median < TARGET_MS,
                },
                indent=2,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
