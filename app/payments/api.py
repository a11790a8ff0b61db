"""The payments JSON API (`/api/v1/payments/`, payer role): the same use cases as the pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import Response

from app.auth.dependencies import Auth, require_staff
from app.deps import SessionDep
from app.errors import ValidationFailed
from app.payments import service
from app.payments.models import BatchStatus, PaymentBatch, PaymentItem, Programme
from app.payments.schemas import (
    ApproveIn,
    BatchCreateIn,
    BatchDetailOut,
    BatchItemsIn,
    BatchLineOut,
    BatchOut,
    EventOut,
    FailedIn,
    ItemDetailOut,
    ItemOut,
    PaidIn,
    PayableOut,
    StatusReportOut,
)
from app.payments.views import MAX_STATUS_FILE, batch_file, payer_account

require_payer = require_staff("payer")
PayerAuth = Annotated[Auth, Depends(require_payer)]

router = APIRouter(
    prefix="/api/v1/payments", tags=["payments"], dependencies=[Depends(require_payer)]
)


def item_out(item: PaymentItem) -> ItemOut:
    return ItemOut(
        id=item.id or 0,
        programme=item.programme,
        application_number=item.application_number,
        instalment=item.instalment,
        instalments=item.instalments,
        amount=service.euros(item.amount_cents),
        amount_cents=item.amount_cents,
        decision_date=item.decision_date,
        due_date=item.due_date,
        payee_name=item.payee_name,
        business_id=item.business_id,
        iban=item.iban,
        bic=item.bic,
        creditor_reference=item.creditor_reference,
        status=item.status,
        paid_on=item.paid_on,
    )


def batch_out(batch: PaymentBatch) -> BatchOut:
    return BatchOut(
        id=batch.id or 0,
        status=batch.status,
        version=batch.version,
        item_count=batch.item_count,
        total=service.euros(batch.total_cents),
        total_cents=batch.total_cents,
        message_id=batch.message_id,
        created_by=batch.created_by_name,
        created_at=batch.created_at,
        approved_by=batch.approved_by_name,
        approved_at=batch.approved_at,
        exported_at=batch.exported_at,
        execution_date=batch.execution_date,
        closed_at=batch.closed_at,
    )


def _detail(db: SessionDep, batch: PaymentBatch, auth: Auth) -> BatchDetailOut:
    lines = service.read_batch(db, batch=batch, actor=auth.actor)
    db.commit()
    return BatchDetailOut(
        **batch_out(batch).model_dump(),
        lines=[
            BatchLineOut(
                item=item_out(line.item),
                outcome=line.link.outcome,
                paid_on=line.link.paid_on,
                failure_reason=line.link.failure_reason,
            )
            for line in lines
        ],
    )


@router.get("/items", response_model=PayableOut)
def payable_items(
    db: SessionDep,
    programme: Programme | None = None,
    due_until: date | None = None,
    after: str | None = None,
) -> PayableOut:
    """Payable items (open, due by `due_until` or today, in no live batch), oldest due first,
    paged by `after` (the previous page's `next_after`)."""
    page = service.payable(
        db, programme=programme.value if programme else None, due_until=due_until, after=after
    )
    db.commit()
    return PayableOut(
        count=page.count,
        total=service.euros(page.total_cents),
        items=[item_out(item) for item in page.items],
        next_after=page.next_after,
    )


@router.get("/items/{item_id}", response_model=ItemDetailOut)
def item_detail(item_id: int, auth: PayerAuth, db: SessionDep) -> ItemDetailOut:
    """One item with its payment history."""
    item = service.get_item(db, item_id)
    history = service.item_history(db, item=item, actor=auth.actor)
    db.commit()
    return ItemDetailOut(
        **item_out(item).model_dump(),
        history=[
            EventOut(
                kind=e.kind,
                batch_id=e.batch_id,
                actor_name=e.actor_name,
                detail=e.detail,
                created_at=e.created_at,
            )
            for e in history
        ],
    )


@router.get("/batches", response_model=list[BatchOut])
def batch_list(db: SessionDep, status: BatchStatus | None = None) -> list[BatchOut]:
    return [batch_out(b) for b in service.batches(db, status=status.value if status else None)]


@router.post("/batches", response_model=BatchDetailOut, status_code=201)
def batch_create(data: BatchCreateIn, auth: PayerAuth, db: SessionDep) -> BatchDetailOut:
    batch = service.create_batch(db, item_ids=data.item_ids, actor=auth.actor)
    db.commit()
    return _detail(db, batch, auth)


@router.get("/batches/{batch_id}", response_model=BatchDetailOut)
def batch_detail(batch_id: int, auth: PayerAuth, db: SessionDep) -> BatchDetailOut:
    return _detail(db, service.get_batch(db, batch_id), auth)


@router.delete("/batches/{batch_id}", status_code=204)
def batch_delete(batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    service.delete_batch(db, batch=service.get_batch(db, batch_id), actor=auth.actor)
    db.commit()
    return Response(status_code=204)


@router.post("/batches/{batch_id}/items", response_model=BatchDetailOut)
def batch_add(batch_id: int, data: BatchItemsIn, auth: PayerAuth, db: SessionDep) -> BatchDetailOut:
    batch = service.get_batch(db, batch_id)
    service.add_items(db, batch=batch, item_ids=data.item_ids, actor=auth.actor)
    db.commit()
    return _detail(db, batch, auth)


@router.delete("/batches/{batch_id}/items/{item_id}", response_model=BatchDetailOut)
def batch_remove(batch_id: int, item_id: int, auth: PayerAuth, db: SessionDep) -> BatchDetailOut:
    batch = service.get_batch(db, batch_id)
    service.remove_item(db, batch=batch, item_id=item_id, actor=auth.actor)
    db.commit()
    return _detail(db, batch, auth)


@router.post("/batches/{batch_id}/approve", response_model=BatchOut)
def batch_approve(batch_id: int, data: ApproveIn, auth: PayerAuth, db: SessionDep) -> BatchOut:
    """Approve the batch as it was at `version` (another payer than its builder)."""
    batch = service.get_batch(db, batch_id)
    service.approve(db, batch=batch, version=data.version, actor=auth.actor)
    db.commit()
    return batch_out(batch)


@router.post("/batches/{batch_id}/export", response_model=BatchOut)
def batch_export(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> BatchOut:
    """Approved → exported: the bank file is validated and fixed."""
    batch = service.get_batch(db, batch_id)
    service.export(
        db, batch=batch, actor=auth.actor, payer=payer_account(request.app.state.settings)
    )
    db.commit()
    return batch_out(batch)


@router.get(
    "/batches/{batch_id}/bank-file",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
def bank_file(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    """The ISO 20022 pain.001.001.03 file of an exported batch (validated against the XSD)."""
    return batch_file(request, db, auth, batch_id, "pain001")


@router.get(
    "/batches/{batch_id}/finance-csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def finance_csv(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    """The finance CSV of an exported batch (`;`, UTF-8 with BOM)."""
    return batch_file(request, db, auth, batch_id, "finance_csv")


@router.post("/batches/{batch_id}/items/{item_id}/paid", response_model=BatchOut)
def item_paid(
    batch_id: int, item_id: int, data: PaidIn, auth: PayerAuth, db: SessionDep
) -> BatchOut:
    batch = service.get_batch(db, batch_id)
    service.mark_paid(db, batch=batch, item_id=item_id, paid_on=data.paid_on, actor=auth.actor)
    db.commit()
    return batch_out(batch)


@router.post("/batches/{batch_id}/items/{item_id}/failed", response_model=BatchOut)
def item_failed(
    batch_id: int, item_id: int, data: FailedIn, auth: PayerAuth, db: SessionDep
) -> BatchOut:
    batch = service.get_batch(db, batch_id)
    service.mark_failed(db, batch=batch, item_id=item_id, reason=data.reason, actor=auth.actor)
    db.commit()
    return batch_out(batch)


@router.post("/batches/{batch_id}/status-file", response_model=StatusReportOut)
async def status_file(
    batch_id: int, file: UploadFile, auth: PayerAuth, db: SessionDep
) -> StatusReportOut:
    """The bank's status report (pain.002) or a CSV of application numbers."""
    content = await file.read(MAX_STATUS_FILE + 1)
    if len(content) > MAX_STATUS_FILE:
        raise ValidationFailed(
            [{"type": "status_file_invalid", "loc": ("file",), "msg": "too large", "input": None}]
        )
    batch = service.get_batch(db, batch_id)
    report = service.apply_status_file(db, batch=batch, content=content, actor=auth.actor)
    db.commit()
    return StatusReportOut(
        paid=report.paid,
        failed=report.failed,
        already=report.already,
        unknown=report.unknown,
        batch=batch_out(batch),
    )
