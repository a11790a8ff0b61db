"""The Helsinki-lisä applications handled in a date range, as the Excel file of the reports page
(helsinkilisa.md §4.4 "Full application CSV", §5.4; H67, H68).

Handled = decided (accepted or rejected) or cancelled, on a day of the range (Helsinki dates,
both days included): the decision's day, or the cancellation's. One row per payment period of
the frozen calculation (`Application.decided_calculation["rows"]`, as decided); an application
without periods (rejected, cancelled) gets one row with the period columns empty. Headers and
values are Finnish whatever the user's language; answers read kyllä / ei / ei valintaa. Money
is written as numbers (Decimal) with a euro format, dates as dates.

The file holds the employee's name and pay: every run is audited, an empty one too, with the
range and the row count (never the data). Session first, keyword arguments; never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app import audit
from app.auth.models import User
from app.companies.models import Company
from app.documents import xlsx
from app.i18n import N_
from app.payments.models import ItemStatus, PaymentItem
from app.security import Actor
from app.subsidies.models import Application, ApplicationStatus, BenefitType, Origin

S = ApplicationStatus
HELSINKI = xlsx.HELSINKI
CENT = Decimal("0.01")

DECIDED = (S.accepted, S.rejected)
HANDLED = (*DECIDED, S.cancelled)

EMPTY = N_("No applications matching the conditions were found.")
SHEET_TITLE = "Hakemukset"

YES, NO, NO_CHOICE = "kyllä", "ei", "ei valintaa"
STATUS_FI = {S.accepted: "Hyväksytty", S.rejected: "Hylätty", S.cancelled: "Peruttu"}
ORIGIN_FI = {Origin.applicant: "Hakija (sähköinen)", Origin.handler: "Käsittelijä (paperi)"}
BENEFIT_FI = {
    BenefitType.salary_benefit: "Palkan Helsinki-lisä",
    BenefitType.employment_benefit: "Työllistämisen Helsinki-lisä",
}

EURO, MONTHS = xlsx.EURO_FORMAT, xlsx.DECIMAL_FORMAT
C = xlsx.Column
COLUMNS: tuple[xlsx.Column, ...] = (
    C("Hakemusnumero", 14),
    C("Tila", 12),
    C("Hakemuksen alkuperä", 20),
    C("Tukimuoto", 26),
    C("Työnantajan nimi", 30),
    C("Y-tunnus", 11),
    C("Yhdistys", 10),
    C("Saanut de minimis -tukea", 12),
    C("Myönnetty de minimis -tukena", 12),
    C("Työntekijän nimi", 28),
    C("Asuu Helsingissä", 10),
    C("Palkka", 12, number_format=EURO),
    C("Sivukulut", 12, number_format=EURO),
    C("Lomaraha", 12, number_format=EURO),
    C("Palkka (laskelma)", 12, number_format=EURO),
    C("Sivukulut (laskelma)", 12, number_format=EURO),
    C("Lomaraha (laskelma)", 12, number_format=EURO),
    C("Palkkatuki", 10),
    C("Palkkatuki %", 10),
    C("Oppisopimus", 10),
    C("Valtiotukimaksimi %", 10),
    C("Haettu alkupäivä", 12),
    C("Haettu loppupäivä", 12),
    C("Jakso", 8),
    C("Jakson alku", 12),
    C("Jakson loppu", 12),
    C("Kuukausia", 10, number_format=MONTHS),
    C("Tuki kuukaudessa", 14, number_format=EURO),
    C("Jakson summa", 14, number_format=EURO),
    C("Käsin syötetty tuki kuukaudessa", 14, number_format=EURO),
    C("Käsin syötön perustelu", 30),
    C("Myönnetty yhteensä", 14, number_format=EURO),
    C("Vastaanotettu", 12),
    C("Käsittelijä", 24),
    C("Päättäjä", 24),
    C("Käsittelypäivä", 12),
    C("Päätöspäivä", 12),
    C("Päätöksen perustelu", 40),
    C("Peruutuksen syy", 30),
    C("Maksettu yhteensä", 14, number_format=EURO),
    C("Maksettu", 24),
)
HEADERS = tuple(c.title for c in COLUMNS)
PERIOD_COLUMNS = 6  # Jakso ... Jakson summa

# The application's personal data the file holds, named in the audit row.
PERSONAL_FIELDS = (
    "employee_first_name",
    "employee_last_name",
    "is_living_in_helsinki",
    "monthly_pay",
    "other_expenses",
    "vacation_money",
    "decision_reason",
    "cancel_reason",
)


def answer(value: bool | None) -> str:
    """kyllä / ei / ei valintaa (not answered), as the city's full export writes booleans."""
    if value is None:
        return NO_CHOICE
    return YES if value else NO


def filename(start: date, end: date) -> str:
    return f"helsinki-lisa-kasitellyt_{start.isoformat()}_{end.isoformat()}.xlsx"


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range's Helsinki days as aware times: [start 00:00, the day after end 00:00)."""
    return (
        datetime.combine(start, time(), HELSINKI),
        datetime.combine(end + timedelta(days=1), time(), HELSINKI),
    )


def handled_condition(start: date, end: date) -> sa.ColumnElement[bool]:
    """Decided (or cancelled) on a day of the range. A decision returned to handling has no
    decision time any more: it is not handled until decided again."""
    low, high = _bounds(start, end)
    decided_at, cancelled_at = col(Application.decided_at), col(Application.cancelled_at)
    return sa.or_(
        sa.and_(col(Application.status).in_(DECIDED), decided_at >= low, decided_at < high),
        sa.and_(col(Application.status) == S.cancelled, cancelled_at >= low, cancelled_at < high),
    )


# --- Loading: the applications in one query, their paid instalments in a second -------------------


@dataclass(frozen=True)
class _Found:
    application: Application
    business_id: str
    company_name: str
    handler: str | None
    decider: str | None


def _load(
    session: Session, condition: sa.ColumnElement[bool]
) -> tuple[list[_Found], dict[int, list[tuple[date, int]]]]:
    handler, decider = aliased(User), aliased(User)
    handled_at = sa.func.coalesce(col(Application.decided_at), col(Application.cancelled_at))
    found = session.execute(
        sa.select(
            Application,
            col(Company.business_id),
            col(Company.name),
            col(handler.name),
            col(decider.name),
        )
        .join(Company, col(Company.id) == col(Application.company_id))
        .outerjoin(handler, col(handler.id) == col(Application.handler_id))
        .outerjoin(decider, col(decider.id) == col(Application.decider_id))
        .where(condition)
        .order_by(handled_at, col(Application.application_number))
    ).all()
    rows = [
        _Found(application, business_id, company_name, handler_name, decider_name)
        for application, business_id, company_name, handler_name, decider_name in found
    ]
    paid: dict[int, list[tuple[date, int]]] = {}
    if rows:
        for application_id, paid_on, amount_cents in session.execute(
            select(
                col(PaymentItem.subsidy_application_id),
                col(PaymentItem.paid_on),
                col(PaymentItem.amount_cents),
            )
            .join(Application, col(Application.id) == col(PaymentItem.subsidy_application_id))
            .where(condition, col(PaymentItem.status) == ItemStatus.paid)
            .order_by(col(PaymentItem.paid_on), col(PaymentItem.instalment))
        ).all():
            paid.setdefault(application_id, []).append((paid_on, amount_cents))
    return rows, paid


# --- Values -------------------------------------------------------------------------------------------


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(HELSINKI).date() if moment else None


def _employee(application: Application) -> str:
    names = (application.employee_first_name, application.employee_last_name)
    return " ".join(n for n in names if n)


def _periods(decided: Mapping[str, Any]) -> list[list[Any]]:
    """The period columns of each row of the frozen calculation; one empty set without rows."""
    rows: Sequence[Mapping[str, Any]] = decided.get("rows") or []
    if not rows:
        return [[None] * PERIOD_COLUMNS]
    return [
        [
            f"{number}/{len(rows)}",
            _day(row.get("start_date")),
            _day(row.get("end_date")),
            _money(row.get("months")),
            _money(row.get("monthly_amount")),
            _money(row.get("amount")),
        ]
        for number, row in enumerate(rows, start=1)
    ]


def _rows_of(found: _Found, paid: Sequence[tuple[date, int]]) -> Iterable[list[Any]]:
    a = found.application
    decided: Mapping[str, Any] = a.decided_calculation or {}
    inputs: Mapping[str, Any] = decided.get("inputs") or {}
    handled_on = _local_day(a.cancelled_at if a.status == S.cancelled else a.decided_at)
    head = [
        a.application_number,
        STATUS_FI.get(S(a.status), a.status),
        ORIGIN_FI.get(Origin(a.origin), a.origin),
        BENEFIT_FI.get(BenefitType(a.benefit_type), a.benefit_type),
        a.company_name or found.company_name,
        found.business_id,
        answer(a.is_association),
        answer(a.de_minimis_aid),
        answer(a.granted_as_de_minimis_aid),
        _employee(a),
        answer(a.is_living_in_helsinki),
        _money(a.monthly_pay),
        _money(a.other_expenses),
        _money(a.vacation_money),
        _money(inputs.get("monthly_pay")),
        _money(inputs.get("other_expenses")),
        _money(inputs.get("vacation_money")),
        answer(a.pay_subsidy_granted),
        a.pay_subsidy_percent,
        answer(a.apprenticeship_program),
        inputs.get("state_aid_max_percentage"),
        a.start_date,
        a.end_date,
    ]
    tail = [
        _money(inputs.get("override_monthly_benefit_amount")),
        inputs.get("override_justification") or None,
        _money(a.granted_amount),
        _local_day(a.submitted_at),
        found.handler,
        found.decider,
        handled_on,
        _local_day(a.decided_at),
        a.decision_reason,
        a.cancel_reason,
        (_money(Decimal(sum(cents for _day, cents in paid)) / 100) if paid else None),
        ", ".join(f"{day.day}.{day.month}.{day.year}" for day, _cents in paid) or None,
    ]
    for period in _periods(decided):
        yield [*head, *period, *tail]


def handled_rows(session: Session, *, start: date, end: date) -> tuple[int, list[list[Any]]]:
    """The number of applications handled in [start, end] and the file's rows (no header)."""
    found, paid = _load(session, handled_condition(start, end))
    rows = [row for f in found for row in _rows_of(f, paid.get(f.application.id or 0, []))]
    return len(found), rows


def handled_workbook(session: Session, *, start: date, end: date, actor: Actor) -> bytes | None:
    """The .xlsx of the applications handled in [start, end], or None when there are none.
    Audited either way, with the range and the counts."""
    applications, rows = handled_rows(session, start=start, end=end)
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.export.handled",
        target_type="subsidy_application",
        detail=f"from={start.isoformat()} to={end.isoformat()} "
        f"applications={applications} rows={len(rows)}",
        fields=PERSONAL_FIELDS if rows else (),
    )
    if not rows:
        return None
    return xlsx.workbook(sheet_title=SHEET_TITLE, columns=COLUMNS, rows=rows)
