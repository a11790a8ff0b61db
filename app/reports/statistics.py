"""The statistics page's figures for one year (issue #7 §6): counts and sums by programme, status,
month and target group, counted in the database (GROUP BY, one query per column of figures),
with small cells suppressed before anything leaves this module.

What is counted, for the year Y (Helsinki time):
- Helsinki-lisä: applications sent (first submitted) in Y, by status, by apprenticeship and by
  pay subsidy percent, with the granted amount; by month sent; decisions by month of decision
  with the granted amount.
- Kesäseteli youth applications of the voucher year Y, by status, month received and target
  group; the vouchers of year Y by target group, with their value (the year's voucher value).
- Kesäseteli employer claims sent in Y, by status and by the youth's target group, with the
  claimed amount; by month sent; accepted claims by month of decision.

Persons: a figure counts applications, but suppression looks at the persons they are about: a
Helsinki-lisä employee (the blind index of the HETU), a youth (the HETU's blind index), a claim's
voucher (one youth). A row without one counts as a person of its own.

Suppression (small-cell protection), for each column of figures and its total:
1. A figure about 1-4 persons shows "< 5" and its sum is hidden. Zero shows as 0.
2. When a column hides a figure, more are hidden, smallest first, until at least two are hidden
   and they cover at least 5 persons together: the total minus the shown figures then never
   gives a hidden figure, nor a group under 5 persons. These show as "hidden".
3. The total is a figure too: 1-4 persons show "< 5".
4. The total's sum is hidden when the hidden figures that have a sum cover 1-4 persons (the
   total sum minus the shown sums would give their sum).
Each column stands alone: the same applications counted by status and by target group are not
checked against each other (linked tables would need a suppression solver). The programme
summary only repeats the columns' totals, as suppressed there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date
from sqlmodel import Session, col

from app import audit, i18n
from app.i18n import N_, gettext
from app.security import Actor
from app.subsidies.models import Application, ApplicationStatus
from app.subsidies.timeline import STATUS_NAMES as SUBSIDY_STATUS_NAMES
from app.summer_voucher import claims, handling
from app.summer_voucher.models import (
    Claim,
    ClaimStatus,
    TargetGroup,
    Voucher,
    YearConfiguration,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.schemas import target_group_names

HELSINKI = ZoneInfo("Europe/Helsinki")
THRESHOLD = 5
CENT = Decimal("0.01")
NUMERIC = sa.Numeric(14, 2)


# --- Figures and their suppression ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """What the database counted: rows, distinct persons, the sum of their amounts (None: the
    rows have no amount)."""

    count: int = 0
    persons: int = 0
    amount: Decimal | None = None


class Hidden(StrEnum):
    shown = "shown"
    small = "small"  # about 1-4 persons: "< 5"
    derived = "derived"  # hidden so that a small figure cannot be calculated from the total


@dataclass(frozen=True)
class Figure:
    """What the page may show: the count and sum, or None where hidden."""

    count: int | None
    amount: Decimal | None
    hidden: Hidden = Hidden.shown
    amount_hidden: bool = False


def _small(cell: Cell) -> bool:
    return 0 < cell.persons < THRESHOLD


def suppress(cells: Mapping[Any, Cell], total: Cell) -> tuple[dict[Any, Figure], Figure]:
    """The figures of one column and its total, with the rules of the module's docstring."""
    hidden: dict[Any, Hidden] = {k: Hidden.small for k, c in cells.items() if _small(c)}
    if hidden:
        visible = sorted(
            (c.persons, n, k)
            for n, (k, c) in enumerate(cells.items())
            if k not in hidden and c.count > 0
        )
        covered = sum(cells[k].persons for k in hidden)
        while visible and (len(hidden) < 2 or covered < THRESHOLD):
            persons, _n, key = visible.pop(0)
            hidden[key] = Hidden.derived
            covered += persons
    figures = {
        k: Figure(count=None, amount=None, hidden=hidden[k], amount_hidden=True)
        if k in hidden
        else Figure(count=c.count, amount=c.amount)
        for k, c in cells.items()
    }
    if _small(total):
        return figures, Figure(count=None, amount=None, hidden=Hidden.small, amount_hidden=True)
    with_sum = sum(cells[k].persons for k in hidden if cells[k].amount is not None)
    amount_hidden = 0 < with_sum < THRESHOLD
    return figures, Figure(
        count=total.count,
        amount=None if amount_hidden else total.amount,
        amount_hidden=amount_hidden,
    )


# --- Counting in the database ------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT)


def _aggregate(session: Session, base: sa.Select[Any]) -> tuple[dict[Any, Cell], Cell]:
    """`base` selects k (the row of the table), p (whom the row is about) and s (its amount or
    NULL). One query: the groups and, in a second branch of a UNION ALL, the total (a person in
    two groups is one person of the total)."""
    rows = base.cte("counted")
    measures: list[Any] = [
        sa.func.count(),
        sa.func.count(sa.distinct(rows.c.p)),
        sa.type_coerce(sa.func.sum(rows.c.s), NUMERIC),
    ]
    grouped = sa.select(rows.c.k, sa.literal_column("0"), *measures).group_by(rows.c.k)
    overall = sa.select(sa.null(), sa.literal_column("1"), *measures).select_from(rows)
    cells: dict[Any, Cell] = {}
    total = Cell()
    for key, is_total, count, persons, amount in session.execute(sa.union_all(grouped, overall)):
        cell = Cell(count=int(count), persons=int(persons), amount=_number(amount))
        if int(is_total):
            total = cell
        else:
            cells[key] = cell
    return cells, total


def _person(index: Any, prefix: str, row_id: Any) -> Any:
    """The person's key: their blind index, else the row itself."""
    own = sa.literal_column(f"'{prefix}'", sa.String) + sa.cast(row_id, sa.String)
    return sa.func.coalesce(index, own)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=HELSINKI), datetime(year + 1, 1, 1, tzinfo=HELSINKI)


def _in_year(column: Any, year: int) -> sa.ColumnElement[bool]:
    start, end = _year_bounds(year)
    return sa.and_(column >= start, column < end)


def _month(column: Any, year: int) -> Any:
    """The Helsinki month (1-12) of a time within `year`, as a CASE on the months' first
    moments: the same on both engines, whatever the server's time zone."""
    ends = [datetime(year, m, 1, tzinfo=HELSINKI) for m in range(2, 13)]
    ends.append(datetime(year + 1, 1, 1, tzinfo=HELSINKI))
    return sa.case(
        *((column < end, sa.literal_column(str(month))) for month, end in enumerate(ends, 1))
    )


def _none() -> Any:
    return sa.cast(sa.null(), NUMERIC)


# Helsinki-lisä ------------------------------------------------------------------------------------

A = Application


def _subsidy(k: Any, year: int, *, amount: bool = True) -> sa.Select[Any]:
    return sa.select(
        k.label("k"),
        _person(col(A.employee_hetu_index), "a", col(A.id)).label("p"),
        (col(A.granted_amount) if amount else _none()).label("s"),
    ).where(col(A.status) != ApplicationStatus.draft, _in_year(col(A.submitted_at), year))


def _subsidy_decided(year: int) -> sa.Select[Any]:
    return sa.select(
        _month(col(A.decided_at), year).label("k"),
        _person(col(A.employee_hetu_index), "a", col(A.id)).label("p"),
        col(A.granted_amount).label("s"),
    ).where(
        col(A.status).in_((ApplicationStatus.accepted, ApplicationStatus.rejected)),
        _in_year(col(A.decided_at), year),
    )


def _answer_key(column: Any) -> Any:
    """yes 1, no 0, not answered -1."""
    return sa.case(
        (column.is_(True), sa.literal_column("1")),
        (column.is_(False), sa.literal_column("0")),
        else_=sa.literal_column("-1"),
    )


def _pay_subsidy_key() -> Any:
    """The pay subsidy percent, 0 without a pay subsidy."""
    return sa.case(
        (col(A.pay_subsidy_granted).is_(True), sa.func.coalesce(col(A.pay_subsidy_percent), 0)),
        else_=sa.literal_column("0"),
    )


# Kesäseteli -----------------------------------------------------------------------------------------

Y = YouthApplication
OTHER_GROUP = "other"


def _group_key(column: Any) -> Any:
    known = [g.value for g in TargetGroup]
    return sa.case((column.in_(known), column), else_=sa.literal_column(f"'{OTHER_GROUP}'"))


def _youth(k: Any, year: int) -> sa.Select[Any]:
    return sa.select(
        k.label("k"),
        _person(col(Y.hetu_index), "y", col(Y.id)).label("p"),
        _none().label("s"),
    ).where(col(Y.year) == year)


def _vouchers(year: int) -> sa.Select[Any]:
    return (
        sa.select(
            _group_key(col(Y.target_group)).label("k"),
            _person(col(Y.hetu_index), "y", col(Y.id)).label("p"),
            col(YearConfiguration.voucher_value).label("s"),
        )
        .select_from(Voucher)
        .join(Y, col(Y.id) == col(Voucher.youth_application_id))
        .outerjoin(YearConfiguration, col(YearConfiguration.year) == col(Y.year))
        .where(col(Y.year) == year)
    )


def _claims(k: Any, year: int, *, decided: bool = False, amount: bool = True) -> sa.Select[Any]:
    """Claims sent in `year` (`decided`: approved in it); the amount is set on approval."""
    when = col(Claim.decided_at) if decided else col(Claim.submitted_at)
    statement = (
        sa.select(
            k.label("k"),
            _person(sa.cast(col(Claim.voucher_id), sa.String), "c", col(Claim.id)).label("p"),
            (col(Claim.amount) if amount else _none()).label("s"),
        )
        .select_from(Claim)
        .outerjoin(Voucher, col(Voucher.id) == col(Claim.voucher_id))
        .outerjoin(Y, col(Y.id) == col(Voucher.youth_application_id))
        .where(col(Claim.status) != ClaimStatus.draft, _in_year(when, year))
    )
    if decided:
        statement = statement.where(col(Claim.status) == ClaimStatus.accepted)
    return statement


# --- Tables ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One column of figures (and its sum column when `amount_title` is set)."""

    title: str
    amount_title: str | None
    figures: dict[Any, Figure]
    total: Figure


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    row_title: str
    rows: list[tuple[Any, str]]  # key, label
    series: list[Series]


@dataclass(frozen=True)
class Statistics:
    year: int
    summary: list[tuple[str, Series]]  # programme, its total figures
    tables: list[Table]


def _series(
    session: Session, title: str, base: sa.Select[Any], amount_title: str | None = None
) -> Series:
    cells, total = _aggregate(session, base)
    return _from_cells(title, cells, total, amount_title)


def _from_cells(
    title: str, cells: Mapping[Any, Cell], total: Cell, amount_title: str | None
) -> Series:
    figures, shown_total = suppress(cells, total)
    return Series(
        gettext(title), gettext(amount_title) if amount_title else None, figures, shown_total
    )


def _rows(
    series: Sequence[Series], keys: Sequence[Any], label: Callable[[Any], str]
) -> list[tuple[Any, str]]:
    """Every key of the table, a missing one as 0 in each column."""
    for s in series:
        for key in keys:
            s.figures.setdefault(key, Figure(count=0, amount=None))
    return [(key, label(key)) for key in keys]


def _month_name(year: int) -> Callable[[Any], str]:
    def name(month: Any) -> str:
        text: str = format_date(date(year, int(month), 1), "LLLL", locale=i18n.format_locale())
        return text.capitalize()

    return name


def _table(
    table_id: str,
    title: str,
    row_title: str,
    series: list[Series],
    keys: Sequence[Any],
    label: Callable[[Any], str],
) -> Table:
    return Table(table_id, gettext(title), gettext(row_title), _rows(series, keys, label), series)


GRANTED = N_("Granted (€)")
APPROVED = N_("Approved amount (€)")
VALUE = N_("Value (€)")


def statistics(session: Session, *, year: int, actor: Actor) -> Statistics:
    """The year's figures, suppressed; the read is audited (no personal data leaves here)."""
    subsidy_statuses = [s for s in ApplicationStatus if s != ApplicationStatus.draft]
    claim_statuses = [s for s in ClaimStatus if s != ClaimStatus.draft]
    months = list(range(1, 13))
    groups = [*(g.value for g in TargetGroup), OTHER_GROUP]
    group_names = {**target_group_names(), OTHER_GROUP: gettext(N_("Other or unknown"))}
    answers = {1: gettext(N_("Yes")), 0: gettext(N_("No")), -1: gettext(N_("Not answered"))}
    percents = {0: gettext(N_("No pay subsidy")), 50: "50 %", 70: "70 %", 100: "100 %"}

    subsidy_by_status = _series(
        session,
        N_("Helsinki benefit applications"),
        _subsidy(col(A.status), year),
        GRANTED,
    )
    claims_by_status = _series(
        session,
        N_("Employer claims"),
        _claims(col(Claim.status), year),
        APPROVED,
    )
    youth_by_status = _series(session, N_("Youth applications"), _youth(col(Y.status), year))
    youth_by_group = _series(
        session, N_("Youth applications"), _youth(_group_key(col(Y.target_group)), year)
    )
    vouchers_by_group = _series(session, N_("Vouchers"), _vouchers(year), VALUE)
    claims_by_group = _series(
        session,
        N_("Employer claims"),
        _claims(_group_key(col(Y.target_group)), year),
        APPROVED,
    )
    tables = [
        _table(
            "subsidy-status",
            N_("Helsinki benefit applications by status"),
            N_("Status"),
            [subsidy_by_status],
            subsidy_statuses,
            lambda s: gettext(SUBSIDY_STATUS_NAMES[s]),
        ),
        _table(
            "subsidy-apprenticeship",
            N_("Helsinki benefit applications by apprenticeship"),
            N_("Apprenticeship"),
            [
                _series(
                    session,
                    N_("Helsinki benefit applications"),
                    _subsidy(_answer_key(col(A.apprenticeship_program)), year),
                    GRANTED,
                )
            ],
            [1, 0, -1],
            lambda k: answers[k],
        ),
        _table(
            "subsidy-pay-subsidy",
            N_("Helsinki benefit applications by pay subsidy"),
            N_("Pay subsidy"),
            [
                _series(
                    session,
                    N_("Helsinki benefit applications"),
                    _subsidy(_pay_subsidy_key(), year),
                    GRANTED,
                )
            ],
            [0, 50, 70, 100],
            lambda k: percents[k],
        ),
        _table(
            "youth-status",
            N_("Summer job voucher: youth applications by status"),
            N_("Status"),
            [youth_by_status],
            list(YouthStatus),
            lambda s: gettext(handling.STATUS_NAMES[s]),
        ),
        _table(
            "claim-status",
            N_("Summer job voucher: employer claims by status"),
            N_("Status"),
            [claims_by_status],
            claim_statuses,
            lambda s: gettext(claims.STATUS_NAMES[s]),
        ),
        _table(
            "target-group",
            N_("Summer job voucher by target group"),
            N_("Target group"),
            [youth_by_group, vouchers_by_group, claims_by_group],
            groups,
            lambda g: group_names[g],
        ),
        _table(
            "month",
            N_("By month"),
            N_("Month"),
            [
                _series(
                    session,
                    N_("Helsinki benefit applications sent"),
                    _subsidy(_month(col(A.submitted_at), year), year, amount=False),
                ),
                _series(
                    session,
                    N_("Helsinki benefit decisions"),
                    _subsidy_decided(year),
                    GRANTED,
                ),
                _series(
                    session,
                    N_("Youth applications received"),
                    _youth(_month(col(Y.created_at), year), year).where(
                        _in_year(col(Y.created_at), year)
                    ),
                ),
                _series(
                    session,
                    N_("Employer claims sent"),
                    _claims(_month(col(Claim.submitted_at), year), year, amount=False),
                ),
                _series(
                    session,
                    N_("Employer claims approved"),
                    _claims(_month(col(Claim.decided_at), year), year, decided=True),
                    APPROVED,
                ),
            ],
            months,
            _month_name(year),
        ),
    ]
    summary = [
        (gettext(N_("Helsinki benefit")), subsidy_by_status),
        (gettext(N_("Summer job voucher: youth applications")), youth_by_status),
        (gettext(N_("Summer job voucher: vouchers")), vouchers_by_group),
        (gettext(N_("Summer job voucher: employer claims")), claims_by_status),
    ]
    audit.record_read(
        session,
        actor=actor,
        action="statistics.read",
        target_type="statistics",
        detail=f"year={year}",
    )
    return Statistics(year=year, summary=summary, tables=tables)
