"""Time to make and XSD-validate the bank file of a 10 000-payment batch (issue #7: < 3 s).

A tool, not a test. Builds the batch's items in memory (payee names with Finnish letters, IBANs,
some BICs and instalments), then times `app.payments.bank_file.bank_file` — sepaxml builds the
pain.001.001.03, our header fix makes it the same on every download, lxml validates it against
the XSD sepaxml ships — and, separately, the finance CSV. Prints the median and the slowest run.

    .venv/bin/python bench/bank_file.py                 # 10 000 payments, 5 runs
    .venv/bin/python bench/bank_file.py --items 20000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.payments.bank_file import PayerAccount, bank_file, finance_csv, validate
from app.payments.models import PaymentBatch, PaymentItem, Programme

TARGET_SECONDS = 3.0
PAYER = PayerAccount(
    name="Helsingin kaupunki", iban="FI2112345600000785", bic="NDEAFIHH", cost_centre="1800"
)
IBANS = ("FI4950009420028730", "FI2112345600000785", "FI5810171000000122", "FI1410093000123458")


def items(count: int) -> list[PaymentItem]:
    made = []
    for n in range(count):
        helsinki_lisa = n % 3 == 0
        made.append(
            PaymentItem(
                id=n + 1,
                programme=Programme.helsinki_lisa if helsinki_lisa else Programme.summer_voucher,
                instalment=1 + (n % 2 if helsinki_lisa else 0),
                instalments=2 if helsinki_lisa else 1,
                application_number=str(100_000 + n) if helsinki_lisa else f"KS-{n}",
                creditor_reference="RF18539007547034" if n % 7 == 0 else None,
                amount_cents=900_000 if helsinki_lisa else 35_000,
                decision_date=date(2026, 11, 20),
                due_date=date(2026, 11, 25),
                payee_name=f"Äänekosken Kahvila ja Leipomo Öljymäki Oy {n}",
                business_id="2956285-9",
                iban=IBANS[n % len(IBANS)],
                bic="OKOYFIHH" if n % 5 == 0 else None,
            )
        )
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    batch = PaymentBatch(
        id=1,
        status="exported",
        message_id="HEL20261125BENCH0001",
        created_by_id=1,
        created_by_name="bench",
        created_at=datetime(2026, 11, 25, 8, tzinfo=UTC),
        exported_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        execution_date=date(2026, 11, 25),
        item_count=args.items,
    )
    rows = items(args.items)
    bank_file(batch, rows[:10], PAYER)  # loads the XSD once, as a running worker has
    xml_times, csv_times = [], []
    size = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        xml = bank_file(batch, rows, PAYER)
        xml_times.append(time.perf_counter() - start)
        size = len(xml)
        start = time.perf_counter()
        finance_csv(batch, rows, PAYER)
        csv_times.append(time.perf_counter() - start)
    if validate(xml):
        print("the bank file does not pass the XSD", file=sys.stderr)
        return 1
    median = statistics.median(xml_times)
    print(f"bank file, {args.items} payments, {size / 1e6:.1f} MB, {args.runs} runs")
    print(f"  made + XSD-validated: median {median:.2f} s, slowest {max(xml_times):.2f} s")
    print(f"  finance CSV:          median {statistics.median(csv_times):.2f} s")
    verdict = "met" if median < TARGET_SECONDS else "NOT met"
    print(f"  target < {TARGET_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
