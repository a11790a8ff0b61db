"""The employer's Kesäseteli claim pages (fi/sv/en): the company's claims, the draft with the
look-up of the youth, attachments, the summary with the terms, sending, the thank-you page,
deleting a draft and answering a request for more information (K33-K48).

Every page works without JavaScript: the draft is one page of separate small forms (the
look-up, the details, one upload form per file type), each posting back to the same page.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from app import payment_status
from app.auth.dependencies import EmployerAuth, require_employer
from app.companies import service as companies
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, UploadRejected, check_upload
from app.errors import NotFound, ValidationFailed
from app.forms import errors_by_field, parse_form
from app.i18n import current_language, gettext
from app.summer_voucher import claims, receipts, service
from app.summer_voucher.claims import VoucherAlreadyUsed, VoucherNotAccepted, VoucherNotFound
from app.summer_voucher.models import AttachmentKind, Claim, ClaimStatus
from app.summer_voucher.schemas import ClaimDraftIn, ClaimLookupIn, ClaimSubmitIn
from app.templating import render
from app.types import format_iban

router = APIRouter(
    prefix="/employer/summer-voucher",
    dependencies=[Depends(require_employer)],
    include_in_schema=False,
)

FORM_FIELDS = list(ClaimDraftIn.model_fields)


def labels() -> dict[str, str]:
    return {
        "employee_name": gettext("Employee's name"),
        "serial": gettext("Summer job voucher serial number"),
        "employee_phone": gettext("Employee's phone number"),
        "employment_postcode": gettext("Postcode of the workplace"),
        "employment_start": gettext("Start date of the employment"),
        "employment_end": gettext("End date of the employment"),
        "work_hours": gettext("Hours worked"),
        "salary_paid": gettext("Salary paid (€)"),
        "job_description": gettext("Work tasks"),
        "hired_without_voucher": gettext(
            "Would you have hired the young person without the summer job voucher?"
        ),
        "contact_name": gettext("Contact person"),
        "contact_email": gettext("Contact person's e-mail address"),
        "contact_phone": gettext("Contact person's phone number"),
        "street_address": gettext("Postal address of the organisation"),
        "iban": gettext("Bank account (IBAN)"),
        "payee_name": gettext("Payee's name"),
        "payee_address": gettext("Payee's address"),
        "bic": gettext("SWIFT/BIC code of the bank"),
        "bank_name": gettext("Name of the bank"),
        "bank_address": gettext("Address of the bank"),
        "is_separate_invoicer": gettext("Separate invoicer"),
        "invoicer_name": gettext("Invoicer's name"),
        "invoicer_email": gettext("Invoicer's e-mail address"),
        "invoicer_phone": gettext("Invoicer's phone number"),
        "attachments_employment_contract": gettext("Employment contract"),
        "attachments_payslip": gettext("Payslip"),
        "terms_accepted": gettext("Terms"),
        "file": gettext("File"),
    }


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def claim_values(claim: Claim) -> dict[str, str]:
    values = {name: _shown(getattr(claim, name)) for name in FORM_FIELDS}
    values["is_separate_invoicer"] = "true" if claim.is_separate_invoicer else ""
    if claim.iban:
        values["iban"] = format_iban(claim.iban)
    return values


def _load(db: SessionDep, auth: EmployerAuth, claim_id: int) -> Claim:
    return claims.get_for_employer(db, claim_id=claim_id, actor=auth.actor)


def _claim_page(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    claim: Claim,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    lookup_values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The draft's page, or the read-only view of a sent claim."""
    company = companies.get_company(db, business_id=auth.session.business_id or "")
    employee = claims.employee_of(db, claim=claim)
    attachments = claims.attachments_of(db, claim)
    by_kind = {kind.value: [a for a in attachments if a.kind == kind] for kind in AttachmentKind}
    context: dict[str, Any] = {
        "claim": claim,
        "company": company,
        "employee": employee,
        "values": values if values is not None else claim_values(claim),
        "errors": errors or {},
        "lookup_values": lookup_values or {"employee_name": claim.employee_name or ""},
        "labels": labels(),
        "attachments": by_kind,
        "kinds": [(k.value, gettext(claims.ATTACHMENT_KIND_NAMES[k])) for k in AttachmentKind],
        "max_per_kind": claims.MAX_PER_KIND,
        "max_mb": MAX_BYTES // (1024 * 1024),
        "status_name": gettext(claims.STATUS_NAMES[claim.status]),
        "hired_choices": [(k, gettext(v)) for k, v in claims.HIRED_NAMES.items()],
        "editable": claim.status in claims.EMPLOYER_EDITABLE,
        "can_upload": claim.status in claims.EMPLOYER_UPLOADS,
        "terms": service.voucher_terms(db, year=claims.voucher_year_of(claim.created_at)),
    }
    if claim.status == ClaimStatus.draft:
        return render(request, "summer_voucher/claim_edit.html", context, status_code=status)
    context["timeline"] = claims.timeline(db, claim=claim, include_internal=False)
    context["status_names"] = {k: gettext(v) for k, v in claims.STATUS_NAMES.items()}
    context["serial"] = claims.serial_of(db, claim)
    context["receipt"] = receipts.info(db, claim=claim)
    context["payments"] = payment_status.payments_of(db, "summer_voucher_claim", claim.id)
    return render(request, "summer_voucher/claim_view.html", context, status_code=status)


@router.get("", name="sv_claims")
def claim_list(
    request: Request,
    auth: EmployerAuth,
    db: SessionDep,
    mine: bool = False,
    year: Annotated[int | None, Query(ge=2020, le=2100)] = None,
    after: str | None = None,
) -> Response:
    """K35: the organisation's claims by everyone who acts for it; 15 a page."""
    page = claims.company_claims(db, actor=auth.actor, only_mine=mine, year=year, after=after)
    db.commit()  # the audit row of the read
    params: list[tuple[str, Any]] = []
    if mine:
        params.append(("mine", "true"))
    if year:
        params.append(("year", year))
    return render(
        request,
        "summer_voucher/claims.html",
        {
            "page": page,
            "mine": mine,
            "year": year,
            "status_names": {k: gettext(v) for k, v in claims.STATUS_NAMES.items()},
            "next_params": [*params, ("after", page.next_after)] if page.next_after else None,
            "first_params": params,
            "is_first_page": after is None,
        },
    )


@router.post("/claims", name="sv_claim_new")
async def claim_new(request: Request, auth: EmployerAuth, db: SessionDep) -> Response:
    """K36: "Create new" opens the user's draft if there is one; `copy_from` is "add another"."""
    form = await request.form()
    copy_from = None
    raw = form.get("copy_from")
    if isinstance(raw, str) and raw.isdigit():
        try:
            copy_from = _load(db, auth, int(raw))
        except NotFound:
            copy_from = None
    claim = claims.open_draft(
        db, actor=auth.actor, language=current_language(), copy_from=copy_from
    )
    db.commit()
    return RedirectResponse(request.url_for("sv_claim", claim_id=claim.id).path, status_code=303)


@router.get("/claims/{claim_id}", name="sv_claim")
def claim_page(request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    claim = _load(db, auth, claim_id)
    if claim.voucher_id is not None:
        claims.record_read(db, claim=claim, actor=auth.actor)
        db.commit()
    return _claim_page(request, db, auth, claim)


@router.post("/claims/{claim_id}", name="sv_claim_save")
async def claim_save(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    form = await request.form()
    result = parse_form(ClaimDraftIn, form)
    if result.data is None:
        return _claim_page(
            request, db, auth, claim, values=result.values, errors=result.errors, status=422
        )
    claims.save_draft(db, claim=claim, data=result.data, actor=auth.actor)
    db.commit()
    target = "sv_claim_summary" if form.get("action") == "continue" else "sv_claim"
    url = request.url_for(target, claim_id=claim.id).path
    if target == "sv_claim":
        url += "?saved=1"
    return RedirectResponse(url, status_code=303)


@router.post("/claims/{claim_id}/employee", name="sv_claim_lookup")
async def claim_lookup(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    """K37-K39: find the youth by the name and serial; every attempt is audited."""
    claim = _load(db, auth, claim_id)
    form = await request.form()
    result = parse_form(ClaimLookupIn, form)
    if result.data is None:
        return _claim_page(
            request, db, auth, claim, lookup_values=result.values, errors=result.errors, status=422
        )
    try:
        claims.lookup(db, claim=claim, data=result.data, actor=auth.actor)
    except (VoucherNotFound, VoucherNotAccepted, VoucherAlreadyUsed) as exc:
        db.commit()  # keep the audit row of the failed attempt, nothing else changed
        return _claim_page(
            request,
            db,
            auth,
            claim,
            lookup_values=result.values,
            errors={"serial": gettext(exc.message)},
            status=exc.status_code,
        )
    db.commit()
    return RedirectResponse(
        request.url_for("sv_claim", claim_id=claim.id).path + "#employment", status_code=303
    )


@router.post("/claims/{claim_id}/employee/clear", name="sv_claim_lookup_clear")
def claim_lookup_clear(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    claims.clear_employee(db, claim=claim, actor=auth.actor)
    db.commit()
    return RedirectResponse(request.url_for("sv_claim", claim_id=claim.id).path, status_code=303)


@router.post("/claims/{claim_id}/attachments", name="sv_claim_attach")
async def claim_attach(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    """K43, K48: PDF, PNG or JPEG by content, at most 10 MB and five of each kind."""
    claim = _load(db, auth, claim_id)
    form = await request.form()
    kind_value = form.get("kind")
    upload = form.get("file")
    field = f"attachments_{kind_value}" if kind_value in set(AttachmentKind) else "file"
    try:
        if kind_value not in set(AttachmentKind):
            raise NotFound()
        if not isinstance(upload, UploadFile) or not upload.filename:
            checked = check_upload(b"", None)
        else:
            checked = check_upload(await upload.read(MAX_BYTES + 1), upload.filename)
        claims.add_attachment(
            db,
            claim=claim,
            kind=AttachmentKind(str(kind_value)),
            upload=checked,
            store=request.app.state.file_store,
            actor=auth.actor,
        )
    except (UploadRejected, claims.TooManyAttachments) as exc:
        db.rollback()
        return _claim_page(
            request, db, auth, claim, errors={field: gettext(exc.message)}, status=exc.status_code
        )
    db.commit()
    return RedirectResponse(
        request.url_for("sv_claim", claim_id=claim.id).path + "#attachments", status_code=303
    )


@router.get("/claims/{claim_id}/attachments/{attachment_id}", name="sv_claim_attachment")
def claim_attachment(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int, attachment_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    attachment = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    content = claims.read_attachment(
        db, claim=claim, attachment=attachment, store=request.app.state.file_store, actor=auth.actor
    )
    db.commit()
    return download(content, filename=attachment.filename, content_type=attachment.content_type)


@router.get("/claims/{claim_id}/receipt", name="sv_claim_receipt")
def claim_receipt(auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    """The decision receipt (PDF) of an approved or rejected claim; 404 before the decision."""
    claim = _load(db, auth, claim_id)
    content, filename = receipts.read_pdf(db, claim=claim, actor=auth.actor)
    db.commit()  # the audit row of the download
    return download(content, filename=filename, content_type="application/pdf")


@router.post(
    "/claims/{claim_id}/attachments/{attachment_id}/delete", name="sv_claim_attachment_delete"
)
def claim_attachment_delete(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int, attachment_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    attachment = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    claims.delete_attachment(db, claim=claim, attachment=attachment, actor=auth.actor)
    db.commit()
    return RedirectResponse(
        request.url_for("sv_claim", claim_id=claim.id).path + "#attachments", status_code=303
    )


def _summary(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    claim: Claim,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    company = companies.get_company(db, business_id=auth.session.business_id or "")
    problems = errors_by_field(claims.submit_problems(db, claim=claim))
    return render(
        request,
        "summer_voucher/claim_summary.html",
        {
            "claim": claim,
            "company": company,
            "employee": claims.employee_of(db, claim=claim),
            "attachments": claims.attachments_of(db, claim),
            "kind_names": {k: gettext(v) for k, v in claims.ATTACHMENT_KIND_NAMES.items()},
            "hired_names": {k: gettext(v) for k, v in claims.HIRED_NAMES.items()},
            "labels": labels(),
            "problems": problems,
            "errors": errors or {},
            "values": {},
            "iban": format_iban(claim.iban) if claim.iban else None,
        },
        status_code=status,
    )


@router.get("/claims/{claim_id}/summary", name="sv_claim_summary")
def claim_summary(request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    """K44: everything once more before sending; problems are listed with links back."""
    claim = _load(db, auth, claim_id)
    if claim.status != ClaimStatus.draft:
        return RedirectResponse(
            request.url_for("sv_claim", claim_id=claim.id).path, status_code=303
        )
    claims.record_read(db, claim=claim, actor=auth.actor)
    db.commit()
    return _summary(request, db, auth, claim)


@router.post("/claims/{claim_id}/submit", name="sv_claim_submit")
async def claim_submit(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    result = parse_form(ClaimSubmitIn, await request.form())
    try:
        if result.data is None:
            raise ValidationFailed([])
        claims.submit(db, claim=claim, data=result.data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        return _summary(
            request,
            db,
            auth,
            claim,
            errors={**errors_by_field(exc.errors), **result.errors},
            status=422,
        )
    except (VoucherAlreadyUsed, VoucherNotAccepted) as exc:
        db.rollback()
        return _summary(
            request,
            db,
            auth,
            claim,
            errors={"employee_name": gettext(exc.message)},
            status=exc.status_code,
        )
    db.commit()
    return RedirectResponse(
        request.url_for("sv_claim_thanks", claim_id=claim.id).path, status_code=303
    )


@router.get("/claims/{claim_id}/thanks", name="sv_claim_thanks")
def claim_thanks(request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    claim = _load(db, auth, claim_id)
    return render(
        request,
        "summer_voucher/claim_thanks.html",
        {"claim": claim, "employee_name": claim.employee_name},
    )


@router.get("/claims/{claim_id}/delete", name="sv_claim_delete_confirm")
def claim_delete_confirm(
    request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int
) -> Response:
    claim = _load(db, auth, claim_id)
    if claim.status != ClaimStatus.draft:
        raise claims.ClaimLocked()
    return render(request, "summer_voucher/claim_delete.html", {"claim": claim})


@router.post("/claims/{claim_id}/delete", name="sv_claim_delete")
def claim_delete(request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    claim = _load(db, auth, claim_id)
    claims.delete_draft(db, claim=claim, actor=auth.actor)
    db.commit()
    return RedirectResponse(request.url_for("sv_claims").path + "?deleted=1", status_code=303)


@router.post("/claims/{claim_id}/provide-information", name="sv_claim_provide")
def claim_provide(request: Request, auth: EmployerAuth, db: SessionDep, claim_id: int) -> Response:
    """K48: the employer has added the files asked for and sends the claim back."""
    claim = _load(db, auth, claim_id)
    claims.provide_information(db, claim=claim, actor=auth.actor)
    db.commit()
    return RedirectResponse(
        request.url_for("sv_claim", claim_id=claim.id).path + "?sent=1", status_code=303
    )
