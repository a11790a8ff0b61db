"""Kesäseteli handlers' side of the employer claims: the queue, the detail, taking a claim into
handling, asking the employer for more information, the decision, and the handlers' notes and
timeline of claims and youth applications (kesaseteli.md §1.7, §2, §5.3; K32, K49-K53).

Session first, keyword arguments; never commits. The employer's side is in claims.py, whose
transition table (CLAIM_TRANSITIONS) holds the handlers' moves too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from app import audit
from app.companies.models import Company
from app.db import utcnow
from app.errors import AppError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_
from app.notifications.service import queue_email, render_email
from app.security import Actor
from app.state_machine import apply_transition
from app.summer_voucher import claims, handling, receipts
from app.summer_voucher import timeline as timeline_events
from app.summer_voucher.models import (
    Claim,
    ClaimAttachment,
    ClaimStatus,
    NoteType,
    TimelineEntry,
    TimelineKind,
    Voucher,
    YouthApplication,
)
from app.summer_voucher.schemas import ClaimDecisionIn, InformationRequestIn, NoteIn
from app.summer_voucher.serials import format_serial

S = ClaimStatus
Tab = Literal["pending", "processed"]

# The statuses each tab lists, and the ones checked when the handler has not chosen: what waits
# for a handler (a claim waiting for the employer's answer is listed only on request).
TAB_STATUSES: dict[str, tuple[ClaimStatus, ...]] = {
    "pending": (
        S.submitted,
        S.handling,
        S.additional_information_requested,
        S.additional_information_provided,
    ),
    "processed": (S.accepted, S.rejected),
}
DEFAULT_STATUSES: dict[str, tuple[ClaimStatus, ...]] = {
    "pending": (S.submitted, S.handling, S.additional_information_provided),
    "processed": (S.accepted, S.rejected),
}
MAX_PAGE = handling.MAX_PAGE
BadCursor = handling.BadCursor


class Sort(StrEnum):
    """Sortable columns (K49). The employee's name is encrypted, so the database cannot order by
    it; every order ends with the claim's id, which makes key paging exact."""

    received = "received"
    status = "status"
    company = "company"
    business_id = "business_id"


SORT_COLUMNS: dict[Sort, Any] = {
    Sort.received: Claim.submitted_at,
    Sort.status: Claim.status,
    Sort.company: Company.name,
    Sort.business_id: Company.business_id,
}
DEFAULT_SORT: tuple[Sort, bool] = (Sort.received, True)  # newest first


def employer_claim_path(claim_id: int | None) -> str:
    """The employer's own page of a claim (claim_views.py), linked from the request e-mail."""
    return f"/employer/summer-voucher/claims/{claim_id}"


class NoContactEmail(AppError):
    status_code = 409
    code = "claim_without_contact_email"
    message = N_("The claim has no contact e-mail address, so the request cannot be sent.")


# --- Loading and the queue ---------------------------------------------------------------------


def for_staff() -> SelectOfScalar[Claim]:
    """Every claim a handler may see: all but drafts, which are the employer's own."""
    return select(Claim).where(Claim.status != ClaimStatus.draft)


def get_for_staff(session: Session, *, claim_id: int) -> Claim:
    claim = session.exec(for_staff().where(Claim.id == claim_id)).first()
    if claim is None:
        raise NotFound()
    return claim


@dataclass(frozen=True)
class QueueRow:
    claim: Claim
    company: Company
    serial: str | None
    employee_name: str | None


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    counts: dict[str, int]
    next_after: str | None  # the cursor of the next page, None on the last page


def _sort_value(claim: Claim, company: Company, sort: Sort) -> Any:
    return {
        Sort.received: claim.submitted_at,
        Sort.status: claim.status,
        Sort.company: company.name,
        Sort.business_id: company.business_id,
    }[sort]


def _cursor(claim: Claim, company: Company, sort: Sort) -> str:
    value = _sort_value(claim, company, sort)
    shown = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{claim.id}:{shown}"


def _parse_cursor(after: str, sort: Sort) -> tuple[Any, int]:
    """ "<id>:<sort value>": the last row seen, so the next page needs no query to find it."""
    id_text, sep, value = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor()
    if sort is Sort.received:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadCursor() from exc
        if moment.tzinfo is None:
            raise BadCursor()
        return moment, int(id_text)
    return value, int(id_text)


def counts_by_tab(session: Session) -> dict[str, int]:
    by_status: dict[str, int] = {}
    for status, count in session.exec(
        select(Claim.status, func.count())
        .where(Claim.status != ClaimStatus.draft)
        .group_by(col(Claim.status))
    ).all():
        by_status[status] = count
    return {
        tab: sum(by_status.get(s.value, 0) for s in statuses)
        for tab, statuses in TAB_STATUSES.items()
    }


def queue(
    session: Session,
    *,
    tab: Tab,
    actor: Actor,
    statuses: Iterable[str] = (),
    sort: Sort | None = None,
    descending: bool | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Queue:
    """One page of a tab, with both tabs' counts (K49).

    Three queries whatever the page size: the page with its companies, the page's serials and
    the counts. `statuses` outside the tab are ignored; none left means the tab's defaults. The
    list shows employees' names, so the read is audited: one row per page, without the names.
    """
    wanted = set(statuses)
    chosen = [s for s in TAB_STATUSES[tab] if s.value in wanted] or list(DEFAULT_STATUSES[tab])
    default_sort, default_desc = DEFAULT_SORT
    sort = sort or default_sort
    descending = default_desc if descending is None else descending
    column = SORT_COLUMNS[sort]
    id_column = col(Claim.id)
    statement = (
        select(Claim, Company)
        .join(Company, col(Company.id) == Claim.company_id)
        .where(col(Claim.status).in_(chosen))
    )
    if after is not None:
        value, last_id = _parse_cursor(after, sort)
        seen = sa.tuple_(column, id_column)
        boundary = sa.tuple_(sa.literal(value, type_=column.type), sa.literal(last_id))
        statement = statement.where(seen < boundary if descending else seen > boundary)
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    limit = max(1, min(limit, MAX_PAGE))
    found = list(session.exec(statement.order_by(*order).limit(limit + 1)).all())
    has_more = len(found) > limit
    found = found[:limit]
    serials = claims._serials(session, [c.voucher_id for c, _ in found if c.voucher_id is not None])
    counts = counts_by_tab(session)
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.queue",
        target_type="summer_voucher_claim",
        fields=["employee_name"],
        detail=f"tab={tab};rows={len(found)}",
    )
    return Queue(
        rows=[
            QueueRow(
                claim=claim,
                company=company,
                serial=serials.get(claim.voucher_id) if claim.voucher_id is not None else None,
                employee_name=claim.employee_name,
            )
            for claim, company in found
        ],
        counts=counts,
        next_after=_cursor(*found[-1], sort) if has_more and found else None,
    )


# --- The detail ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Youth:
    """The young person of the claim, from their youth application (kesaseteli.md §1.7)."""

    application_id: int
    name: str  # the most official: the population register's name when one was stored
    hetu: str | None
    birth_date: date | None
    postcode: str
    school: str
    phone: str
    home_municipality: str | None
    target_group: str
    register_restricted: bool


@dataclass(frozen=True)
class ClaimDetail:
    claim: Claim
    company: Company
    serial: str | None
    youth: Youth | None
    value: Decimal  # what approving pays; the decided amount once approved
    attachments: list[ClaimAttachment]
    timeline: list[TimelineEntry]
    actions: list[ClaimStatus]  # the moves this actor may make now (K51)


def _youth_of(session: Session, claim: Claim) -> Youth | None:
    if claim.voucher_id is None:
        return None
    youth = session.exec(
        select(YouthApplication)
        .join(Voucher, col(Voucher.youth_application_id) == YouthApplication.id)
        .where(Voucher.id == claim.voucher_id)
    ).first()
    if youth is None or youth.id is None:
        return None
    person = handling._stored_person(youth.register_snapshot)
    return Youth(
        application_id=youth.id,
        name=(
            f"{person.first_names} {person.last_name}"
            if person
            else f"{youth.first_name} {youth.last_name}"
        ),
        hetu=youth.hetu,
        birth_date=handling.birth_date_of(youth),
        postcode=youth.postcode,
        school=youth.school,
        phone=youth.phone,
        home_municipality=(person.home_municipality_name if person else None)
        or youth.non_vtj_home_municipality,
        target_group=youth.target_group,
        register_restricted=youth.register_restricted,
    )


def actions_for(claim: Claim, actor: Actor) -> list[ClaimStatus]:
    return claims.CLAIM_TRANSITIONS.targets(ClaimStatus(claim.status), actor.roles)


def value_of(session: Session, claim: Claim) -> Decimal:
    """The decided amount of an approved claim, else what approving it would pay (K23)."""
    if claim.status == ClaimStatus.accepted and claim.amount is not None:
        return claim.amount
    return claims.claim_value(session, claim)


def detail(
    session: Session, *, claim: Claim, actor: Actor, timeline_kinds: Sequence[str] = ()
) -> ClaimDetail:
    """Everything a handler checks (K50): the company, the youth, the employment, the contact
    person and the payment details, files, notes and status changes. Opening it reads personal
    data, which the audit log records (names of fields only)."""
    company = session.get(Company, claim.company_id)
    if company is None:  # the foreign key keeps this from happening
        raise NotFound()
    youth = _youth_of(session, claim)
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.read",
        target_type="summer_voucher_claim",
        target_id=claim.id,
        fields=[
            "employee_name",
            "employee_phone",
            "contact_name",
            "contact_email",
            "contact_phone",
            "iban",
            "payee_name",
            *(
                ["youth.name", "youth.hetu", "youth.birth_date", "youth.phone", "youth.school"]
                if youth
                else []
            ),
        ],
        detail=f"youth_application={youth.application_id}" if youth else None,
    )
    return ClaimDetail(
        claim=claim,
        company=company,
        serial=claims.serial_of(session, claim),
        youth=youth,
        value=value_of(session, claim),
        attachments=claims.attachments_of(session, claim),
        timeline=claims.timeline(session, claim=claim, kinds=timeline_kinds),
        actions=actions_for(claim, actor),
    )


# --- Moves -----------------------------------------------------------------------------------------


def _role_for(claim: Claim, target: ClaimStatus, actor: Actor) -> str:
    """The actor's role that allows this move, or the refusal (409) if none does."""
    for role in sorted(actor.roles):
        if claims.CLAIM_TRANSITIONS.allowed(ClaimStatus(claim.status), target, [role]):
            return role
    raise InvalidTransition()


def _move(
    session: Session,
    *,
    claim: Claim,
    target: ClaimStatus,
    actor: Actor,
    stamps: dict[str, Any],
    content: str | None = None,
) -> None:
    """The guarded move (409 if the table does not allow it, or if someone else moved the claim
    in the meantime), stamped with the handler, and its status entry on the timeline (K53)."""
    old, new = apply_transition(
        session,
        obj=claim,
        table=claims.CLAIM_TRANSITIONS,
        target=target,
        actor=actor,
        role=_role_for(claim, target, actor),
        target_type="summer_voucher_claim",
        stamps={"updated_at": utcnow(), "handler_id": claims.user_id_of(actor), **stamps},
    )
    claims.add_status_event(session, claim=claim, old=old, new=new, actor=actor, content=content)


def take(session: Session, *, claim: Claim, actor: Actor) -> Claim:
    """The handler takes a sent claim: others see that somebody is on it."""
    _move(session, claim=claim, target=ClaimStatus.handling, actor=actor, stamps={})
    return claim


def request_information(
    session: Session, *, claim: Claim, data: InformationRequestIn, actor: Actor, link: str
) -> Claim:
    """Ask the employer for more (K48, K51): the claim opens for their files and the contact
    person gets the question by e-mail in the claim's language, with `link` to the claim. The
    e-mail is queued in the same transaction: both happen or neither does (K66)."""
    if not claim.contact_email:
        raise NoContactEmail()
    _move(
        session,
        claim=claim,
        target=ClaimStatus.additional_information_requested,
        actor=actor,
        stamps={"information_request": data.message},
        content=data.message,
    )
    language = claim.language
    subject, text, html = render_email(
        "summer_voucher_claim_information_request",
        {
            "message": data.message,
            "link": link,
            "serial": claims.serial_of(session, claim) or "",
            "lang": language,
        },
        language=language,
        session=session,
    )
    queue_email(
        session,
        to=claim.contact_email,
        subject=subject,
        body_text=text,
        body_html=html,
        kind="summer_voucher.claim_information_request",
        language=language,
    )
    return claim


def decide(session: Session, *, claim: Claim, data: ClaimDecisionIn, actor: Actor) -> Claim:
    """Approve or reject (K51). Approving fixes the amount to pay: the voucher value of the
    claim's voucher year (K23). A rejection needs its reason, which the employer sees. The
    decision receipt (PDF and JSON, receipts.py) is stored with it."""
    target = ClaimStatus(data.decision)
    now = utcnow()
    if target == ClaimStatus.accepted:
        stamps: dict[str, Any] = {
            "amount": claims.claim_value(session, claim),
            "decided_at": now,
            "decision_reason": data.reason,
        }
    else:
        if not data.reason:  # the schema refuses it already; the service does not rely on it
            raise ValidationFailed(
                [{"type": "missing", "loc": ("reason",), "msg": "missing", "input": None}]
            )
        stamps = {"amount": None, "decided_at": now, "decision_reason": data.reason}
    _move(session, claim=claim, target=target, actor=actor, stamps=stamps, content=data.reason)
    receipts.store(session, claim=claim, actor=actor)
    return claim


# --- Notes and the timeline (K52, K53) --------------------------------------------------------


NoteTarget = Claim | YouthApplication


def _target_of(target: NoteTarget) -> tuple[str, int | None, int | None]:
    """(audit target type, claim id, youth application id) of a note's target."""
    if isinstance(target, Claim):
        return "summer_voucher_claim", target.id, None
    return "youth_application", None, target.id


def add_note(session: Session, *, target: NoteTarget, data: NoteIn, actor: Actor) -> TimelineEntry:
    """A handler's note on a claim or a youth application. "External message" is a label only:
    nothing is sent (kesaseteli.md §5.3)."""
    target_type, claim_id, youth_application_id = _target_of(target)
    if data.attachment_id is not None:
        # A note on one of this claim's files; the schema has made sure it is internal.
        try:
            if not isinstance(target, Claim):
                raise NotFound()
            claims.get_attachment(session, claim=target, attachment_id=data.attachment_id)
        except NotFound:
            raise ValidationFailed(
                [{"type": "enum", "loc": ("attachment_id",), "msg": "enum", "input": None}]
            ) from None
    note = TimelineEntry(
        claim_id=claim_id,
        youth_application_id=youth_application_id,
        attachment_id=data.attachment_id,
        kind=TimelineKind.note,
        actor_id=claims.user_id_of(actor),
        actor_name=timeline_events.actor_name(session, actor),
        note_type=data.note_type,
        important=data.important,
        content=data.content,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{target_type}.note.add",
        target_type=target_type,
        target_id=target.id,
        fields=["content", "note_type", "important"],
        detail=f"note={note.id}",
    )
    return note


def get_note(session: Session, *, target: NoteTarget, note_id: int) -> TimelineEntry:
    """A note of this claim or youth application; a status entry or another's note is 404."""
    _target_type, claim_id, youth_application_id = _target_of(target)
    statement = select(TimelineEntry).where(
        TimelineEntry.id == note_id,
        TimelineEntry.kind == TimelineKind.note,
        TimelineEntry.claim_id == claim_id,
        TimelineEntry.youth_application_id == youth_application_id,
    )
    note = session.exec(statement).first()
    if note is None:
        raise NotFound()
    return note


def require_author(note: TimelineEntry, actor: Actor) -> None:
    if note.actor_id is None or note.actor_id != claims.user_id_of(actor):
        raise PermissionDenied()


def _note_target(note: TimelineEntry) -> tuple[str, int | None]:
    if note.claim_id is not None:
        return "summer_voucher_claim", note.claim_id
    return "youth_application", note.youth_application_id


def edit_note(
    session: Session, *, note: TimelineEntry, data: NoteIn, actor: Actor
) -> TimelineEntry:
    """Only the author may change a note (K52); the timeline shows that it was edited. The
    file a note is about stays; such a note stays internal."""
    require_author(note, actor)
    if note.attachment_id is not None and data.note_type != NoteType.internal:
        raise ValidationFailed(
            [
                {
                    "type": "attachment_note_internal",
                    "loc": ("note_type",),
                    "msg": "attachment_note_internal",
                    "input": None,
                }
            ]
        )
    changed = [
        name
        for name, value in (
            ("content", data.content),
            ("note_type", data.note_type.value),
            ("important", data.important),
        )
        if getattr(note, name) != value
    ]
    note.content = data.content
    note.note_type = data.note_type
    note.important = data.important
    note.edited_at = utcnow()
    session.add(note)
    session.flush()
    target_type, target_id = _note_target(note)
    audit.record(
        session,
        actor=actor,
        action=f"{target_type}.note.edit",
        target_type=target_type,
        target_id=target_id,
        fields=changed,
        detail=f"note={note.id}",
    )
    return note


def delete_note(session: Session, *, note: TimelineEntry, actor: Actor) -> None:
    """Only the author may delete a note (K52)."""
    require_author(note, actor)
    target_type, target_id = _note_target(note)
    note_id = note.id
    session.delete(note)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{target_type}.note.delete",
        target_type=target_type,
        target_id=target_id,
        detail=f"note={note_id}",
    )


def youth_timeline(
    session: Session, *, application_id: int, kinds: Sequence[str] = ()
) -> list[TimelineEntry]:
    """A youth application's notes and handlers' status changes, newest first (K53)."""
    statement = select(TimelineEntry).where(TimelineEntry.youth_application_id == application_id)
    chosen = [k for k in kinds if k in {t.value for t in TimelineKind}]
    if chosen:
        statement = statement.where(col(TimelineEntry.kind).in_(chosen))
    return list(
        session.exec(
            statement.order_by(col(TimelineEntry.created_at).desc(), col(TimelineEntry.id).desc())
        ).all()
    )


# --- K32: the claims that used a youth's voucher ------------------------------------------------


@dataclass(frozen=True)
class VoucherClaim:
    claim_id: int
    company_name: str
    business_id: str
    status: str
    submitted_at: datetime | None
    serial: str


def claims_using_voucher(session: Session, *, youth_application_id: int) -> list[VoucherClaim]:
    """Sent claims (any status but draft) that name this youth's voucher, newest first (K32).
    A rejected claim stays listed: it explains why the voucher was claimed again."""
    rows = session.exec(
        select(Claim, Company, Voucher)
        .join(Voucher, col(Voucher.id) == Claim.voucher_id)
        .join(Company, col(Company.id) == Claim.company_id)
        .where(
            Voucher.youth_application_id == youth_application_id,
            Claim.status != ClaimStatus.draft,
        )
        .order_by(col(Claim.submitted_at).desc(), col(Claim.id).desc())
    ).all()
    return [
        VoucherClaim(
            claim_id=claim.id or 0,
            company_name=company.name,
            business_id=company.business_id,
            status=claim.status,
            submitted_at=claim.submitted_at,
            serial=format_serial(voucher.serial_number),
        )
        for claim, company, voucher in rows
    ]
