"""The Helsinki-lisä decision letter (issue #7 §1): a PDF in the application's language and the
same decision as JSON, made when a decision becomes final and stored in the same transaction.

- `store` (handling.decide): the letter of the decision just made: the decision and its reason,
  the frozen calculation's amounts per period, total and instalments with their due dates, the
  benefit period, the rule values used, the de minimis statement, how to request a review
  (oikaisuvaatimus), the decision maker and date, the company and the employee (masked HETU).
- `supersede` (handling.return_to_handling): the current letter is no longer in force; a new
  decision stores a new one. The employer sees only the current one.
- `for_employer`, `for_staff`, `read_pdf`, `read_json`: the current letter, every read audited.
- `preview` (deciders, before deciding): the letter from the current calculation and the chosen
  decision, not stored, audited.

The JSON (`DecisionContent`) is the source of the letter: the PDF is rendered from it, so both
say the same. Session first, keyword arguments; never commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from babel.numbers import format_decimal
from pydantic import BaseModel
from sqlmodel import Session, col, select

from app import audit, i18n
from app.auth.models import User
from app.db import utcnow
from app.documents import pdf
from app.errors import InvalidTransition, NotFound, ValidationFailed
from app.i18n import N_, gettext
from app.security import Actor
from app.subsidies import calculation as calculations
from app.subsidies import events, service
from app.subsidies.models import Application, ApplicationStatus, DecisionDocument
from app.subsidies.staff_schemas import DecisionIn
from app.subsidies.transitions import DECIDING
from app.templating import HELSINKI_TZ
from app.types import mask_hetu

S = ApplicationStatus
TEMPLATE = "subsidies/decision_pdf.html"
TARGET = "subsidy_application"
# What a letter shows of the employee (the audit rows name the fields, never the values).
PERSONAL_FIELDS = ("employee_first_name", "employee_last_name", "employee_hetu")
FILE_NAMES = {
    "fi": "helsinki-lisa-paatos",
    "sv": "helsingforstillagg-beslut",
    "en": "helsinki-benefit-decision",
}

# How to request a review (oikaisuvaatimus, Local Government Act 410/2015 §§ 134–138): to the
# body the decision maker answers to, in writing, within 14 days of receiving the decision.
APPEAL_DAYS = 14
APPEAL_AUTHORITY = N_("Economic Development Subcommittee of the City Board of Helsinki")
APPEAL_ADDRESS = N_("City of Helsinki Registry, P.O. Box 10, 00099 City of Helsinki")
APPEAL_VISITING_ADDRESS = N_("Pohjoisesplanadi 11–13, Helsinki")
APPEAL_EMAIL = "helsinki.kirjaamo@hel.fi"
APPEAL_TEXTS = (
    N_(
        "If you are not satisfied with this decision, you may request a review of it "
        "(oikaisuvaatimus). The employer to whom the decision applies, and anyone whose right, "
        "obligation or interest the decision directly affects, may request a review. You cannot "
        "appeal against this decision directly to a court."
    ),
    N_(
        "The request must be made in writing within %(days)s days of receiving notice of the "
        "decision. Unless shown otherwise, a decision sent by post is deemed received on the "
        "seventh day after it was sent, and a decision sent electronically on the third day "
        "after it was sent. The day of receipt is not counted."
    ),
    N_(
        "Address the request to the %(authority)s and send it to the %(address)s (visiting "
        "address %(visiting)s) or by e-mail to %(email)s. The request must arrive before the "
        "Registry closes on the last day of the period; it is sent at the sender's own risk."
    ),
    N_(
        "State in the request the decision concerned (the application number and the date of "
        "the decision), the change you want and the reasons for it, and your name, your "
        "contact details and, for a company, its business id. Sign the request or send it "
        "from your own e-mail address. Enclose any documents you refer to."
    ),
)
DE_MINIMIS_STATEMENT = N_(
    "The benefit is granted as de minimis aid under Commission Regulation (EU) 2023/2831 on the "
    "application of Articles 107 and 108 of the Treaty on the Functioning of the European Union "
    "to de minimis aid. The de minimis aid granted to a single undertaking must not exceed "
    "300 000 euros over any period of three years. Keep this decision: declare the amount granted "
    "when you apply for other de minimis aid."
)
NOT_DE_MINIMIS_STATEMENT = N_("The benefit is not granted as de minimis aid.")


# --- The content (the JSON of the decision) --------------------------------------------------------


class _Part(BaseModel):
    pass


class CompanyPart(_Part):
    name: str
    business_id: str


class EmployeePart(_Part):
    name: str | None
    hetu_masked: str  # never the full identity code


class PeriodPart(_Part):
    start_date: date
    end_date: date


class BenefitRowPart(_Part):
    start_date: date
    end_date: date
    months: Decimal
    monthly_amount: Decimal
    amount: Decimal


class InstalmentPart(_Part):
    number: int
    amount: Decimal
    due_date: date


class RulePart(_Part):
    name: str
    value: str
    effective_from: date
    source: str


class DeMinimisPart(_Part):
    granted_as_de_minimis_aid: bool
    statement: str


class AppealPart(_Part):
    kind: Literal["oikaisuvaatimus"] = "oikaisuvaatimus"
    days: int
    authority: str
    address: str
    email: str
    instructions: list[str]


class DecisionContent(BaseModel):
    """The decision as data: what the letter says, in the letter's language. Money and months
    are decimal strings in JSON ("1600.00"), dates ISO 8601."""

    version: Literal[1] = 1
    application_id: int
    application_number: int | None
    language: str
    decision: Literal["accepted", "rejected"]
    reason: str | None  # the reason for a rejection; a justification when accepting, if given
    decided_at: datetime
    decision_date: date
    decision_maker: str
    company: CompanyPart
    employee: EmployeePart
    benefit_type: str
    benefit_period: PeriodPart | None
    currency: Literal["EUR"] = "EUR"
    total: Decimal | None
    periods: list[BenefitRowPart]
    instalments: list[InstalmentPart]
    rules: list[RulePart]
    calculator: str | None
    calculation_date: date | None
    de_minimis: DeMinimisPart | None
    appeal: AppealPart


def _language(application: Application) -> str:
    return application.language if application.language in i18n.LANGUAGES else "fi"


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _period(application: Application, calculation: dict[str, Any] | None) -> PeriodPart | None:
    """The decided calculation's period; the period applied for when there is none."""
    inputs = (calculation or {}).get("inputs") or {}
    start = _day(inputs.get("start_date")) or application.start_date
    end = _day(inputs.get("end_date")) or application.end_date
    return PeriodPart(start_date=start, end_date=end) if start and end else None


def _appeal() -> AppealPart:
    authority = gettext(APPEAL_AUTHORITY)
    address = gettext(APPEAL_ADDRESS)
    values = {
        "days": APPEAL_DAYS,
        "authority": authority,
        "address": address,
        "visiting": gettext(APPEAL_VISITING_ADDRESS),
        "email": APPEAL_EMAIL,
    }
    return AppealPart(
        days=APPEAL_DAYS,
        authority=authority,
        address=address,
        email=APPEAL_EMAIL,
        instructions=[gettext(text) % values for text in APPEAL_TEXTS],
    )


def build_content(
    session: Session,
    *,
    application: Application,
    decision: str,
    reason: str | None,
    granted_as_de_minimis_aid: bool | None,
    calculation: dict[str, Any] | None,
    decided_at: datetime,
    decision_maker: str,
) -> DecisionContent:
    """The letter's content in the application's language. `calculation` is the frozen
    calculation (calculation.frozen) of an accepted decision, None for a rejection."""
    company = service.company_row(session, application)
    return compose(
        application=application,
        company=CompanyPart(
            name=application.company_name or (company.name if company else ""),
            business_id=company.business_id if company else "",
        ),
        decision=decision,
        reason=reason,
        granted_as_de_minimis_aid=granted_as_de_minimis_aid,
        calculation=calculation,
        decided_at=decided_at,
        decision_maker=decision_maker,
    )


def compose(
    *,
    application: Application,
    company: CompanyPart,
    decision: str,
    reason: str | None,
    granted_as_de_minimis_aid: bool | None,
    calculation: dict[str, Any] | None,
    decided_at: datetime,
    decision_maker: str,
) -> DecisionContent:
    """build_content without the database (bench/decision_pdf.py uses it directly)."""
    accepted = decision == S.accepted
    calc = calculation if accepted else None
    language = _language(application)
    with i18n.language(language):
        de_minimis = None
        if accepted and granted_as_de_minimis_aid is not None:
            de_minimis = DeMinimisPart(
                granted_as_de_minimis_aid=granted_as_de_minimis_aid,
                statement=gettext(
                    DE_MINIMIS_STATEMENT if granted_as_de_minimis_aid else NOT_DE_MINIMIS_STATEMENT
                ),
            )
        appeal = _appeal()
    found = calc or {}
    inputs = found.get("inputs") or {}
    return DecisionContent(
        application_id=application.id or 0,
        application_number=application.application_number,
        language=language,
        decision="accepted" if accepted else "rejected",
        reason=reason or None,
        decided_at=decided_at,
        decision_date=decided_at.astimezone(HELSINKI_TZ).date(),
        decision_maker=decision_maker,
        company=company,
        employee=EmployeePart(
            name=service.employee_name(application),
            hetu_masked=mask_hetu(application.employee_hetu),
        ),
        benefit_type=str(inputs.get("benefit_type") or application.benefit_type),
        benefit_period=_period(application, calc),
        total=Decimal(found["total"]) if found.get("total") is not None else None,
        periods=[BenefitRowPart.model_validate(row) for row in found.get("rows", [])],
        instalments=[InstalmentPart.model_validate(row) for row in found.get("instalments", [])],
        rules=[RulePart.model_validate(row) for row in found.get("rules", [])],
        calculator=found.get("calculator"),
        calculation_date=_day(found.get("calculation_date")),
        de_minimis=de_minimis,
        appeal=appeal,
    )


# --- The letter --------------------------------------------------------------------------------------


def _months(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.00", locale=i18n.format_locale())


_DECIMAL = re.compile(r"-?\d+\.\d+")


def _rule_value(value: str) -> str:
    """A rule value as the letter shows it: decimals the Finnish way ("1 260,00"), the rest as
    the rules write them."""
    if _DECIMAL.fullmatch(value):
        return format_decimal(Decimal(value), format="#,##0.00", locale=i18n.format_locale())
    return value


def letter_context(content: DecisionContent, *, preview: bool = False) -> dict[str, Any]:
    return {"c": content, "preview": preview, "months": _months, "rule_value": _rule_value}


def letter_html(content: DecisionContent, *, preview: bool = False) -> str:
    """The HTML the PDF is made from, in the letter's language."""
    return pdf.render_html(TEMPLATE, letter_context(content, preview=preview), content.language)


def letter_pdf(content: DecisionContent, *, preview: bool = False) -> bytes:
    return pdf.html_to_pdf(letter_html(content, preview=preview))


def file_name(content: DecisionContent, extension: str, *, preview: bool = False) -> str:
    """ "helsinki-lisa-paatos-100023.pdf": the letter's language, the application number."""
    stem = FILE_NAMES.get(content.language, FILE_NAMES["fi"])
    number = content.application_number or content.application_id
    return f"{stem}-{number}{'-preview' if preview else ''}.{extension}"


# --- Storing and superseding -------------------------------------------------------------------------


def _user_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "—"
    user = session.get(User, user_id)
    return (user.name if user else None) or "—"


def supersede(session: Session, *, application: Application, actor: Actor) -> int:
    """Mark the application's current letter superseded (returning the decision to handling);
    the number of letters marked (0 or 1)."""
    now = utcnow()
    result = session.execute(
        sa.update(DecisionDocument)
        .where(
            col(DecisionDocument.application_id) == application.id,
            col(DecisionDocument.superseded_at).is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        audit.record(
            session,
            actor=actor,
            action="subsidy_application.decision_letter.supersede",
            target_type=TARGET,
            target_id=application.id,
            fields=["superseded_at"],
        )
    return count


def store(session: Session, *, application: Application, actor: Actor) -> DecisionDocument:
    """The letter of the decision just made (the application is accepted or rejected, stamped),
    stored in the caller's transaction: the decision and its letter are saved together."""
    if application.status not in (S.accepted, S.rejected) or application.decided_at is None:
        raise InvalidTransition()
    supersede(session, application=application, actor=actor)
    decider = _user_name(session, application.decider_id)
    content = build_content(
        session,
        application=application,
        decision=application.status,
        reason=application.decision_reason,
        granted_as_de_minimis_aid=application.granted_as_de_minimis_aid,
        calculation=application.decided_calculation,
        decided_at=application.decided_at,
        decision_maker=decider,
    )
    document = DecisionDocument(
        application_id=application.id or 0,
        language=content.language,
        pdf=letter_pdf(content),
        content=content.model_dump(mode="json"),
        decided_by=decider,
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.decision_letter.create",
        target_type=TARGET,
        target_id=application.id,
        detail=f"document={document.id};language={document.language}",
    )
    return document


# --- Reading the current letter ----------------------------------------------------------------------


@dataclass(frozen=True)
class LetterInfo:
    """What a page shows of the current letter (without loading the PDF)."""

    id: int
    language: str
    created_at: datetime
    decided_by: str
    json_name: str  # the file name a download of the JSON gets


def current_info(session: Session, *, application: Application) -> LetterInfo | None:
    if application.status not in (S.accepted, S.rejected):
        return None
    found = session.exec(
        select(
            DecisionDocument.id,
            DecisionDocument.language,
            DecisionDocument.created_at,
            DecisionDocument.decided_by,
        ).where(
            DecisionDocument.application_id == application.id,
            col(DecisionDocument.superseded_at).is_(None),
        )
    ).first()
    if found is None:
        return None
    stem = FILE_NAMES.get(found[1], FILE_NAMES["fi"])
    return LetterInfo(
        id=found[0] or 0,
        language=found[1],
        created_at=found[2],
        decided_by=found[3],
        json_name=f"{stem}-{application.application_number or application.id}.json",
    )


def current(session: Session, *, application: Application) -> DecisionDocument:
    """The letter in force: 404 before a final decision and after it was returned to handling."""
    if application.status not in (S.accepted, S.rejected):
        raise NotFound()
    found: DecisionDocument | None = session.exec(
        select(DecisionDocument).where(
            DecisionDocument.application_id == application.id,
            col(DecisionDocument.superseded_at).is_(None),
        )
    ).first()
    if found is None:
        raise NotFound()
    return found


def _record_read(
    session: Session,
    *,
    application: Application,
    document: DecisionDocument,
    actor: Actor,
    kind: str,
) -> None:
    audit.record_read(
        session,
        actor=actor,
        action="subsidy_application.decision_letter.read",
        target_type=TARGET,
        target_id=application.id,
        fields=PERSONAL_FIELDS,
        detail=f"document={document.id};format={kind}",
    )


def read_pdf(session: Session, *, application: Application, actor: Actor) -> tuple[bytes, str]:
    """The current letter's PDF and its file name (audited)."""
    document = current(session, application=application)
    _record_read(session, application=application, document=document, actor=actor, kind="pdf")
    content = DecisionContent.model_validate(document.content)
    return document.pdf, file_name(content, "pdf")


def read_json(session: Session, *, application: Application, actor: Actor) -> DecisionContent:
    """The current decision as data (audited)."""
    document = current(session, application=application)
    _record_read(session, application=application, document=document, actor=actor, kind="json")
    return DecisionContent.model_validate(document.content)


# --- The decider's preview ------------------------------------------------------------------------


def _problem(field: str, kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": (field,), "msg": kind, "input": None, "ctx": {}}


def preview(
    session: Session, *, application: Application, data: DecisionIn, actor: Actor
) -> tuple[bytes, str]:
    """The letter the chosen decision would make now (the current calculation when accepting),
    marked as a preview; nothing is stored but the audit row. Refused (409) when the actor may
    not decide the application now; accepting needs a current calculation, as deciding does."""
    if actor.kind != "staff" or DECIDING.isdisjoint(actor.roles):
        raise InvalidTransition()
    if application.status != S.handling:
        raise InvalidTransition()
    frozen: dict[str, Any] | None = None
    if data.decision == S.accepted:
        current_calculation = calculations.get(session, application=application)
        if current_calculation is None or current_calculation.result is None:
            raise ValidationFailed([_problem("calculation", "subsidy_calculation_missing")])
        if not calculations.is_current(
            session, application=application, calculation=current_calculation
        ):
            raise ValidationFailed([_problem("calculation", "subsidy_calculation_outdated")])
        frozen = calculations.frozen(current_calculation)
    content = build_content(
        session,
        application=application,
        decision=data.decision,
        reason=data.reason,
        granted_as_de_minimis_aid=data.granted_as_de_minimis_aid,
        calculation=frozen,
        decided_at=utcnow(),
        decision_maker=_user_name(session, events.actor_user_id(actor)),
    )
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.decision_letter.preview",
        target_type=TARGET,
        target_id=application.id,
        fields=PERSONAL_FIELDS,
        detail=f"decision={data.decision};language={content.language}",
    )
    return letter_pdf(content, preview=True), file_name(content, "pdf", preview=True)
