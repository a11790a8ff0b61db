"""The payers' pages (`/admin/payments`, payer role): payable items, batches, the bank file, the
finance CSV and the outcomes (issue #7 §3–§5). Filters are in the URL; every change is a POST with
CSRF that answers 303, or the page again with a clear message when someone else acted first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from app.auth.dependencies import Auth, require_staff
from app.config import Settings
from app.deps import SessionDep
from app.documents.downloads import download
from app.errors import AppError, ValidationFailed
from app.forms import error_message, errors_by_field, normalize, parse_form
from app.i18n import N_, gettext
from app.payments import service
from app.payments.bank_file import PayerAccount
from app.payments.models import BatchStatus, PaymentBatch, Programme
from app.payments.schemas import (
    ApproveIn,
    BatchCreateIn,
    FailedIn,
    PaidIn,
    PayableFilterIn,
)
from app.templating import render

require_payer = require_staff("payer")
PayerAuth = Annotated[Auth, Depends(require_payer)]

router = APIRouter(
    prefix="/admin/payments", dependencies=[Depends(require_payer)], include_in_schema=False
)

MAX_STATUS_FILE = 5 * 1024 * 1024

STATUS_NAMES = {
    BatchStatus.draft: N_("Draft"),
    BatchStatus.approved: N_("Approved"),
    BatchStatus.exported: N_("Bank file made"),
    BatchStatus.closed: N_("Closed"),
}
PROGRAMME_NAMES = {
    Programme.helsinki_lisa: N_("Helsinki benefit"),
    Programme.summer_voucher: N_("Summer job voucher"),
}
EVENT_NAMES = {
    "created": N_("Owed by the decision"),
    "batched": N_("Added to a batch"),
    "removed": N_("Removed from a batch"),
    "approved": N_("Batch approved"),
    "exported": N_("Bank file made"),
    "paid": N_("Paid"),
    "failed": N_("Payment failed"),
}


def payer_account(settings: Settings) -> PayerAccount:
    return PayerAccount(
        name=settings.payment_debtor_name,
        iban=settings.payment_debtor_iban,
        bic=settings.payment_debtor_bic,
        cost_centre=settings.payment_cost_centre,
    )


def _names() -> dict[str, Any]:
    return {
        "status_names": {k: gettext(v) for k, v in STATUS_NAMES.items()},
        "programme_names": {k: gettext(v) for k, v in PROGRAMME_NAMES.items()},
        "event_names": {k: gettext(v) for k, v in EVENT_NAMES.items()},
    }


def _me(auth: Auth) -> int | None:
    user_id = auth.actor.user_id
    return int(user_id) if user_id and user_id.isdigit() else None


@router.get("", name="payments_home")
def payments_home(request: Request, db: SessionDep, status: str = "") -> Response:
    """The batches, newest first, by status; how much is payable now."""
    chosen = status if status in {s.value for s in BatchStatus} else None
    found = service.batches(db, status=chosen)
    payable = service.payable(db, limit=1)
    return render(
        request,
        "admin/payments/index.html",
        {
            **_names(),
            "batches": found,
            "counts": service.batch_counts(db),
            "chosen": chosen,
            "payable": payable,
            "statuses": list(BatchStatus),
        },
    )


def _payable_page(
    request: Request,
    db: SessionDep,
    *,
    values: dict[str, Any],
    after: str | None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    parsed = parse_form(PayableFilterIn, {k: v for k, v in values.items() if v})
    filter_errors = parsed.errors
    data = parsed.data or PayableFilterIn()
    page = service.payable(
        db,
        programme=data.programme.value if data.programme else None,
        due_until=data.due_until,
        after=after,
    )
    drafts = service.batches(db, status=BatchStatus.draft)
    db.commit()
    return render(
        request,
        "admin/payments/payable.html",
        {
            **_names(),
            "page": page,
            "values": values,
            "errors": {**filter_errors, **(errors or {})},
            "labels": {
                "programme": gettext("Programme"),
                "due_until": gettext("Due by"),
                "item_ids": gettext("Payments"),
                "batch": gettext("Draft batch"),
            },
            "message": message,
            "drafts": drafts,
            "today": service.today(),
        },
        status_code=status_code if not filter_errors else 400,
    )


@router.get("/payable", name="payments_payable")
def payable_items(
    request: Request,
    db: SessionDep,
    programme: str = "",
    due_until: str = "",
    after: str | None = None,
) -> Response:
    """Payable items: approved claims and due instalments in no live batch."""
    return _payable_page(
        request, db, values={"programme": programme, "due_until": due_until}, after=after
    )


@router.post("/batches", name="payments_batch_create")
async def batch_create(request: Request, auth: PayerAuth, db: SessionDep) -> Response:
    """A new draft batch of the chosen items (or of all payable items of the filter), or the
    chosen items added to an existing draft batch."""
    form = await request.form()
    values = {"programme": form.get("programme", ""), "due_until": form.get("due_until", "")}
    ids = [str(v) for v in form.getlist("item_ids")]
    if form.get("all") == "1":
        filters = parse_form(PayableFilterIn, {k: v for k, v in values.items() if v})
        data = filters.data or PayableFilterIn()
        ids = [
            str(i)
            for i in service.payable_ids(
                db,
                programme=data.programme.value if data.programme else None,
                due_until=data.due_until,
            )
        ]
    parsed = parse_form(BatchCreateIn, {"item_ids": ids})
    if parsed.data is None:
        return _payable_page(
            request,
            db,
            values=values,
            after=None,
            errors={"item_ids": gettext("Choose at least one payment.")},
            status_code=400,
        )
    target = str(form.get("batch") or "")
    try:
        if target.isdigit():
            batch = service.get_batch(db, int(target))
            service.add_items(db, batch=batch, item_ids=parsed.data.item_ids, actor=auth.actor)
        else:
            batch = service.create_batch(db, item_ids=parsed.data.item_ids, actor=auth.actor)
        db.commit()
    except AppError as exc:
        db.rollback()
        return _payable_page(
            request,
            db,
            values=values,
            after=None,
            message=gettext(exc.message),
            status_code=exc.status_code,
        )
    return RedirectResponse(
        request.url_for("payments_batch", batch_id=batch.id).path, status_code=303
    )


def _batch_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    batch: PaymentBatch,
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    report: service.StatusReport | None = None,
    status_code: int = 200,
) -> Response:
    lines = service.read_batch(db, batch=batch, actor=auth.actor)
    db.commit()  # the audit row of the read
    return render(
        request,
        "admin/payments/batch.html",
        {
            **_names(),
            "batch": batch,
            "lines": lines,
            "me": _me(auth),
            "message": message,
            "errors": errors or {},
            "report": report,
            "today": service.today(),
            "labels": {
                "paid_on": gettext("Payment date"),
                "reason": gettext("Reason"),
                "file": gettext("Status report file"),
            },
        },
        status_code=status_code,
    )


def _load(db: SessionDep, batch_id: int) -> PaymentBatch:
    return service.get_batch(db, batch_id)


def _back(request: Request, batch_id: int) -> RedirectResponse:
    return RedirectResponse(
        request.url_for("payments_batch", batch_id=batch_id).path, status_code=303
    )


@router.get("/batches/{batch_id}", name="payments_batch")
def batch_detail(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    return _batch_page(request, db, auth, _load(db, batch_id))


async def _act(
    request: Request,
    db: SessionDep,
    auth: Auth,
    batch_id: int,
    action: Any,
) -> Response:
    """Run `action(batch, form)`; on a conflict show the batch again with the message (409)."""
    form = await request.form()
    batch = _load(db, batch_id)
    try:
        result = action(batch, form)
        db.commit()
    except ValidationFailed as exc:
        db.rollback()
        db.refresh(batch)
        return _batch_page(
            request,
            db,
            auth,
            batch,
            errors=errors_by_field(exc.errors),
            message=" ".join(error_message(e) for e in exc.errors),
            status_code=400,
        )
    except AppError as exc:
        db.rollback()
        db.refresh(batch)
        return _batch_page(
            request, db, auth, batch, message=gettext(exc.message), status_code=exc.status_code
        )
    if isinstance(result, Response):
        return result
    return _back(request, batch_id)


@router.post("/batches/{batch_id}/items/{item_id}/remove", name="payments_batch_remove")
async def batch_remove(
    request: Request, batch_id: int, item_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    return await _act(
        request,
        db,
        auth,
        batch_id,
        lambda batch, _form: service.remove_item(
            db, batch=batch, item_id=item_id, actor=auth.actor
        ),
    )


@router.post("/batches/{batch_id}/delete", name="payments_batch_delete")
async def batch_delete(
    request: Request, batch_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    def delete(batch: PaymentBatch, _form: Any) -> Response:
        service.delete_batch(db, batch=batch, actor=auth.actor)
        return RedirectResponse(request.url_for("payments_home").path, status_code=303)

    return await _act(request, db, auth, batch_id, delete)


def _parsed(schema: Any, form: Any) -> Any:
    try:
        return schema.model_validate(normalize(schema, form))
    except PydanticValidationError as exc:
        raise ValidationFailed([dict(e) for e in exc.errors()]) from exc


@router.post("/batches/{batch_id}/approve", name="payments_batch_approve")
async def batch_approve(
    request: Request, batch_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    """The second payer approves the version of the batch they saw."""
    return await _act(
        request,
        db,
        auth,
        batch_id,
        lambda batch, form: service.approve(
            db, batch=batch, version=_parsed(ApproveIn, form).version, actor=auth.actor
        ),
    )


@router.post("/batches/{batch_id}/export", name="payments_batch_export")
async def batch_export(
    request: Request, batch_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    """Make the bank file: the batch's payments are fixed from now on."""
    payer = payer_account(request.app.state.settings)
    return await _act(
        request,
        db,
        auth,
        batch_id,
        lambda batch, _form: service.export(db, batch=batch, actor=auth.actor, payer=payer),
    )


def batch_file(request: Request, db: SessionDep, auth: Auth, batch_id: int, kind: str) -> Response:
    """The bank file (`pain001`) or the finance CSV (`finance_csv`) of an exported batch, as a
    download, with the audit row of it (the pages and the API share this)."""
    batch = service.get_batch(db, batch_id)
    content = service.download(
        db,
        batch=batch,
        kind=kind,
        actor=auth.actor,
        payer=payer_account(request.app.state.settings),
    )
    db.commit()  # the audit row of the download
    if kind == "pain001":
        name, media_type = f"maksuaineisto-{batch.id}-{batch.message_id}.xml", "application/xml"
    else:
        name, media_type = f"maksut-{batch.id}.csv", "text/csv; charset=utf-8"
    return download(content, filename=name, content_type=media_type)


@router.get("/batches/{batch_id}/bank-file", name="payments_bank_file")
def bank_file(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    return batch_file(request, db, auth, batch_id, "pain001")


@router.get("/batches/{batch_id}/finance.csv", name="payments_finance_csv")
def finance_csv(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    return batch_file(request, db, auth, batch_id, "finance_csv")


@router.post("/batches/{batch_id}/items/{item_id}/paid", name="payments_item_paid")
async def item_paid(
    request: Request, batch_id: int, item_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    return await _act(
        request,
        db,
        auth,
        batch_id,
        lambda batch, form: service.mark_paid(
            db,
            batch=batch,
            item_id=item_id,
            paid_on=_parsed(PaidIn, form).paid_on,
            actor=auth.actor,
        ),
    )


@router.post("/batches/{batch_id}/items/{item_id}/failed", name="payments_item_failed")
async def item_failed(
    request: Request, batch_id: int, item_id: int, auth: PayerAuth, db: SessionDep
) -> Response:
    return await _act(
        request,
        db,
        auth,
        batch_id,
        lambda batch, form: service.mark_failed(
            db,
            batch=batch,
            item_id=item_id,
            reason=_parsed(FailedIn, form).reason,
            actor=auth.actor,
        ),
    )


@router.post("/batches/{batch_id}/status-file", name="payments_status_file")
async def status_file(request: Request, batch_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    """The bank's status report (pain.002) or a CSV of application numbers: the result is shown
    on the batch page, with the numbers that were not in the batch."""
    form = await request.form()
    upload = form.get("file")
    batch = _load(db, batch_id)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _batch_page(
            request,
            db,
            auth,
            batch,
            errors={"file": gettext("Choose a file.")},
            status_code=400,
        )
    content = await upload.read(MAX_STATUS_FILE + 1)
    if len(content) > MAX_STATUS_FILE:
        return _batch_page(
            request,
            db,
            auth,
            batch,
            errors={"file": gettext("The file is larger than 5 MB.")},
            status_code=400,
        )
    try:
        report = service.apply_status_file(db, batch=batch, content=content, actor=auth.actor)
        db.commit()
    except ValidationFailed as exc:
        db.rollback()
        db.refresh(batch)
        return _batch_page(
            request,
            db,
            auth,
            batch,
            errors={"file": " ".join(error_message(e) for e in exc.errors)},
            status_code=400,
        )
    except AppError as exc:
        db.rollback()
        db.refresh(batch)
        return _batch_page(
            request, db, auth, batch, message=gettext(exc.message), status_code=exc.status_code
        )
    return _batch_page(request, db, auth, batch, report=report)


@router.get("/items/{item_id}", name="payments_item")
def item_detail(request: Request, item_id: int, auth: PayerAuth, db: SessionDep) -> Response:
    """One payment: whom, how much, and its history across batches."""
    item = service.get_item(db, item_id)
    history = service.item_history(db, item=item, actor=auth.actor)
    batches = service.item_batches(db, item_id)
    db.commit()
    return render(
        request,
        "admin/payments/item.html",
        {**_names(), "item": item, "history": history, "batches": batches},
    )
