"""Employer claims as the Excel files the city's handlers report from and its payment robot
(Talpa) reads (kesaseteli.md §1.8, §5.1; K54-K56, K58).

Three selections (`ExportKind`) x two column layouts (`Layout`), one sheet "Setelit", one row
per claim ordered by sending time. Headers and values are in Finnish whatever the user's
language: they are what the city's own processes and the robot expect. Every cell goes through
`app.documents.xlsx.safe_cell`, so nothing an employer typed runs as a formula.

Session first, keyword arguments; never commits (the unhandled export marks its claims in the
caller's transaction, together with the audit row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import audit, i18n
from app.companies.models import Company
from app.documents import xlsx
from app.i18n import N_
from app.security import Actor
from app.summer_voucher import claims, handling, service
from app.summer_voucher.models import (
    TARGET_GROUP_AGE,
    AttachmentKind,
    Claim,
    ClaimAttachment,
    ClaimStatus,
    Voucher,
    YouthApplication,
)
from app.summer_voucher.schemas import target_group_names
from app.summer_voucher.serials import format_serial
from app.summer_voucher.service import HELSINKI


class ExportKind(StrEnum):
    unhandled = "unhandled"
    annual = "annual"
    annual_previous = "annual-previous"


class Layout(StrEnum):
    reporting = "reporting"  # the handlers' statistics: no payment data
    talpa = "talpa"  # the payment robot: payment data, no youth details or employment terms


# "Unhandled" = sent and not yet decided. The reference exports only `submitted`; here a
# handler can take a claim into handling (or ask for more information) before anyone runs the
# export, and such a claim must still reach exactly one unhandled export, so every undecided
# status counts. Drafts were never sent; accepted and rejected claims are handled.
UNHANDLED_STATUSES = (
    ClaimStatus.submitted,
    ClaimStatus.handling,
    ClaimStatus.additional_information_requested,
    ClaimStatus.additional_information_provided,
)

NOTHING_UNHANDLED = N_("No new unhandled applications.")
NOTHING_FOUND = N_("No applications were found.")

SHEET_TITLE = "Setelit"
MEDIA_TYPE = xlsx.MEDIA_TYPE
# The staff download of a claim's file; the Excel needs absolute links (K56).
ATTACHMENT_PATH = "/admin/summer-voucher/claims/{claim_id}/attachments/{attachment_id}"
ATTACHMENTS_PER_KIND = 5

YES, NO = "Kyllä", "Ei"
LANGUAGE_NAMES = {"fi": "suomi", "sv": "ruotsi", "en": "englanti"}
HIRED_NAMES = {"yes": "Kyllä", "no": "Ei", "maybe": "Ehkä"}
# How the target group column was arrived at ("Erikoistapauksen laskentatila").
GROUP_GIVEN, GROUP_COMPUTED, GROUP_UNKNOWN = "annettu", "laskettu", "selvittämätön"

# Column group colours of the city's sheet; separators are narrow grey empty columns.
WHITE, YOUTH, EMPLOYER, EMPLOYMENT, SEPARATOR = "FFFFFF", "DCEDF8", "E7E3F9", "F7DAE3", "7F7F7F"

# Personal-data sources, named in the audit row of an export that contains them.
PERSONAL_SOURCES = frozenset(
    {
        "youth_name",
        "hetu",
        "school",
        "home_postcode",
        "phone",
        "home_city",
        "register_restricted",
        "contact_name",
        "contact_email",
        "contact_phone",
        "iban",
        "payee_name",
        "payee_address",
    }
)


@dataclass(frozen=True)
class Column:
    title: str
    source: str  # the key of the row's value; "" = left empty (separators, manual columns)
    width: int
    fill: str
    reporting: bool = True
    talpa: bool = True


def _separator() -> Column:
    return Column("", "", 3, SEPARATOR)


def _attachment_columns() -> list[Column]:
    names = {
        AttachmentKind.employment_contract: "Työsopimus",
        AttachmentKind.payslip: "Palkkalaskelma",
    }
    return [
        Column(f"Liite: {name} {n}", f"{kind.value}_{n}", 40, EMPLOYMENT, reporting=False)
        for kind, name in names.items()
        for n in range(1, ATTACHMENTS_PER_KIND + 1)
    ]


# The full column set in the city's order (kesaseteli.md §5.1). `reporting` drops the business
# id, the contact person's name, the invoicer flag and name (the city's sheet keeps the contact's
# and invoicer's e-mail and phone there), the classification, the attachments, all payment data
# and the inspector/approver; `talpa` drops the youth's identity details, the company form and
# industry, the contacts, the invoicer and the employment terms. The fields the city added in
# 2026 (non-disclosure, foreign payment details, how the target group was arrived at) come last
# in both layouts, as in the city's current files, so the older columns keep their positions.
COLUMNS: tuple[Column, ...] = (
    Column("Järjestys", "order", 10, WHITE),
    Column("Saatu pvm", "received", 12, WHITE),
    Column("Hakemuksen kieli", "language", 12, WHITE),
    Column("Setelin numero", "serial", 18, WHITE),
    Column("Erikoistapaus (esim yhdeksäsluokkalainen)", "target_group", 30, WHITE),
    _separator(),
    Column("Nuoren nimi", "youth_name", 30, YOUTH),
    Column("Henkilötunnus", "hetu", 14, YOUTH, talpa=False),
    Column("Koulu", "school", 30, YOUTH, talpa=False),
    Column("Kotipostinumero", "home_postcode", 10, YOUTH, talpa=False),
    Column("Puhelin", "phone", 16, YOUTH, talpa=False),
    Column("Kotikaupunki", "home_city", 16, YOUTH, talpa=False),
    _separator(),
    Column("Työnantaja muoto", "company_form", 16, EMPLOYER, talpa=False),
    Column("Työnantaja", "company_name", 30, EMPLOYER),
    Column("Y-tunnus", "business_id", 12, EMPLOYER, reporting=False),
    Column("Työnantajan lähiosoite", "company_street", 30, EMPLOYER),
    Column("Työnantajan postinumero", "company_postcode", 10, EMPLOYER),
    Column("Työnantajan kunta", "company_city", 16, EMPLOYER),
    Column("Yhdyshenkilö", "contact_name", 30, EMPLOYER, reporting=False, talpa=False),
    Column("Yhdyshenkilön sähköposti", "contact_email", 30, EMPLOYER, talpa=False),
    Column("Yhdyshenkilön Puhelin", "contact_phone", 16, EMPLOYER, talpa=False),
    Column("Erillinen laskuttaja", "separate_invoicer", 12, EMPLOYER, reporting=False, talpa=False),
    Column("Laskuttajan nimi", "invoicer_name", 30, EMPLOYER, reporting=False, talpa=False),
    Column("Laskuttajan sähköposti", "invoicer_email", 30, EMPLOYER, talpa=False),
    Column("Laskuttajan Puhelin", "invoicer_phone", 16, EMPLOYER, talpa=False),
    Column("Yrityksen toimiala", "industry", 30, EMPLOYER, talpa=False),
    _separator(),
    Column("Työn suorituspaikan postinumero", "employment_postcode", 10, EMPLOYMENT, talpa=False),
    Column("Työsuhteen aloituspäivämäärä", "employment_start", 12, EMPLOYMENT, talpa=False),
    Column("Työsuhteen päättymispäivämäärä", "employment_end", 12, EMPLOYMENT, talpa=False),
    Column("Työtunnit", "work_hours", 10, EMPLOYMENT, talpa=False),
    Column("Maksettu palkka (€)", "salary_paid", 12, EMPLOYMENT, talpa=False),
    Column("Muut edut", "", 15, EMPLOYMENT, talpa=False),
    Column("Raporttiin luokittelu", "", 15, EMPLOYMENT, reporting=False, talpa=False),
    Column("Työtehtävät", "job_description", 40, EMPLOYMENT, talpa=False),
    Column("Olisitko palkannut?", "hired_without_voucher", 12, EMPLOYMENT, talpa=False),
    Column("Työnantajan kokemus", "", 30, EMPLOYMENT, talpa=False),
    Column("Muuta", "", 30, EMPLOYMENT, talpa=False),
    *_attachment_columns(),
    Column("Tilinumero", "iban", 24, EMPLOYMENT, reporting=False),
    Column("Summa (€)", "amount", 10, EMPLOYMENT, reporting=False),
    Column("Tarkastaja etunimi", "", 20, EMPLOYMENT, reporting=False),
    Column("Tarkastaja sukunimi", "", 20, EMPLOYMENT, reporting=False),
    Column("Hyväksyjä etunimi", "", 20, EMPLOYMENT, reporting=False),
    Column("Hyväksyjä sukunimi", "", 20, EMPLOYMENT, reporting=False),
    Column("VTJ-tietojen luovutuskielto (ts. turvakielto)", "register_restricted", 14, YOUTH),
    Column("Maksunsaajan nimi", "payee_name", 30, EMPLOYMENT, reporting=False),
    Column("Maksunsaajan osoite", "payee_address", 30, EMPLOYMENT, reporting=False),
    Column("Pankin SWIFT / BIC koodi", "bic", 14, EMPLOYMENT, reporting=False),
    Column("Pankin nimi", "bank_name", 30, EMPLOYMENT, reporting=False),
    Column("Pankin käyntiosoite", "bank_address", 30, EMPLOYMENT, reporting=False),
    Column("Erikoistapauksen laskentatila", "target_group_basis", 14, WHITE),
)


def columns_of(layout: Layout) -> list[Column]:
    return [c for c in COLUMNS if (c.reporting if layout is Layout.reporting else c.talpa)]


def headers(layout: Layout) -> list[str]:
    return [c.title for c in columns_of(layout)]


def filename(layout: Layout, now: datetime) -> str:
    """`talpa-kesasetelihakemukset_2026-06-30_14-05-09.xlsx` (Helsinki time)."""
    return f"{layout.value}-kesasetelihakemukset_{now.astimezone(HELSINKI):%Y-%m-%d_%H-%M-%S}.xlsx"


def empty_message(kind: ExportKind) -> str:
    """The message id shown instead of a file when there is nothing to export."""
    return NOTHING_UNHANDLED if kind is ExportKind.unhandled else NOTHING_FOUND


# --- Selecting and loading --------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=HELSINKI), datetime(year + 1, 1, 1, tzinfo=HELSINKI)


def _selection(session: Session, *, kind: ExportKind, now: datetime) -> sa.ColumnElement[bool]:
    """The claims of this export. The unhandled one first marks the not yet exported undecided
    claims with `now` in one UPDATE and then selects by that mark: two handlers exporting at
    once each get their own rows (on PostgreSQL the second UPDATE waits for the first and then
    skips the rows it marked), and a repeat run finds only claims sent since."""
    if kind is ExportKind.unhandled:
        session.execute(
            sa.update(Claim)
            .where(
                col(Claim.status).in_(UNHANDLED_STATUSES),
                col(Claim.exported_at).is_(None),
            )
            .values(exported_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return col(Claim.exported_at) == now
    year = now.astimezone(HELSINKI).year - (1 if kind is ExportKind.annual_previous else 0)
    start, end = _year_bounds(year)
    return sa.and_(
        col(Claim.status) != ClaimStatus.draft,
        col(Claim.created_at) >= start,
        col(Claim.created_at) < end,
    )


@dataclass(frozen=True)
class _Loaded:
    claim: Claim
    company: Company
    voucher: Voucher | None
    youth: YouthApplication | None


def _load(
    session: Session, condition: sa.ColumnElement[bool]
) -> tuple[list[_Loaded], dict[int, list[ClaimAttachment]]]:
    """The claims with their company, voucher and youth application in one query, and all their
    attachments in a second: the number of queries does not grow with the rows."""
    found = session.exec(
        select(Claim, Company, Voucher, YouthApplication)
        .join(Company, col(Company.id) == col(Claim.company_id))
        .outerjoin(Voucher, col(Voucher.id) == col(Claim.voucher_id))
        .outerjoin(YouthApplication, col(YouthApplication.id) == col(Voucher.youth_application_id))
        .where(condition)
        .order_by(col(Claim.submitted_at), col(Claim.created_at), col(Claim.id))
    ).all()
    rows = [_Loaded(claim, company, voucher, youth) for claim, company, voucher, youth in found]
    attachments: dict[int, list[ClaimAttachment]] = {}
    if rows:
        for attachment in session.exec(
            select(ClaimAttachment)
            .join(Claim, col(Claim.id) == col(ClaimAttachment.claim_id))
            .where(condition)
            .order_by(col(ClaimAttachment.created_at), col(ClaimAttachment.id))
        ).all():
            attachments.setdefault(attachment.claim_id, []).append(attachment)
    return rows, attachments


# --- Values -------------------------------------------------------------------------------------


def _day(value: date | None, fmt: str = "%d.%m.%Y") -> str:
    return value.strftime(fmt) if value else ""


def _yes_no(value: bool) -> str:
    return YES if value else NO


def _euros(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def _register(youth: YouthApplication) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(youth.register_snapshot) if youth.register_snapshot else {}
    return data


def youth_name(youth: YouthApplication | None, claim: Claim) -> str:
    """The most official name: the population register's, else the one the youth typed."""
    if youth is None:
        return claim.employee_name or ""
    register = _register(youth)
    if register.get("first_names") and register.get("last_name"):
        return f"{register['first_names']} {register['last_name']}"
    return f"{youth.first_name} {youth.last_name}"


def _target_group(youth: YouthApplication | None, names: dict[str, str]) -> tuple[str, str]:
    """The target group's Finnish name and how it was arrived at: given by the youth, computed
    from the age in the application year, or unknown."""
    if youth is None:
        return "", GROUP_UNKNOWN
    if youth.target_group in names:
        return names[youth.target_group], GROUP_GIVEN
    born = handling.birth_date_of(youth)
    if born is not None:
        age = youth.year - born.year
        for group, group_age in TARGET_GROUP_AGE.items():
            if group_age == age:
                return names[group.value], GROUP_COMPUTED
    return "", GROUP_UNKNOWN


def _values(
    number: int,
    row: _Loaded,
    attachments: Sequence[ClaimAttachment],
    *,
    amount: Decimal,
    base_url: str,
    group_names: dict[str, str],
) -> dict[str, Any]:
    claim, company, voucher, youth = row.claim, row.company, row.voucher, row.youth
    group, basis = _target_group(youth, group_names)
    submitted = claim.submitted_at.astimezone(HELSINKI).date() if claim.submitted_at else None
    home_city = ""
    if youth is not None:
        home_city = (
            _register(youth).get("home_municipality_name") or youth.non_vtj_home_municipality or ""
        )
    values: dict[str, Any] = {
        "order": number,
        # The city's sheet writes the received date with slashes, the other dates with dots.
        "received": _day(submitted, "%d/%m/%Y"),
        "language": LANGUAGE_NAMES.get(claim.language, claim.language),
        "serial": format_serial(voucher.serial_number) if voucher else "",
        "target_group": group,
        "youth_name": youth_name(youth, claim),
        "hetu": (youth.hetu or "") if youth else "",
        "school": youth.school if youth else "",
        "home_postcode": youth.postcode if youth else "",
        "phone": youth.phone if youth else (claim.employee_phone or ""),
        "home_city": home_city,
        "company_form": company.company_form or "",
        "company_name": company.name,
        "business_id": company.business_id,
        "company_street": company.street_address or "",
        "company_postcode": company.postcode or "",
        "company_city": company.city or "",
        "contact_name": claim.contact_name or "",
        "contact_email": claim.contact_email or "",
        "contact_phone": claim.contact_phone or "",
        "separate_invoicer": _yes_no(claim.is_separate_invoicer),
        "invoicer_name": (claim.invoicer_name or "") if claim.is_separate_invoicer else "",
        "invoicer_email": (claim.invoicer_email or "") if claim.is_separate_invoicer else "",
        "invoicer_phone": (claim.invoicer_phone or "") if claim.is_separate_invoicer else "",
        "industry": company.industry or "",
        "employment_postcode": claim.employment_postcode or "",
        "employment_start": _day(claim.employment_start),
        "employment_end": _day(claim.employment_end),
        "work_hours": claim.work_hours,
        "salary_paid": claim.salary_paid,
        "job_description": claim.job_description or "",
        "hired_without_voucher": HIRED_NAMES.get(claim.hired_without_voucher or "", ""),
        "iban": (claim.iban or "").replace(" ", ""),
        "amount": _euros(amount),
        "register_restricted": _yes_no(youth.register_restricted) if youth else "",
        "payee_name": claim.payee_name or "",
        "payee_address": claim.payee_address or "",
        "bic": claim.bic or "",
        "bank_name": claim.bank_name or "",
        "bank_address": claim.bank_address or "",
        "target_group_basis": basis,
    }
    for kind in AttachmentKind:
        files = [a for a in attachments if a.kind == kind][:ATTACHMENTS_PER_KIND]
        for n, attachment in enumerate(files, start=1):
            values[f"{kind.value}_{n}"] = base_url + ATTACHMENT_PATH.format(
                claim_id=claim.id, attachment_id=attachment.id
            )
    return values


def claim_rows(
    session: Session,
    *,
    kind: ExportKind,
    layout: Layout,
    base_url: str,
    now: datetime,
) -> list[list[Any]]:
    """The rows of an export in the layout's column order, without the header. The unhandled
    kind marks its claims exported (`now`) in the session's transaction."""
    rows, attachments = _load(session, _selection(session, kind=kind, now=now))
    columns = columns_of(layout)
    base = base_url.rstrip("/")
    with i18n.language("fi"):
        group_names = target_group_names()
    # The voucher value of the claim's voucher year (K23), looked up once per year.
    year_values: dict[int, Decimal] = {}
    result: list[list[Any]] = []
    for number, row in enumerate(rows, start=1):
        amount = row.claim.amount
        if amount is None:
            year = claims.voucher_year_of(row.claim.created_at)
            if year not in year_values:
                year_values[year] = Decimal(service.voucher_terms(session, year=year)["value"])
            amount = year_values[year]
        values = _values(
            number,
            row,
            attachments.get(row.claim.id or 0, []),
            amount=amount,
            base_url=base,
            group_names=group_names,
        )
        result.append([values.get(c.source) if c.source else None for c in columns])
    return result


def _workbook(layout: Layout, rows: Sequence[Sequence[Any]]) -> bytes:
    columns = [
        xlsx.Column(
            c.title,
            width=c.width,
            fill=None if c.fill == WHITE else c.fill,
            number_format=xlsx.DECIMAL_FORMAT
            if c.source in ("work_hours", "salary_paid")
            else None,
        )
        for c in columns_of(layout)
    ]
    return xlsx.workbook(sheet_title=SHEET_TITLE, columns=columns, rows=rows)


def claims_workbook(
    session: Session,
    *,
    kind: ExportKind,
    columns: Layout,
    actor: Actor,
    base_url: str,
    now: datetime,
) -> bytes | None:
    """The export as .xlsx, or None when there is nothing to export (K54-K56).

    `unhandled`: the sent, undecided claims (see UNHANDLED_STATUSES) not yet in an unhandled
    export, of either layout; they are marked exported, so a repeat run gives only new ones.
    `annual` / `annual-previous`: every claim except drafts created in the current / previous
    calendar year (Helsinki time); nothing is marked. Every run is audited with the kind, the
    layout and the number of rows, an empty one too (K58).
    """
    rows = claim_rows(session, kind=kind, layout=columns, base_url=base_url, now=now)
    layout_sources = {c.source for c in columns_of(columns)}
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.export",
        target_type="summer_voucher_claim",
        detail=f"kind={kind.value} columns={columns.value} rows={len(rows)}",
        fields=sorted(PERSONAL_SOURCES & layout_sources) if rows else (),
    )
    if not rows:
        return None
    return _workbook(columns, rows)
