"""What an employer sees of the payments a decision owes, for the programmes' own pages.

The programmes do not import the payments package (it sits above them); it registers its reader
here when imported (app/payments/__init__.py), and a programme's page asks through `payments_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session


@dataclass(frozen=True)
class PaymentState:
    """One instalment: its amount and due date, and the day it was paid (None: not yet)."""

    instalment: int
    instalments: int
    amount: Decimal
    due_date: date
    paid_on: date | None


# reader(session, source, source_id) with source "subsidy_application" or "summer_voucher_claim"
Reader = Callable[[Session, str, int], list[PaymentState]]
_readers: list[Reader] = []


def register(reader: Reader) -> Reader:
    if reader not in _readers:
        _readers.append(reader)
    return reader


def payments_of(session: Session, source: str, source_id: int | None) -> list[PaymentState]:
    if source_id is None:
        return []
    return [state for reader in _readers for state in reader(session, source, source_id)]
