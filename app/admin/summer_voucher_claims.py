"""Back office for Kesäseteli employer claims: the handlers' queue, the claim with its files,
notes and timeline, taking a claim, asking the employer for more information and the decision
(kesaseteli.md §1.7, §5.3, K49-K53).

Everything a list shows (tab, statuses, order, page) is in the URL, so the pages work without
JavaScript and a link can be shared or bookmarked. Irreversible steps (the decision, deleting a
file or a note) ask first on a page of their own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.admin import queues
from app.admin import summer_voucher_notes as notes
from app.auth.dependencies import Auth, require_staff
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, UploadRejected, check_upload
from app.errors import InvalidTransition, ValidationFailed
from app.forms import error_message, errors_by_field, parse_form
from app.i18n import gettext
from app.summer_voucher import claim_handling, claims, receipts
from app.summer_voucher.claim_handling import Sort
from app.summer_voucher.models import AttachmentKind, Claim, ClaimStatus, NoteType, TimelineEntry
from app.summer_voucher.schemas import (
    ClaimDecisionIn,
    InformationRequestIn,
    NoteIn,
    target_group_names,
)
from app.templating import render

require_handler = require_staff("handler", "admin")
HandlerAuth = Annotated[Auth, Depends(require_handler)]

router = APIRouter(
    prefix="/admin/summer-voucher/claims",
    dependencies=[Depends(require_handler)],
    include_in_schema=False,
)

# The values of the sort select: a column, "-" in front for descending.
SORT_CHOICES = queues.sort_choices(Sort)
DECISIONS = (ClaimStatus.accepted, ClaimStatus.rejected)


def status_names() -> dict[str, str]:
    return {status: gettext(name) for status, name in claims.STATUS_NAMES.items()}


def employer_claim_link(request: Request, claim: Claim) -> str:
    """The employer's own page of the claim, for the e-mail asking for more information."""
    return str(request.base_url).rstrip("/") + claim_handling.employer_claim_path(claim.id)


@router.get("", name="sv_claim_queue")
def claim_queue(
    request: Request,
    auth: HandlerAuth,
    db: SessionDep,
    tab: Literal["pending", "processed"] = "pending",
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    sort: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=claim_handling.MAX_PAGE)] = 100,
) -> Response:
    """A tab of the claims queue (K49)."""
    sort_by, descending = queues.parse_sort(sort, Sort)
    page = claim_handling.queue(
        db,
        tab=tab,
        actor=auth.actor,
        statuses=status,
        sort=sort_by,
        descending=descending,
        after=after,
        limit=limit,
    )
    db.commit()  # the audit row of the read
    state = queues.list_state(
        tab=tab,
        page=page,
        tab_statuses=claim_handling.TAB_STATUSES[tab],
        default_statuses=claim_handling.DEFAULT_STATUSES[tab],
        default_sort=claim_handling.DEFAULT_SORT,
        choices=SORT_CHOICES,
        statuses=status,
        sort=sort,
        after=after,
        limit=limit,
    )
    return render(
        request,
        "admin/summer_voucher/claim_queue.html",
        {**state, "status_names": status_names()},
    )


def _load(db: SessionDep, claim_id: int) -> Claim:
    return claim_handling.get_for_staff(db, claim_id=claim_id)


def _detail_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    claim: Claim,
    *,
    timeline: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    chosen = notes.timeline_filter(timeline)
    found = claim_handling.detail(
        db, claim=claim, actor=auth.actor, timeline_kinds=[chosen] if chosen else []
    )
    db.commit()  # the audit row of the read
    return render(
        request,
        "admin/summer_voucher/claim_detail.html",
        {
            "detail": found,
            "status_names": status_names(),
            "kind_names": {k: gettext(v) for k, v in claims.ATTACHMENT_KIND_NAMES.items()},
            "kinds": list(AttachmentKind),
            "hired_names": {k: gettext(v) for k, v in claims.HIRED_NAMES.items()},
            "target_group_names": target_group_names(),
            "note_type_names": notes.note_type_names(),
            "note_labels": notes.note_labels(),
            "note_attachments": found.attachments,
            "attachment_names": {a.id: a.filename for a in found.attachments},
            "labels": {
                **notes.note_labels(),
                "kind": gettext("Type of the file"),
                "file": gettext("File"),
            },
            "errors": errors or {},
            "values": values or {"note_type": NoteType.internal.value},
            "timeline_filter": chosen,
            "timeline_url": request.url_for("sv_claim_detail", claim_id=claim.id).path,
            "note_action": request.url_for("sv_claim_admin_note_add", claim_id=claim.id).path,
            "note_links": notes.own_note_links(
                request,
                found.timeline,
                auth,
                "sv_claim_admin_note_edit",
                claim_id=claim.id or 0,
            ),
            "max_mb": MAX_BYTES // (1024 * 1024),
            "max_per_kind": claims.MAX_PER_KIND,
            "receipt": receipts.info(db, claim=claim),
        },
        status_code=status,
    )


def _back(request: Request, claim_id: int, anchor: str = "") -> RedirectResponse:
    url = request.url_for("sv_claim_detail", claim_id=claim_id).path
    return RedirectResponse(url + anchor, status_code=303)


@router.get("/{claim_id}", name="sv_claim_detail")
def claim_detail(
    request: Request,
    claim_id: int,
    auth: HandlerAuth,
    db: SessionDep,
    timeline: str | None = None,
) -> Response:
    """The claim as a whole (K50), its files, notes and timeline, and the moves open now."""
    return _detail_page(request, db, auth, _load(db, claim_id), timeline=timeline)


# --- Attachments -------------------------------------------------------------------------------


@router.get("/{claim_id}/attachments/{attachment_id}", name="sv_claim_admin_attachment")
def claim_attachment(
    request: Request, claim_id: int, attachment_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    attachment = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    content = claims.read_attachment(
        db, claim=claim, attachment=attachment, store=request.app.state.file_store, actor=auth.actor
    )
    db.commit()  # the audit row of the read
    return download(content, filename=attachment.filename, content_type=attachment.content_type)


@router.get("/{claim_id}/receipt", name="sv_claim_admin_receipt")
def claim_receipt(claim_id: int, auth: HandlerAuth, db: SessionDep) -> Response:
    """The decision receipt (PDF) the employer got; 404 before the decision."""
    claim = _load(db, claim_id)
    content, filename = receipts.read_pdf(db, claim=claim, actor=auth.actor)
    db.commit()  # the audit row of the download
    return download(content, filename=filename, content_type="application/pdf")


@router.post("/{claim_id}/attachments", name="sv_claim_admin_attach")
async def claim_attach(
    request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    """Handlers add files in any status (K50): PDF, PNG or JPEG by content, at most 10 MB."""
    claim = _load(db, claim_id)
    form = await request.form()
    kind = form.get("kind")
    upload = form.get("file")
    values = {"kind": kind if isinstance(kind, str) else ""}
    if kind not in {k.value for k in AttachmentKind}:
        return _detail_page(
            request,
            db,
            auth,
            claim,
            errors={"kind": error_message({"type": "enum"})},
            values=values,
            status=422,
        )
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            checked = check_upload(await upload.read(MAX_BYTES + 1), upload.filename)
        else:
            checked = check_upload(b"", None)
        claims.add_attachment(
            db,
            claim=claim,
            kind=AttachmentKind(str(kind)),
            upload=checked,
            store=request.app.state.file_store,
            actor=auth.actor,
            by_staff=True,
        )
    except (UploadRejected, claims.TooManyAttachments) as exc:
        db.rollback()
        return _detail_page(
            request,
            db,
            auth,
            claim,
            errors={"file": gettext(exc.message)},
            values=values,
            status=exc.status_code,
        )
    db.commit()
    return _back(request, claim_id, "#attachments")


@router.get(
    "/{claim_id}/attachments/{attachment_id}/delete", name="sv_claim_admin_attachment_confirm"
)
def claim_attachment_confirm(
    request: Request, claim_id: int, attachment_id: int, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    attachment = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    return render(
        request,
        "admin/summer_voucher/claim_confirm.html",
        {
            "action": "delete_attachment",
            "claim": claim,
            "attachment": attachment,
            "kind_names": {k: gettext(v) for k, v in claims.ATTACHMENT_KIND_NAMES.items()},
        },
    )


@router.post(
    "/{claim_id}/attachments/{attachment_id}/delete", name="sv_claim_admin_attachment_delete"
)
def claim_attachment_delete(
    request: Request, claim_id: int, attachment_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    attachment = claims.get_attachment(db, claim=claim, attachment_id=attachment_id)
    claims.delete_attachment(
        db, claim=claim, attachment=attachment, actor=auth.actor, by_staff=True
    )
    db.commit()
    return _back(request, claim_id, "#attachments")


# --- Moves --------------------------------------------------------------------------------------


def _require_move(claim: Claim, auth: Auth, *targets: ClaimStatus) -> list[ClaimStatus]:
    """The asked moves that are open now; a page for a move that is not is refused (409)."""
    open_now = [t for t in claim_handling.actions_for(claim, auth.actor) if t in targets]
    if not open_now:
        raise InvalidTransition()
    return open_now


@router.post("/{claim_id}/take", name="sv_claim_admin_take")
def claim_take(request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep) -> Response:
    claim_handling.take(db, claim=_load(db, claim_id), actor=auth.actor)
    db.commit()
    return _back(request, claim_id)


def _information_page(
    request: Request,
    claim: Claim,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/summer_voucher/claim_request_information.html",
        {
            "claim": claim,
            "values": values,
            "errors": errors,
            "labels": {"message": gettext("What do you need from the employer?")},
        },
        status_code=status,
    )


@router.get("/{claim_id}/request-information", name="sv_claim_admin_request_form")
def claim_request_form(
    request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    _require_move(claim, auth, ClaimStatus.additional_information_requested)
    return _information_page(request, claim, {}, {})


@router.post("/{claim_id}/request-information", name="sv_claim_admin_request")
async def claim_request(
    request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    """Ask the employer for more; the contact person gets the question by e-mail (K48)."""
    claim = _load(db, claim_id)
    result = parse_form(InformationRequestIn, await request.form())
    if result.data is None:
        return _information_page(request, claim, result.values, result.errors, status=422)
    claim_handling.request_information(
        db,
        claim=claim,
        data=result.data,
        actor=auth.actor,
        link=employer_claim_link(request, claim),
    )
    db.commit()
    return _back(request, claim_id)


def _decision_page(
    request: Request,
    db: SessionDep,
    claim: Claim,
    open_now: list[ClaimStatus],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/summer_voucher/claim_decision.html",
        {
            "claim": claim,
            "serial": claims.serial_of(db, claim),
            "value": claims.claim_value(db, claim),
            "decisions": [d.value for d in open_now],
            "values": values,
            "errors": errors,
            "labels": {
                "decision": gettext("Decision"),
                "reason": gettext("Reason"),
            },
        },
        status_code=status,
    )


@router.get("/{claim_id}/decision", name="sv_claim_admin_decision_form")
def claim_decision_form(
    request: Request,
    claim_id: int,
    auth: HandlerAuth,
    db: SessionDep,
    decision: Literal["accepted", "rejected"] | None = None,
) -> Response:
    """Ask before the irreversible decision, with the amount approving pays."""
    claim = _load(db, claim_id)
    open_now = _require_move(claim, auth, *DECISIONS)
    chosen = decision if decision in open_now else (open_now[0].value if len(open_now) == 1 else "")
    return _decision_page(request, db, claim, open_now, {"decision": chosen}, {})


@router.post("/{claim_id}/decision", name="sv_claim_admin_decide")
async def claim_decide(
    request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    result = parse_form(ClaimDecisionIn, await request.form())
    if result.data is None:
        open_now = _require_move(claim, auth, *DECISIONS)
        return _decision_page(request, db, claim, open_now, result.values, result.errors, 422)
    claim_handling.decide(db, claim=claim, data=result.data, actor=auth.actor)
    db.commit()
    return _back(request, claim_id)


# --- Notes (K52) ------------------------------------------------------------------------------


@router.post("/{claim_id}/notes", name="sv_claim_admin_note_add")
async def claim_note_add(
    request: Request, claim_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    claim = _load(db, claim_id)
    result = parse_form(NoteIn, await request.form())
    if result.data is None:
        return _detail_page(
            request, db, auth, claim, errors=result.errors, values=result.values, status=422
        )
    try:
        claim_handling.add_note(db, target=claim, data=result.data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        return _detail_page(
            request,
            db,
            auth,
            claim,
            errors=errors_by_field(exc.errors),
            values=result.values,
            status=422,
        )
    db.commit()
    return _back(request, claim_id, "#timeline")


def _own_note(
    request: Request, db: SessionDep, auth: Auth, claim_id: int, note_id: int
) -> tuple[Claim, TimelineEntry]:
    """The note, if this handler wrote it; another's note is refused and the attempt logged."""
    claim = _load(db, claim_id)
    note = claim_handling.get_note(db, target=claim, note_id=note_id)
    notes.require_own(request, db, auth, note)
    return claim, note


def _note_urls(request: Request, claim_id: int, note_id: int) -> notes.NoteUrls:
    return notes.NoteUrls(
        back=request.url_for("sv_claim_detail", claim_id=claim_id).path,
        action=request.url_for(
            "sv_claim_admin_note_update", claim_id=claim_id, note_id=note_id
        ).path,
        delete_url=request.url_for(
            "sv_claim_admin_note_confirm", claim_id=claim_id, note_id=note_id
        ).path,
    )


@router.get("/{claim_id}/notes/{note_id}", name="sv_claim_admin_note_edit")
def claim_note_edit(
    request: Request, claim_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    _claim, note = _own_note(request, db, auth, claim_id, note_id)
    return notes.note_page(
        request,
        template="admin/summer_voucher/note_edit.html",
        note=note,
        urls=_note_urls(request, claim_id, note_id),
    )


@router.post("/{claim_id}/notes/{note_id}", name="sv_claim_admin_note_update")
async def claim_note_update(
    request: Request, claim_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    _claim, note = _own_note(request, db, auth, claim_id, note_id)
    result = parse_form(NoteIn, await request.form())
    if result.data is None:
        return notes.note_page(
            request,
            template="admin/summer_voucher/note_edit.html",
            note=note,
            values=result.values,
            errors=result.errors,
            status=422,
            urls=_note_urls(request, claim_id, note_id),
        )
    try:
        claim_handling.edit_note(db, note=note, data=result.data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        return notes.note_page(
            request,
            template="admin/summer_voucher/note_edit.html",
            note=note,
            values=result.values,
            errors=errors_by_field(exc.errors),
            status=422,
            urls=_note_urls(request, claim_id, note_id),
        )
    db.commit()
    return _back(request, claim_id, "#timeline")


@router.get("/{claim_id}/notes/{note_id}/delete", name="sv_claim_admin_note_confirm")
def claim_note_confirm(
    request: Request, claim_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    _claim, note = _own_note(request, db, auth, claim_id, note_id)
    return notes.note_page(
        request,
        template="admin/summer_voucher/note_delete.html",
        note=note,
        urls=notes.NoteUrls(
            back=request.url_for("sv_claim_detail", claim_id=claim_id).path,
            action=request.url_for(
                "sv_claim_admin_note_delete", claim_id=claim_id, note_id=note_id
            ).path,
        ),
    )


@router.post("/{claim_id}/notes/{note_id}/delete", name="sv_claim_admin_note_delete")
def claim_note_delete(
    request: Request, claim_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    _claim, note = _own_note(request, db, auth, claim_id, note_id)
    claim_handling.delete_note(db, note=note, actor=auth.actor)
    db.commit()
    return _back(request, claim_id, "#timeline")
