"""Kesäseteli JSON API for employers: the same claim use cases as the pages (claims.py).

Unsafe calls carry the X-CSRF-Token header (GET /api/v1/csrf). Another organisation's claim
answers 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from app.auth.dependencies import EmployerAuth, require_employer
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, check_upload
from app.i18n import current_language
from app.summer_voucher import claims
from app.summer_voucher.models import AttachmentKind, Claim, ClaimAttachment
from app.summer_voucher.schemas import ClaimDraftIn, ClaimLookupIn, ClaimSubmitIn
from app.types import format_iban

router = APIRouter(
    prefix="/api/v1/summer-voucher/employer/claims",
    dependencies=[Depends(require_employer)],
    tags=["summer voucher: employer claims"],
)


class EmployeeOut(BaseModel):
    name: str
    serial: str
    birth_date: date | None
    phone: str
    postcode: str
    school: str


class AttachmentOut(BaseModel):
    id: int
    kind: AttachmentKind
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime


class StatusChangeOut(BaseModel):
    at: datetime
    from_status: str | None
    to_status: str | None


class ClaimSummaryOut(BaseModel):
    id: int
    status: str
    employee_name: str | None
    serial: str | None
    updated_at: datetime
    is_mine: bool


class ClaimListOut(BaseModel):
    items: list[ClaimSummaryOut]
    next_after: str | None


class ClaimOut(BaseModel):
    id: int
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    employee: EmployeeOut | None
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
    is_separate_invoicer: bool
    invoicer_name: str | None
    invoicer_email: str | None
    invoicer_phone: str | None
    information_request: str | None
    amount: Decimal | None
    decision_reason: str | None
    attachments: list[AttachmentOut]
    timeline: list[StatusChangeOut]


def _attachment(row: ClaimAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=row.id or 0,
        kind=AttachmentKind(row.kind),
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
    )


def _out(db: SessionDep, claim: Claim) -> ClaimOut:
    employee = claims.employee_of(db, claim=claim)
    fields = {name: getattr(claim, name) for name in ClaimDraftIn.model_fields}
    fields["iban"] = format_iban(claim.iban) if claim.iban else None
    return ClaimOut(
        id=claim.id or 0,
        status=claim.status,
        created_at=claim.created_at,
        updated_at=claim.updated_at,
        submitted_at=claim.submitted_at,
        employee=EmployeeOut(**employee.__dict__) if employee else None,
        information_request=claim.information_request,
        amount=claim.amount,
        decision_reason=claim.decision_reason,
        attachments=[_attachment(a) for a in claims.attachments_of(db, claim)],
        timeline=[
            StatusChangeOut(at=e.created_at, from_status=e.from_status, to_status=e.to_status)
            for e in claims.timeline(db, claim=claim, include_internal=False)
        ],
        **fields,
    )


def _load(db: SessionDep, auth: EmployerAuth, claim_id: int) -> Claim:
    return claims.get_for_employer(db, claim_id=claim_id, actor=auth.actor)


@router.get("", response_model=ClaimListOut)
def list_claims(
    auth: EmployerAuth,
    db: SessionDep,
    mine: bool = False,
    year: Annotated[int | None, Query(ge=2020, le=2100)] = None,
    after: str | None = None,
) -> ClaimListOut:
    """The organisation's claims, newest change first, 15 a page (`next_after` pages on)."""
    page = claims.company_claims(db, actor=auth.actor, only_mine=mine, year=year, after=after)
    db.commit()
    return ClaimListOut(
        items=[
            ClaimSummaryOut(
                id=r.claim.id or 0,
                status=r.claim.status,
                employee_name=r.employee_name,
                serial=r.serial,
                updated_at=r.claim.updated_at,
                is_mine=r.is_mine,
            )
            for r in page.rows
        ],
        next_after=page.next_after,
    )


@router.post("", response_model=ClaimOut, status_code=201)
def open_draft(auth: EmployerAuth, db: SessionDep) -> ClaimOut:
    """The user's draft for the organisation; made if there is none (one per user)."""
    claim = claims.open_draft(db, actor=auth.actor, language=current_language())
    db.commit()
    return _out(db, claim)


@router.get("/{claim_id}", response_model=ClaimOut)
def get_claim(claim_id: int, auth: EmployerAuth, db: SessionDep) -> ClaimOut:
    claim = _load(db, auth, claim_id)
    claims.record_read(db, claim=claim, actor=auth.actor)
    db.commit()
    return _out(db, claim)


@router.patch("/{claim_id}", response_model=ClaimOut)
def update_claim(claim_id: int, data: ClaimDraftIn, auth: EmployerAuth, db: SessionDep) -> ClaimOut:
    """Change a draft's fields; only the fields given change."""
    claim = _load(db, auth, claim_id)
    claims.save_draft(db, claim=claim, data=data, actor=auth.actor, partial=True)
    db.commit()
    return _out(db, claim)


@router.delete("/{claim_id}", status_code=204)
def delete_claim(claim_id: int, auth: EmployerAuth, db: SessionDep) -> Response:
    claim = _load(db, auth, claim_id)
    claims.delete_draft(db, claim=claim, actor=auth.actor)
    db.commit()
    return Response(status_code=204)


@router.post("/{claim_id}/employee", response_model=EmployeeOut)
def find_employee(
    claim_id: int, data: ClaimLookupIn, auth: EmployerAuth, db: SessionDep
) -> EmployeeOut:
    """Find the youth by name and serial. A wrong serial and a wrong name both answer 404."""
    claim = _load(db, auth, claim_id)
    try:
        employee = claims.lookup(db, claim=claim, data=data, actor=auth.actor)
    except (claims.VoucherNotFound, claims.VoucherNotAccepted, claims.VoucherAlreadyUsed):
        db.commit()  # the audit row of the attempt
        raise
    db.commit()
    return EmployeeOut(**employee.__dict__)


@router.delete("/{claim_id}/employee", status_code=204)
def clear_employee(claim_id: int, auth: EmployerAuth, db: SessionDep) -> Response:
    claim = _load(db, auth, claim_id)
    claims.clear_employee(db, claim=claim, actor=auth.actor)
    db.commit()
    return Response(status_code=204)


@router.post("/{claim_id}/attachments", response_model=AttachmentOut, status_code=201)
async def add_attachment(
    claim_id: int,
    request: Request,
    auth: EmployerAuth,
    db: SessionDep,
    kind: Annotated[AttachmentKind, Form()],
    file: Annotated[UploadFile, File()],
) -> AttachmentOut:
    """PDF, PNG or JPEG (judged by content), at most 10 MB, at most five of each kind."""
    claim = _load(db, auth, claim_id)
    checked = check_upload(await file.read(MAX_BYTES + 1), file.filename)
    row = claims.add_attachment(
        db,
        claim=claim,
        kind=kind,
        upload=checked,
        store=request.app.state.file_store,
        actor=auth.actor,
    )
    db.commit()
    return _attachment(row)


@router.get("/{claim_id}/attachments/{attachment_id}", response_class=Response)
def get_attachment(
    claim_id: int, attachment_id: int, request: Request, auth: EmployerAuth, db: SessionDep
) -> Response:
    claim = _load(db, auth, claim_id)
    row = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    content = claims.read_attachment(
        db, claim=claim, attachment=row, store=request.app.state.file_store, actor=auth.actor
    )
    db.commit()
    return download(content, filename=row.filename, content_type=row.content_type)


@router.delete("/{claim_id}/attachments/{attachment_id}", status_code=204)
def delete_attachment(
    claim_id: int, attachment_id: int, auth: EmployerAuth, db: SessionDep
) -> Response:
    claim = _load(db, auth, claim_id)
    row = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    claims.delete_attachment(db, claim=claim, attachment=row, actor=auth.actor)
    db.commit()
    return Response(status_code=204)


@router.post("/{claim_id}/submit", response_model=ClaimOut)
def submit(claim_id: int, data: ClaimSubmitIn, auth: EmployerAuth, db: SessionDep) -> ClaimOut:
    """Send the claim; 422 lists everything missing, 409 if the voucher was used meanwhile."""
    claim = _load(db, auth, claim_id)
    claims.submit(db, claim=claim, data=data, actor=auth.actor)
    db.commit()
    return _out(db, claim)


@router.post("/{claim_id}/provide-information", response_model=ClaimOut)
def provide_information(claim_id: int, auth: EmployerAuth, db: SessionDep) -> ClaimOut:
    """Send the claim back after adding what the handler asked for."""
    claim = _load(db, auth, claim_id)
    claims.provide_information(db, claim=claim, actor=auth.actor)
    db.commit()
    return _out(db, claim)
