"""Kesäseteli employer claims: the employer's draft, the look-up of the youth by name and serial,
attachments, submitting, and the answers to a handler's request for more information
(kesaseteli.md §1.6, §3.5, §3.6, §3.8, K33-K48). The handlers' side is in claim_handling.py.

Session first, keyword arguments; never commits. Every claim an employer reaches goes through
`for_company`, so another company's claim is simply not found (404).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from app import audit, rules
from app.audit import Outcome
from app.companies.models import Company
from app.db import utcnow
from app.documents.storage import FileStore
from app.documents.uploads import CheckedFile
from app.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_
from app.security import Actor
from app.state_machine import TransitionTable, apply_transition
from app.summer_voucher import handling, service
from app.summer_voucher import timeline as timeline_events
from app.summer_voucher.models import (
    AttachmentKind,
    Claim,
    ClaimAttachment,
    ClaimStatus,
    TimelineEntry,
    TimelineKind,
    Voucher,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.names import last_name_matches
from app.summer_voucher.schemas import (
    CLAIM_REQUIRED_FIELDS,
    FOREIGN_ACCOUNT_FIELDS,
    INVOICER_FIELDS,
    ClaimDraftIn,
    ClaimLookupIn,
    ClaimSubmitIn,
)
from app.summer_voucher.serials import format_serial, parse_serial

EMPLOYER = "employer"
HANDLING_ROLES = handling.HANDLING_ROLES
MAX_PER_KIND = 5
PAGE_SIZE = 15

S = ClaimStatus
# (from, to) -> who. The employer submits and answers a request; handlers do the rest (K51).
CLAIM_TRANSITIONS: TransitionTable[ClaimStatus] = TransitionTable(
    {
        (S.draft, S.submitted): frozenset({EMPLOYER}),
        (S.submitted, S.handling): HANDLING_ROLES,
        (S.submitted, S.additional_information_requested): HANDLING_ROLES,
        (S.handling, S.additional_information_requested): HANDLING_ROLES,
        (S.additional_information_provided, S.additional_information_requested): HANDLING_ROLES,
        (S.additional_information_requested, S.additional_information_provided): frozenset(
            {EMPLOYER}
        ),
        (S.submitted, S.accepted): HANDLING_ROLES,
        (S.submitted, S.rejected): HANDLING_ROLES,
        (S.handling, S.accepted): HANDLING_ROLES,
        (S.handling, S.rejected): HANDLING_ROLES,
        (S.additional_information_requested, S.rejected): HANDLING_ROLES,
        (S.additional_information_provided, S.accepted): HANDLING_ROLES,
        (S.additional_information_provided, S.rejected): HANDLING_ROLES,
    }
)
# The employer may change fields only in a draft, and add files also when asked for more.
EMPLOYER_EDITABLE = frozenset({S.draft})
EMPLOYER_UPLOADS = frozenset({S.draft, S.additional_information_requested})

STATUS_NAMES: dict[str, str] = {
    S.draft: N_("Draft"),
    S.submitted: N_("Submitted"),
    S.handling: N_("In handling"),
    S.additional_information_requested: N_("More information requested"),
    S.additional_information_provided: N_("More information provided"),
    S.accepted: N_("Approved"),
    S.rejected: N_("Rejected"),
}
ATTACHMENT_KIND_NAMES: dict[str, str] = {
    AttachmentKind.employment_contract: N_("Employment contract"),
    AttachmentKind.payslip: N_("Payslip"),
}
HIRED_NAMES: dict[str, str] = {"yes": N_("Yes"), "no": N_("No"), "maybe": N_("Maybe")}


class VoucherNotFound(AppError):
    """The same answer for an unknown serial and a name that does not match (K38)."""

    status_code = 404
    code = "voucher_not_found"
    message = N_(
        "No summer job voucher was found with this name and serial number. Check both against "
        "the voucher."
    )


class VoucherNotAccepted(AppError):
    status_code = 409
    code = "youth_application_not_accepted"
    message = N_("This summer job voucher is not valid yet.")


class VoucherAlreadyUsed(AppError):
    status_code = 409
    code = "summer_voucher_already_used"
    message = N_("This summer job voucher has already been used in another claim.")


class ClaimLocked(AppError):
    status_code = 409
    code = "claim_locked"
    message = N_("The claim has been sent and can no longer be changed.")


class TooManyAttachments(AppError):
    status_code = 422
    code = "too_many_attachments"
    message = N_("You can add at most five files of each type.")


# --- Loading and listing --------------------------------------------------------------------


def user_id_of(actor: Actor) -> int:
    if actor.user_id is None or not actor.user_id.isdigit():
        raise PermissionDenied()
    return int(actor.user_id)


def company_of(session: Session, *, actor: Actor) -> Company:
    """The company the employer acts for now (K47: a lost mandate loses access)."""
    company = (
        session.exec(select(Company).where(Company.business_id == actor.business_id)).first()
        if actor.business_id
        else None
    )
    if company is None:
        raise PermissionDenied()
    return company


def for_company(company_id: int) -> SelectOfScalar[Claim]:
    return select(Claim).where(Claim.company_id == company_id)


def get_for_employer(session: Session, *, claim_id: int, actor: Actor) -> Claim:
    company = company_of(session, actor=actor)
    claim = session.exec(for_company(company.id or 0).where(Claim.id == claim_id)).first()
    if claim is None:
        raise NotFound()
    return claim


@dataclass(frozen=True)
class ClaimRow:
    claim: Claim
    employee_name: str | None
    serial: str | None
    is_mine: bool


@dataclass(frozen=True)
class ClaimPage:
    rows: list[ClaimRow]
    next_after: str | None
    years: list[int]


def _employer_cursor(claim: Claim) -> str:
    return f"{claim.id}:{claim.updated_at.isoformat()}"


def company_claims(
    session: Session,
    *,
    actor: Actor,
    only_mine: bool = False,
    year: int | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> ClaimPage:
    """The company's claims by everyone of the company, newest change first (K35). Decided
    claims stay listed with their status (an improvement on the city's current service)."""
    company = company_of(session, actor=actor)
    user_id = user_id_of(actor)
    statement = for_company(company.id or 0)
    if only_mine:
        statement = statement.where(Claim.creator_id == user_id)
    if year is not None:
        start = datetime(year, 1, 1, tzinfo=service.HELSINKI)
        end = datetime(year + 1, 1, 1, tzinfo=service.HELSINKI)
        statement = statement.where(Claim.created_at >= start, Claim.created_at < end)
    if after is not None:
        id_text, sep, moment_text = after.partition(":")
        try:
            moment = datetime.fromisoformat(moment_text)
        except ValueError as exc:
            raise handling.BadCursor() from exc
        if not sep or not id_text.isdigit() or moment.tzinfo is None:
            raise handling.BadCursor()
        seen = sa.tuple_(col(Claim.updated_at), col(Claim.id))
        boundary = sa.tuple_(
            sa.literal(moment, type_=Claim.__table__.c.updated_at.type),  # type: ignore[attr-defined]
            sa.literal(int(id_text)),
        )
        statement = statement.where(seen < boundary)
    claims = list(
        session.exec(
            statement.order_by(col(Claim.updated_at).desc(), col(Claim.id).desc()).limit(limit + 1)
        ).all()
    )
    has_more = len(claims) > limit
    claims = claims[:limit]
    serials = _serials(session, [c.voucher_id for c in claims if c.voucher_id])
    years = sorted(
        {
            created.astimezone(service.HELSINKI).year
            for created in session.exec(
                select(Claim.created_at).where(Claim.company_id == company.id)
            ).all()
        },
        reverse=True,
    )
    if claims:
        audit.record(
            session,
            actor=actor,
            action="summer_voucher_claim.list",
            target_type="summer_voucher_claim",
            fields=["employee_name"],
            detail=f"rows={len(claims)}",
        )
    return ClaimPage(
        rows=[
            ClaimRow(
                claim=c,
                employee_name=c.employee_name,
                serial=serials.get(c.voucher_id) if c.voucher_id else None,
                is_mine=c.creator_id == user_id,
            )
            for c in claims
        ],
        next_after=_employer_cursor(claims[-1]) if has_more and claims else None,
        years=years,
    )


def _serials(session: Session, voucher_ids: Sequence[int]) -> dict[int, str]:
    if not voucher_ids:
        return {}
    return {
        voucher_id: format_serial(number)
        for voucher_id, number in session.exec(
            select(Voucher.id, Voucher.serial_number).where(col(Voucher.id).in_(voucher_ids))
        ).all()
        if voucher_id is not None
    }


def serial_of(session: Session, claim: Claim) -> str | None:
    return _serials(session, [claim.voucher_id]).get(claim.voucher_id) if claim.voucher_id else None


def attachments_of(session: Session, claim: Claim) -> list[ClaimAttachment]:
    return list(
        session.exec(
            select(ClaimAttachment)
            .where(ClaimAttachment.claim_id == claim.id)
            .order_by(col(ClaimAttachment.kind), col(ClaimAttachment.id))
        ).all()
    )


# --- Value of a claim -------------------------------------------------------------------------


def voucher_year_of(created_at: datetime) -> int:
    """The year whose voucher value a claim gets: a claim created before 14 February belongs
    to the previous year (K23; rules summer_voucher.claim_value_year_start)."""
    local = created_at.astimezone(service.HELSINKI).date()
    month, day = str(rules.value("summer_voucher.claim_value_year_start", local)).split("-")
    return local.year - 1 if local < date(local.year, int(month), int(day)) else local.year


def claim_value(session: Session, claim: Claim) -> Decimal:
    value = service.voucher_terms(session, year=voucher_year_of(claim.created_at))["value"]
    return Decimal(value)


# --- The employer's draft -----------------------------------------------------------------------


PREFILL_FIELDS = (
    "contact_name",
    "contact_email",
    "contact_phone",
    "street_address",
    "iban",
    "payee_name",
    "payee_address",
    "bic",
    "bank_name",
    "bank_address",
    "is_separate_invoicer",
    "invoicer_name",
    "invoicer_email",
    "invoicer_phone",
)


def open_draft(
    session: Session, *, actor: Actor, language: str, copy_from: Claim | None = None
) -> Claim:
    """The user's draft for this company, made if there is none (K36). `copy_from` (a claim
    of the same company) fills the employer's contact and bank details: "add another" (K45)."""
    company = company_of(session, actor=actor)
    user_id = user_id_of(actor)
    existing = session.exec(
        for_company(company.id or 0).where(
            Claim.creator_id == user_id, Claim.status == ClaimStatus.draft
        )
    ).first()
    if existing is not None:
        return existing
    claim = Claim(company_id=company.id or 0, creator_id=user_id, language=language)
    if copy_from is not None and copy_from.company_id == company.id:
        for name in PREFILL_FIELDS:
            setattr(claim, name, getattr(copy_from, name))
    if claim.street_address is None and company.street_address:
        parts = [company.street_address, " ".join(p for p in (company.postcode, company.city) if p)]
        claim.street_address = ", ".join(p for p in parts if p)[:256]
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        # The same user opened a draft in another tab at the same moment: use that one.
        found = session.exec(
            for_company(company.id or 0).where(
                Claim.creator_id == user_id, Claim.status == ClaimStatus.draft
            )
        ).first()
        if found is None:
            raise
        return found
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.create",
        target_type="summer_voucher_claim",
        target_id=claim.id,
    )
    return claim


def record_read(session: Session, *, claim: Claim, actor: Actor) -> None:
    """A page or answer showing the claim's personal data (the employee, the account) (K58)."""
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.read",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        fields=["employee_name", "employee_phone", "iban"],
    )


def _require_editable(claim: Claim) -> None:
    if claim.status not in EMPLOYER_EDITABLE:
        raise ClaimLocked()


def save_draft(
    session: Session, *, claim: Claim, data: ClaimDraftIn, actor: Actor, partial: bool = False
) -> Claim:
    """Store what the employer typed; incomplete is fine, invalid is not (the schema).
    `partial` (the API's PATCH) changes only the fields given."""
    _require_editable(claim)
    if claim.voucher_id is None:
        # K37: nothing about the employment is kept before the youth is found, but the
        # employer's own details may be saved.
        employment = {"employee_phone", "employment_postcode", "employment_start"}
        employment |= {"employment_end", "work_hours", "salary_paid", "job_description"}
        employment |= {"hired_without_voucher"}
        values = data.model_dump(exclude=employment, exclude_unset=partial)
    else:
        values = data.model_dump(exclude_unset=partial)
    changed = [name for name, value in values.items() if getattr(claim, name) != value]
    for name, value in values.items():
        setattr(claim, name, value)
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.update",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        fields=changed,
    )
    return claim


def delete_draft(session: Session, *, claim: Claim, actor: Actor) -> None:
    """K46: only drafts; their files go with them (the store's sweep removes the contents)."""
    _require_editable(claim)
    claim_id = claim.id
    session.execute(sa.delete(ClaimAttachment).where(col(ClaimAttachment.claim_id) == claim_id))
    session.delete(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.delete",
        target_type="summer_voucher_claim",
        target_id=claim_id,
    )


# --- Finding the youth --------------------------------------------------------------------------


@dataclass(frozen=True)
class Employee:
    """What the employer sees of the youth once found: enough to check it is the right person."""

    name: str
    serial: str
    birth_date: date | None
    phone: str
    postcode: str
    school: str


def _used_elsewhere(session: Session, *, voucher_id: int, claim_id: int | None) -> bool:
    statement = (
        select(func.count())
        .select_from(Claim)
        .where(
            Claim.voucher_id == voucher_id,
            col(Claim.status).not_in([ClaimStatus.draft, ClaimStatus.rejected]),
        )
    )
    if claim_id is not None:
        statement = statement.where(Claim.id != claim_id)
    return session.exec(statement).one() > 0


def lookup(session: Session, *, claim: Claim, data: ClaimLookupIn, actor: Actor) -> Employee:
    """Find the youth by the voucher's serial and the name the employer typed (K37-K39).

    A serial that does not exist and a name that does not match answer the same, so serials
    cannot be probed; every attempt is audited (K58), a second use of a voucher as a warning.
    """
    _require_editable(claim)
    number = parse_serial(data.serial)
    found = None
    if number is not None:
        found = session.exec(
            select(Voucher, YouthApplication)
            .join(YouthApplication, col(YouthApplication.id) == Voucher.youth_application_id)
            .where(Voucher.serial_number == number)
        ).first()
    if found is None or not last_name_matches(found[1].last_name, data.employee_name):
        audit.record(
            session,
            actor=actor,
            action="summer_voucher_claim.employee_lookup",
            target_type="summer_voucher_claim",
            target_id=claim.id,
            outcome=Outcome.failure,
            detail="not_found",
        )
        raise VoucherNotFound()
    voucher, youth = found
    if youth.status != YouthStatus.accepted:
        audit.record(
            session,
            actor=actor,
            action="summer_voucher_claim.employee_lookup",
            target_type="youth_application",
            target_id=youth.id,
            outcome=Outcome.failure,
            detail="not_accepted",
        )
        raise VoucherNotAccepted()
    if _used_elsewhere(session, voucher_id=voucher.id or 0, claim_id=claim.id):
        audit.record(
            session,
            actor=actor,
            action="summer_voucher_claim.employee_lookup",
            target_type="youth_application",
            target_id=youth.id,
            outcome=Outcome.denied,
            detail="voucher_already_used",
        )
        raise VoucherAlreadyUsed()
    claim.voucher_id = voucher.id
    claim.employee_name = data.employee_name
    if not claim.employee_phone:
        claim.employee_phone = youth.phone
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.employee_lookup",
        target_type="youth_application",
        target_id=youth.id,
        fields=["first_name", "last_name", "phone", "postcode", "school", "hetu"],
        detail=f"claim={claim.id}",
    )
    return _employee(youth, voucher)


def _employee(youth: YouthApplication, voucher: Voucher) -> Employee:
    return Employee(
        name=f"{youth.first_name} {youth.last_name}",
        serial=format_serial(voucher.serial_number),
        birth_date=handling.birth_date_of(youth),
        phone=youth.phone,
        postcode=youth.postcode,
        school=youth.school,
    )


def employee_of(session: Session, *, claim: Claim) -> Employee | None:
    if claim.voucher_id is None:
        return None
    found = session.exec(
        select(Voucher, YouthApplication)
        .join(YouthApplication, col(YouthApplication.id) == Voucher.youth_application_id)
        .where(Voucher.id == claim.voucher_id)
    ).first()
    return _employee(found[1], found[0]) if found else None


def clear_employee(session: Session, *, claim: Claim, actor: Actor) -> None:
    """Start the look-up again (a wrong youth was loaded): the employment fields stay."""
    _require_editable(claim)
    claim.voucher_id = None
    claim.employee_name = None
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.update",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        fields=["voucher_id", "employee_name"],
    )


# --- Attachments ----------------------------------------------------------------------------------


def add_attachment(
    session: Session,
    *,
    claim: Claim,
    kind: AttachmentKind,
    upload: CheckedFile,
    store: FileStore,
    actor: Actor,
    by_staff: bool = False,
) -> ClaimAttachment:
    """K43, K48, K50: employers add files to a draft or when asked for more; handlers always."""
    if not by_staff and claim.status not in EMPLOYER_UPLOADS:
        raise ClaimLocked()
    count = session.exec(
        select(func.count())
        .select_from(ClaimAttachment)
        .where(ClaimAttachment.claim_id == claim.id, ClaimAttachment.kind == kind)
    ).one()
    if count >= MAX_PER_KIND:
        raise TooManyAttachments()
    key = store.save(upload.data)
    attachment = ClaimAttachment(
        claim_id=claim.id or 0,
        kind=kind,
        filename=upload.filename,
        content_type=upload.content_type,
        size_bytes=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        uploaded_by_id=user_id_of(actor),
        uploaded_by_staff=by_staff,
    )
    session.add(attachment)
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.attachment.add",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        detail=f"attachment={attachment.id};kind={kind}",
    )
    return attachment


def get_attachment(session: Session, *, claim: Claim, attachment_id: int) -> ClaimAttachment:
    attachment = session.exec(
        select(ClaimAttachment).where(
            ClaimAttachment.id == attachment_id, ClaimAttachment.claim_id == claim.id
        )
    ).first()
    if attachment is None:
        raise NotFound()
    return attachment


def read_attachment(
    session: Session, *, claim: Claim, attachment: ClaimAttachment, store: FileStore, actor: Actor
) -> bytes:
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.attachment.read",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        detail=f"attachment={attachment.id}",
    )
    return store.read(attachment.storage_key)


def delete_attachment(
    session: Session,
    *,
    claim: Claim,
    attachment: ClaimAttachment,
    actor: Actor,
    by_staff: bool = False,
) -> None:
    """Employers delete only in a draft; handlers in any status (kesaseteli.md §3.8)."""
    if not by_staff:
        _require_editable(claim)
    attachment_id = attachment.id
    session.delete(attachment)
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.attachment.delete",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        detail=f"attachment={attachment_id}",
    )


# --- Submitting -------------------------------------------------------------------------------------


def _error(field: str, kind: str, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": kind, "loc": (field,), "msg": kind, "input": None, "ctx": ctx or {}}


def submit_problems(session: Session, *, claim: Claim) -> list[dict[str, Any]]:
    """Everything that stops the claim from being sent, in Pydantic's error shape (K40-K44)."""
    errors: list[dict[str, Any]] = []
    employee = employee_of(session, claim=claim)
    if employee is None:
        errors.append(_error("employee_name", "employee_not_loaded"))
    # Values stored in a draft were valid when saved; re-validate them as a whole anyway, so a
    # rule added since then holds too.
    current = {name: getattr(claim, name) for name in ClaimDraftIn.model_fields}
    try:
        ClaimDraftIn.model_validate(current)
    except ValidationError as exc:
        errors.extend(dict(e) for e in exc.errors())
    required = list(CLAIM_REQUIRED_FIELDS)
    if claim.iban and not claim.iban.startswith("FI"):
        required += FOREIGN_ACCOUNT_FIELDS
    if claim.is_separate_invoicer:
        required += INVOICER_FIELDS
    errors.extend(
        _error(name, "required_on_submit")
        for name in required
        if getattr(claim, name) in (None, "")
    )
    if employee is not None and claim.voucher_id is not None:
        youth_year = session.exec(
            select(YouthApplication.year)
            .join(Voucher, col(Voucher.youth_application_id) == YouthApplication.id)
            .where(Voucher.id == claim.voucher_id)
        ).one()
        terms = service.voucher_terms(session, year=youth_year)
        start, end = terms["work_start"], terms["work_end"]
        period = {"start": start.strftime("%-d.%-m.%Y"), "end": end.strftime("%-d.%-m.%Y")}
        for name in ("employment_start", "employment_end"):
            value = getattr(claim, name)
            if value is not None and not start <= value <= end:
                errors.append(_error(name, "outside_work_period", period))
        if claim.work_hours is not None and claim.work_hours < Decimal(terms["min_hours"]):
            errors.append(
                _error("work_hours", "below_min_hours", {"min_hours": terms["min_hours"]})
            )
        if claim.salary_paid is not None and claim.salary_paid < Decimal(terms["min_pay"]):
            shown = f"{Decimal(terms['min_pay']):.2f}".replace(".", ",")
            errors.append(_error("salary_paid", "below_min_pay", {"min_pay": shown}))
    kinds = set(
        session.exec(select(ClaimAttachment.kind).where(ClaimAttachment.claim_id == claim.id)).all()
    )
    errors.extend(
        _error(f"attachments_{kind.value}", "attachments_missing")
        for kind in AttachmentKind
        if kind.value not in kinds
    )
    return errors


def _employer_actor(actor: Actor) -> Actor:
    return dataclasses.replace(actor, roles=actor.roles | {EMPLOYER})


def add_status_event(
    session: Session, *, claim: Claim, old: str, new: str, actor: Actor, content: str | None = None
) -> None:
    timeline_events.add_status_event(
        session, claim_id=claim.id, old=old, new=new, actor=actor, content=content
    )


def submit(session: Session, *, claim: Claim, data: ClaimSubmitIn, actor: Actor) -> Claim:
    """Send the claim (K44, K45): every check passes or nothing changes; then it is locked.

    The database refuses a second claim on the same voucher (the partial unique index), so of
    two employers sending the same serial at the same moment exactly one succeeds.
    """
    _require_editable(claim)
    errors = submit_problems(session, claim=claim)
    if not data.terms_accepted:  # the schema refuses it already; the service does not rely on it
        errors.append(_error("terms_accepted", "must_be_true"))
    if errors:
        raise ValidationFailed(errors)
    if claim.voucher_id is not None and _used_elsewhere(
        session, voucher_id=claim.voucher_id, claim_id=claim.id
    ):
        raise VoucherAlreadyUsed()
    youth_status = session.exec(
        select(YouthApplication.status)
        .join(Voucher, col(Voucher.youth_application_id) == YouthApplication.id)
        .where(Voucher.id == claim.voucher_id)
    ).one()
    if youth_status != YouthStatus.accepted:
        raise VoucherNotAccepted()
    now = utcnow()
    try:
        with session.begin_nested():
            old, new = apply_transition(
                session,
                obj=claim,
                table=CLAIM_TRANSITIONS,
                target=ClaimStatus.submitted,
                actor=_employer_actor(actor),
                role=EMPLOYER,
                target_type="summer_voucher_claim",
                stamps={"submitted_at": now, "terms_accepted_at": now, "updated_at": now},
            )
    except IntegrityError as exc:
        raise VoucherAlreadyUsed() from exc
    add_status_event(session, claim=claim, old=old, new=new, actor=actor)
    return claim


def provide_information(session: Session, *, claim: Claim, actor: Actor) -> Claim:
    """The employer has added what the handler asked for and sends the claim back (K48)."""
    if claim.status != ClaimStatus.additional_information_requested:
        raise ClaimLocked()
    now = utcnow()
    old, new = apply_transition(
        session,
        obj=claim,
        table=CLAIM_TRANSITIONS,
        target=ClaimStatus.additional_information_provided,
        actor=_employer_actor(actor),
        role=EMPLOYER,
        target_type="summer_voucher_claim",
        stamps={"updated_at": now},
    )
    add_status_event(session, claim=claim, old=old, new=new, actor=actor)
    return claim


def timeline(
    session: Session, *, claim: Claim, kinds: Sequence[str] = (), include_internal: bool = True
) -> list[TimelineEntry]:
    """Newest first (K53). Employers see status changes only, never handler notes."""
    statement = select(TimelineEntry).where(TimelineEntry.claim_id == claim.id)
    chosen = [k for k in kinds if k in {t.value for t in TimelineKind}]
    if chosen:
        statement = statement.where(col(TimelineEntry.kind).in_(chosen))
    if not include_internal:
        statement = statement.where(TimelineEntry.kind == TimelineKind.status)
    return list(
        session.exec(
            statement.order_by(col(TimelineEntry.created_at).desc(), col(TimelineEntry.id).desc())
        ).all()
    )
