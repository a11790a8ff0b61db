"""Kesäseteli JSON API for handlers: the employer claims' queue and detail, taking a claim,
asking for more information, the decision and notes (the same services as the back office
pages, K49-K53)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from app.auth.dependencies import Auth, require_staff
from app.deps import SessionDep
from app.summer_voucher import claim_handling
from app.summer_voucher.claim_handling import ClaimDetail, Sort
from app.summer_voucher.models import Claim, ClaimStatus, TimelineEntry
from app.summer_voucher.schemas import ClaimDecisionIn, InformationRequestIn, NoteIn
from app.types import mask_hetu

require_handler = require_staff("handler", "admin")
HandlerAuth = Annotated[Auth, Depends(require_handler)]

router = APIRouter(
    prefix="/api/v1/summer-voucher/claims",
    dependencies=[Depends(require_handler)],
    tags=["summer voucher handling"],
)


class HandlerClaimRowOut(BaseModel):
    id: int
    serial: str | None
    employee_name: str | None
    company_name: str
    business_id: str
    status: ClaimStatus
    submitted_at: datetime | None


class HandlerClaimQueueOut(BaseModel):
    rows: list[HandlerClaimRowOut]
    counts: dict[str, int]
    next_after: str | None


class HandlerClaimOut(BaseModel):
    """The claim's own data as the employer sent it, and the handling so far."""

    id: int
    status: ClaimStatus
    language: str
    submitted_at: datetime | None
    employee_name: str | None
    employee_phone: str | None
    employment_postcode: str | None
    employment_start: date | None
    employment_end: date | None
    work_hours: Decimal | None
    salary_paid: Decimal | None
    job_description: str | None
    hired_without_voucher: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    street_address: str | None
    iban: str | None
    payee_name: str | None
    payee_address: str | None
    bic: str | None
    bank_name: str | None
    bank_address: str | None
    information_request: str | None
    handler_id: int | None
    decided_at: datetime | None
    decision_reason: str | None
    amount: Decimal | None


class HandlerClaimCompanyOut(BaseModel):
    name: str
    business_id: str
    company_form: str | None
    industry: str | None
    street_address: str | None
    postcode: str | None
    city: str | None


class HandlerClaimYouthOut(BaseModel):
    """The young person from the youth application; the identity code is masked."""

    application_id: int
    name: str
    hetu_masked: str | None
    birth_date: date | None
    postcode: str
    school: str
    phone: str
    home_municipality: str | None
    target_group: str
    register_restricted: bool


class HandlerAttachmentOut(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by_staff: bool
    created_at: datetime


class HandlerTimelineEntryOut(BaseModel):
    id: int
    created_at: datetime
    kind: Literal["note", "status"]
    actor_name: str
    from_status: str | None
    to_status: str | None
    note_type: str | None
    important: bool
    content: str | None
    edited_at: datetime | None


class HandlerClaimDetailOut(BaseModel):
    claim: HandlerClaimOut
    company: HandlerClaimCompanyOut
    serial: str | None
    youth: HandlerClaimYouthOut | None
    value: Decimal  # what approving pays; the decided amount once approved
    attachments: list[HandlerAttachmentOut]
    timeline: list[HandlerTimelineEntryOut]
    actions: list[ClaimStatus]  # the moves open to the caller now


def _claim_out(claim: Claim) -> HandlerClaimOut:
    return HandlerClaimOut.model_validate(claim, from_attributes=True)


def _entry_out(entry: TimelineEntry) -> HandlerTimelineEntryOut:
    return HandlerTimelineEntryOut.model_validate(entry, from_attributes=True)


def _detail_out(found: ClaimDetail) -> HandlerClaimDetailOut:
    youth = found.youth
    return HandlerClaimDetailOut(
        claim=_claim_out(found.claim),
        company=HandlerClaimCompanyOut.model_validate(found.company, from_attributes=True),
        serial=found.serial,
        youth=HandlerClaimYouthOut(
            application_id=youth.application_id,
            name=youth.name,
            hetu_masked=mask_hetu(youth.hetu) or None,
            birth_date=youth.birth_date,
            postcode=youth.postcode,
            school=youth.school,
            phone=youth.phone,
            home_municipality=youth.home_municipality,
            target_group=youth.target_group,
            register_restricted=youth.register_restricted,
        )
        if youth
        else None,
        value=found.value,
        attachments=[
            HandlerAttachmentOut.model_validate(a, from_attributes=True) for a in found.attachments
        ],
        timeline=[_entry_out(e) for e in found.timeline],
        actions=found.actions,
    )


@router.get("", response_model=HandlerClaimQueueOut)
def list_claims(
    auth: HandlerAuth,
    db: SessionDep,
    tab: Literal["pending", "processed"] = "pending",
    status: Annotated[list[ClaimStatus], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    sort: Sort | None = None,
    descending: bool | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=claim_handling.MAX_PAGE)] = 100,
) -> HandlerClaimQueueOut:
    """A tab of the claims queue: `status` narrows it (none: the tab's defaults), `after` is the
    previous page's `next_after`. Received claims come newest first unless sorted otherwise."""
    page = claim_handling.queue(
        db,
        tab=tab,
        actor=auth.actor,
        statuses=[s.value for s in status],
        sort=sort,
        descending=descending,
        after=after,
        limit=limit,
    )
    db.commit()  # the audit row of the read
    return HandlerClaimQueueOut(
        rows=[
            HandlerClaimRowOut(
                id=row.claim.id or 0,
                serial=row.serial,
                employee_name=row.employee_name,
                company_name=row.company.name,
                business_id=row.company.business_id,
                status=ClaimStatus(row.claim.status),
                submitted_at=row.claim.submitted_at,
            )
            for row in page.rows
        ],
        counts=page.counts,
        next_after=page.next_after,
    )


@router.get("/{claim_id}", response_model=HandlerClaimDetailOut)
def get_claim(
    claim_id: int,
    auth: HandlerAuth,
    db: SessionDep,
    timeline: Literal["note", "status"] | None = None,
) -> HandlerClaimDetailOut:
    """The claim with the company, the young person, files, notes and status changes."""
    claim = claim_handling.get_for_staff(db, claim_id=claim_id)
    found = claim_handling.detail(
        db, claim=claim, actor=auth.actor, timeline_kinds=[timeline] if timeline else []
    )
    db.commit()  # the audit row of the read
    return _detail_out(found)


@router.post("/{claim_id}/take", response_model=HandlerClaimOut)
def take_claim(claim_id: int, auth: HandlerAuth, db: SessionDep) -> HandlerClaimOut:
    """Take a sent claim into handling (409 if it is not waiting for that)."""
    claim = claim_handling.take(
        db, claim=claim_handling.get_for_staff(db, claim_id=claim_id), actor=auth.actor
    )
    db.commit()
    return _claim_out(claim)


@router.post("/{claim_id}/request-information", response_model=HandlerClaimOut)
def request_information(
    claim_id: int, data: InformationRequestIn, request: Request, auth: HandlerAuth, db: SessionDep
) -> HandlerClaimOut:
    """Ask the employer for more; the contact person gets the message by e-mail."""
    claim = claim_handling.get_for_staff(db, claim_id=claim_id)
    base = str(request.base_url).rstrip("/")
    claim_handling.request_information(
        db,
        claim=claim,
        data=data,
        actor=auth.actor,
        link=base + claim_handling.employer_claim_path(claim.id),
    )
    db.commit()
    return _claim_out(claim)


@router.post("/{claim_id}/decision", response_model=HandlerClaimOut)
def decide_claim(
    claim_id: int, data: ClaimDecisionIn, auth: HandlerAuth, db: SessionDep
) -> HandlerClaimOut:
    """Approve (the amount is fixed to the voucher value) or reject with a reason. Final."""
    claim = claim_handling.decide(
        db, claim=claim_handling.get_for_staff(db, claim_id=claim_id), data=data, actor=auth.actor
    )
    db.commit()
    return _claim_out(claim)


@router.post("/{claim_id}/notes", status_code=201, response_model=HandlerTimelineEntryOut)
def add_note(
    claim_id: int, data: NoteIn, auth: HandlerAuth, db: SessionDep
) -> HandlerTimelineEntryOut:
    """A handler's note on the claim; "external_message" is a label only, nothing is sent."""
    note = claim_handling.add_note(
        db, target=claim_handling.get_for_staff(db, claim_id=claim_id), data=data, actor=auth.actor
    )
    db.commit()
    return _entry_out(note)
