"""Back office for Helsinki-lisä applications (issue #5 §4–§6, §8; H24–H31, H45–H49, H66): the
queue with its tabs, counts and search, the application with its files, messages, notes, status
and change history, "checked" marks, the calculator, the handling moves and the decision, and
the paper application entered by staff.

Everything a list shows is in the URL, so the pages work without JavaScript. Irreversible steps
(cancelling, the decision, returning a decision, deleting a file) ask first on a page of their
own. The decision and returning it have their own router: only deciders (and admins) get in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select
from starlette.datastructures import FormData, UploadFile

from app.admin import queues
from app.auth.dependencies import Auth, require_staff
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, UploadRejected, check_upload
from app.errors import NotFound, ValidationFailed
from app.forms import error_loc, error_message, parse_form
from app.i18n import N_, current_language, gettext
from app.subsidies import attachments, calculator, decision_document, handling, service, terms
from app.subsidies import calculation as calculations
from app.subsidies import views as employer_views
from app.subsidies.handling import Action, Sort, Tab
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    AttachmentType,
    MessageKind,
    ReviewSection,
    Terms,
    TermsApproval,
    TermsKind,
)
from app.subsidies.schemas import STEP_SCHEMAS, DeMinimisStepIn, Step, StepIn, SubmitIn
from app.subsidies.staff_schemas import (
    REOPENABLE_STEPS,
    CalculationIn,
    CancelIn,
    DecisionIn,
    InformationRequestIn,
    MessageIn,
    PaperStartIn,
    PreviousBenefitIn,
    ReturnIn,
    ReviewMarkIn,
)
from app.templating import render

S = ApplicationStatus
PREFIX = "/admin/subsidies"
MAX_CALCULATION_ROWS = calculator.MAXIMUM_ROWS

require_handling = require_staff("handler", "decider", "admin")
require_deciding = require_staff("decider", "admin")
HandlingAuth = Annotated[Auth, Depends(require_handling)]
DecidingAuth = Annotated[Auth, Depends(require_deciding)]

router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_handling)], include_in_schema=False)
decision_router = APIRouter(
    prefix=PREFIX, dependencies=[Depends(require_deciding)], include_in_schema=False
)

SORT_CHOICES = queues.sort_choices(Sort)

STATUS_NAMES: dict[str, str] = {
    S.draft: N_("Paper application being entered"),
    S.received: N_("Received"),
    S.handling: N_("In handling"),
    S.additional_information_needed: N_("More information needed"),
    S.accepted: N_("Accepted"),
    S.rejected: N_("Rejected"),
    S.cancelled: N_("Cancelled"),
}
TAB_NAMES: dict[str, str] = {
    Tab.received: N_("Received"),
    Tab.handling: N_("In handling"),
    Tab.information: N_("More information needed"),
    Tab.decided: N_("Decided"),
    Tab.cancelled: N_("Cancelled"),
    Tab.all: N_("All"),
}
SECTION_NAMES: dict[str, str] = {
    ReviewSection.paper: N_("Paper application"),
    ReviewSection.company: N_("Employer"),
    ReviewSection.company_contact_person: N_("Contact person"),
    ReviewSection.de_minimis_aids: N_("De minimis aid"),
    ReviewSection.co_operation_negotiations: N_("Co-operation negotiations"),
    ReviewSection.employee: N_("Employee"),
    ReviewSection.pay_subsidy: N_("Pay subsidy and apprenticeship"),
    ReviewSection.benefit: N_("Benefit period"),
    ReviewSection.employment: N_("Employment"),
    ReviewSection.approval: N_("Terms and consents"),
}
STEP_NAMES: dict[str, str] = {
    Step.employer: N_("Employer"),
    Step.de_minimis: N_("De minimis aid"),
    Step.employee: N_("Employee and employment"),
    Step.period: N_("Benefit period"),
    Step.attachments: N_("Attachments"),
}
MESSAGE_KIND_NAMES: dict[str, str] = {
    MessageKind.applicant_message: N_("Message from the applicant"),
    MessageKind.handler_message: N_("Message to the applicant"),
    MessageKind.note: N_("Internal note"),
}
FIELD_NAMES: dict[str, str] = {
    "attachments": N_("Attachments"),
    "de_minimis_aids": N_("De minimis aid received"),
}


def translated(names: Mapping[str, str]) -> dict[str, str]:
    return {key: gettext(value) for key, value in names.items()}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _detail_url(request: Request, application_id: int | None, anchor: str = "") -> str:
    return str(request.url_for("subsidy_admin_detail", application_id=application_id).path) + anchor


def _back(request: Request, application_id: int | None, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(_detail_url(request, application_id, anchor), status_code=303)


def _load(db: SessionDep, application_id: int) -> Application:
    return handling.get(db, application_id=application_id)


def _common(request: Request, application: Application) -> dict[str, Any]:
    return {
        "application": application,
        "status_names": translated(STATUS_NAMES),
        "detail_url": _detail_url(request, application.id),
    }


def field_labels(rows: int = 0) -> dict[str, str]:
    """The employer wizard's field labels, with the staff pages' own."""
    return {
        **employer_views.labels(rows),
        **translated(FIELD_NAMES),
        "reason": gettext("Reason for the change"),
    }


# --- The queue ------------------------------------------------------------------------------------


@router.get("", name="subsidy_admin_queue")
def queue_page(
    request: Request,
    auth: HandlingAuth,
    db: SessionDep,
    tab: Tab | None = None,
    q: str | None = None,
    sort: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=handling.MAX_PAGE)] = 50,
) -> Response:
    """A tab of the queue, or a search (H28, H66)."""
    sort_by, descending = queues.parse_sort(sort, Sort)
    page = handling.queue(
        db,
        actor=auth.actor,
        tab=tab,
        q=q,
        sort=sort_by,
        descending=descending,
        after=after,
        limit=limit,
    )
    db.commit()  # the audit row of the read
    chosen_tab = tab or (Tab.all if page.search else Tab.received)
    default_sort, default_desc = handling.DEFAULT_SORT[chosen_tab]
    chosen_sort = (
        sort if sort in SORT_CHOICES else ("-" if default_desc else "") + default_sort.value
    )
    params: list[tuple[str, Any]] = [("tab", chosen_tab.value)]
    if q:
        params.append(("q", q))
    params += [("sort", chosen_sort), ("limit", limit)]
    return render(
        request,
        "admin/subsidies/queue.html",
        {
            "page": page,
            "tab": chosen_tab.value,
            "q": q or "",
            "sort": chosen_sort,
            "sort_choices": SORT_CHOICES,
            "tabs": [t.value for t in handling.COUNTED_TABS],
            "tab_names": translated(TAB_NAMES),
            "status_names": translated(STATUS_NAMES),
            "first_params": params,
            "next_params": [*params, ("after", page.next_after)] if page.next_after else None,
            "is_first_page": after is None,
        },
    )


# --- Paper applications (H31) ------------------------------------------------------------------------


def _paper_start_page(
    request: Request,
    db: SessionDep,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/subsidies/paper_new.html",
        {
            "values": values or {"language": "fi"},
            "errors": errors or {},
            "labels": {
                "business_id": gettext("Business id"),
                "paper_application_date": gettext("Date the paper application arrived"),
                "language": gettext("Language of the application"),
            },
            "drafts": handling.paper_drafts(db),
        },
        status_code=status,
    )


@router.get("/paper", name="subsidy_admin_paper_new")
def paper_new(request: Request, db: SessionDep) -> Response:
    return _paper_start_page(request, db)


@router.post("/paper", name="subsidy_admin_paper_create")
async def paper_create(request: Request, auth: HandlingAuth, db: SessionDep) -> Response:
    """Find the employer in the trade register by business id and start the application."""
    result = parse_form(PaperStartIn, await request.form())
    if result.data is None:
        return _paper_start_page(
            request, db, values=result.values, errors=result.errors, status=422
        )
    settings = request.app.state.settings
    try:
        application = handling.create_paper_application(
            db,
            data=result.data,
            register=request.app.state.company_register,
            association_forms=settings.association_company_forms,
            actor=auth.actor,
        )
    except ValidationFailed as exc:
        db.rollback()
        return _paper_start_page(
            request, db, values=result.values, errors=_errors(exc.errors), status=422
        )
    db.commit()
    return _back(request, application.id)


# --- The application ----------------------------------------------------------------------------------


def _errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Errors keyed like the pages' fields ("pay_subsidies-0-start_date")."""
    result: dict[str, str] = {}
    for err in errors:
        key = service.problem_key(error_loc(err)) or "__all__"
        result.setdefault(key, error_message(err))
    return result


def _detail_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    application: Application,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = handling.detail(db, application=application, actor=auth.actor)
    approvals = terms_approvals(db, application)
    db.commit()  # the audit rows of the read, the messages marked seen
    rows = len(found.de_minimis)
    return render(
        request,
        "admin/subsidies/detail.html",
        {
            **_common(request, application),
            "detail": found,
            "a": application,
            "Action": Action,
            "section_names": translated(SECTION_NAMES),
            "step_names": translated(STEP_NAMES),
            "kind_names": translated(MESSAGE_KIND_NAMES),
            "attachment_names": translated(service.ATTACHMENT_NAMES),
            "attachment_kinds": [k.value for k in AttachmentType],
            "labels": {
                **field_labels(rows),
                "content": gettext("Message or note"),
                "kind": gettext("Type"),
                "file": gettext("File"),
            },
            "values": values or {"kind": "note"},
            "errors": errors or {},
            "approvals": approvals,
            "missing": service.all_problems(
                service.submit_problems(db, application=application, actor=auth.actor)
            )
            if application.status == S.draft
            else [],
            "max_mb": MAX_BYTES // (1024 * 1024),
        },
        status_code=status,
    )


def terms_approvals(db: SessionDep, application: Application) -> list[dict[str, Any]]:
    """The terms accepted when the application was sent (H19, H31), newest first."""
    rows = db.exec(
        select(TermsApproval, Terms)
        .join(Terms, col(Terms.id) == TermsApproval.terms_id)
        .where(TermsApproval.application_id == application.id)
        .order_by(col(TermsApproval.approved_at).desc())
    ).all()
    return [
        {
            "kind": row_terms.kind,
            "version": row_terms.version,
            "approved_at": approval.approved_at,
            "consents": len(approval.consent_ids),
        }
        for approval, row_terms in rows
    ]


@router.get("/{application_id}", name="subsidy_admin_detail")
def detail_page(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """The application as a whole and the moves open now (H27, H29, H30)."""
    return _detail_page(request, db, auth, _load(db, application_id))


# --- Attachments -------------------------------------------------------------------------------------


@router.get("/{application_id}/attachments/{attachment_id}", name="subsidy_admin_attachment")
def attachment_download(
    request: Request, application_id: int, attachment_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    content = attachments.read(
        db,
        application=application,
        attachment=row,
        store=request.app.state.file_store,
        actor=auth.actor,
    )
    db.commit()  # the audit row of the read
    return download(content, filename=row.filename, content_type=row.content_type)


@router.post("/{application_id}/attachments", name="subsidy_admin_attach")
async def attach(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """Staff add files while they handle the application (a scanned paper application too)."""
    application = _load(db, application_id)
    handling.claim(db, application=application, actor=auth.actor)
    form = await request.form()
    kind_value = str(form.get("kind") or "")
    upload = form.get("file")
    try:
        if kind_value not in {k.value for k in AttachmentType}:
            raise attachments.KindNotAllowed()
        if isinstance(upload, UploadFile) and upload.filename:
            checked = check_upload(await upload.read(MAX_BYTES + 1), upload.filename)
        else:
            checked = check_upload(b"", None)
        attachments.add(
            db,
            application=application,
            kind=AttachmentType(kind_value),
            upload=checked,
            store=request.app.state.file_store,
            actor=auth.actor,
        )
    except attachments.KindNotAllowed as exc:
        db.rollback()
        return _detail_page(
            request, db, auth, application, errors={"kind": gettext(exc.message)}, status=422
        )
    except (UploadRejected, attachments.TooManyAttachments) as exc:
        db.rollback()
        return _detail_page(
            request,
            db,
            auth,
            application,
            values={"kind": kind_value},
            errors={"file": gettext(exc.message)},
            status=exc.status_code,
        )
    db.commit()
    return _back(request, application_id, "#attachments")


@router.get(
    "/{application_id}/attachments/{attachment_id}/delete",
    name="subsidy_admin_attachment_confirm",
)
def attachment_confirm(
    request: Request, application_id: int, attachment_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.edit)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    return render(
        request,
        "admin/subsidies/confirm.html",
        {
            **_common(request, application),
            "title": gettext("Delete the file %(name)s?") % {"name": row.filename},
            "text": gettext(
                "The file is removed from the application. The change history keeps its name."
            ),
            "action": request.url_for(
                "subsidy_admin_attachment_delete",
                application_id=application_id,
                attachment_id=attachment_id,
            ).path,
            "button": gettext("Delete the file"),
        },
    )


@router.post(
    "/{application_id}/attachments/{attachment_id}/delete", name="subsidy_admin_attachment_delete"
)
def attachment_delete(
    request: Request, application_id: int, attachment_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.claim(db, application=application, actor=auth.actor)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    attachments.delete(db, application=application, attachment=row, actor=auth.actor)
    db.commit()
    return _back(request, application_id, "#attachments")


# --- Taking into handling (H29) ---------------------------------------------------------------------------


@router.post("/{application_id}/take", name="subsidy_admin_take")
def take(request: Request, application_id: int, auth: HandlingAuth, db: SessionDep) -> Response:
    handling.take(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _back(request, application_id)


@router.post("/{application_id}/take-over", name="subsidy_admin_take_over")
def take_over(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    handling.take_over(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _back(request, application_id)


# --- More information (H26) and locking ---------------------------------------------------------------------


def _request_page(
    request: Request,
    application: Application,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/subsidies/request_information.html",
        {
            **_common(request, application),
            "values": values,
            "errors": errors,
            "steps": [s.value for s in REOPENABLE_STEPS],
            "step_names": translated(STEP_NAMES),
            "deadline": handling.information_deadline(),
            "labels": {
                "message": gettext("What do you need from the applicant?"),
                "steps": gettext("Parts the applicant may change"),
            },
        },
        status_code=status,
    )


@router.get("/{application_id}/request-information", name="subsidy_admin_request_form")
def request_form(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.request_information)
    return _request_page(request, application, values={}, errors={})


@router.post("/{application_id}/request-information", name="subsidy_admin_request")
async def request_information(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """H26: the chosen parts open to the applicant for 7 days; the message is e-mailed as "a
    new message waits" with the deadline."""
    application = _load(db, application_id)
    result = parse_form(InformationRequestIn, await request.form())
    if result.data is None:
        values = dict(result.values)
        if isinstance(values.get("steps"), str):
            values["steps"] = [values["steps"]]
        return _request_page(request, application, values=values, errors=result.errors, status=422)
    handling.request_information(
        db, application=application, data=result.data, actor=auth.actor, base_url=base_url(request)
    )
    db.commit()
    return _back(request, application_id)


@router.post("/{application_id}/lock", name="subsidy_admin_lock")
def lock(request: Request, application_id: int, auth: HandlingAuth, db: SessionDep) -> Response:
    handling.lock(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _back(request, application_id)


# --- Cancelling (H48) ----------------------------------------------------------------------------------


def _reason_page(
    request: Request,
    application: Application,
    *,
    template: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        template,
        {
            **_common(request, application),
            "values": values,
            "errors": errors,
            "labels": {
                "reason": gettext("Reason"),
                "decision": gettext("Decision"),
                "granted_as_de_minimis_aid": gettext("Granted as de minimis aid"),
                "calculation": gettext("Calculation"),
            },
            **(extra or {}),
        },
        status_code=status,
    )


@router.get("/{application_id}/cancel", name="subsidy_admin_cancel_form")
def cancel_form(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.cancel)
    return _reason_page(
        request, application, template="admin/subsidies/cancel.html", values={}, errors={}
    )


@router.post("/{application_id}/cancel", name="subsidy_admin_cancel")
async def cancel(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    result = parse_form(CancelIn, await request.form())
    if result.data is None:
        return _reason_page(
            request,
            application,
            template="admin/subsidies/cancel.html",
            values=result.values,
            errors=result.errors,
            status=422,
        )
    handling.cancel(db, application=application, data=result.data, actor=auth.actor)
    db.commit()
    return _back(request, application_id)


# --- The decision (deciders only) ---------------------------------------------------------------------------


def _decision_page(
    request: Request,
    db: SessionDep,
    application: Application,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    view = calculations.view(db, application=application)
    return _reason_page(
        request,
        application,
        template="admin/subsidies/decision.html",
        values=values,
        errors=errors,
        status=status,
        extra={"calculation": view},
    )


@decision_router.get("/{application_id}/decision", name="subsidy_admin_decision_form")
def decision_form(
    request: Request,
    application_id: int,
    auth: DecidingAuth,
    db: SessionDep,
    decision: str | None = None,
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.decide)
    chosen = decision if decision in ("accepted", "rejected") else ""
    return _decision_page(request, db, application, values={"decision": chosen}, errors={})


@decision_router.post("/{application_id}/decision", name="subsidy_admin_decide")
async def decide(
    request: Request, application_id: int, auth: DecidingAuth, db: SessionDep
) -> Response:
    """Accept (with the current calculation frozen) or reject with the reason. Of two deciders
    at once one wins; the other sees what happened instead of a second decision."""
    application = _load(db, application_id)
    result = parse_form(DecisionIn, await request.form())
    if result.data is None:
        return _decision_page(
            request, db, application, values=result.values, errors=result.errors, status=422
        )
    try:
        handling.decide(
            db,
            application=application,
            data=result.data,
            actor=auth.actor,
            base_url=base_url(request),
        )
    except ValidationFailed as exc:
        db.rollback()
        return _decision_page(
            request, db, application, values=result.values, errors=_errors(exc.errors), status=422
        )
    except handling.DecisionConflict as exc:
        db.rollback()
        return render(
            request,
            "admin/subsidies/conflict.html",
            {**_common(request, application), "message": gettext(exc.message)},
            status_code=409,
        )
    db.commit()
    return _back(request, application_id)


@decision_router.post("/{application_id}/decision/preview", name="subsidy_admin_decision_preview")
async def decision_preview(
    request: Request, application_id: int, auth: DecidingAuth, db: SessionDep
) -> Response:
    """The decision letter the chosen decision would make, as a PDF: not stored, audited."""
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.decide)
    result = parse_form(DecisionIn, await request.form())
    if result.data is None:
        return _decision_page(
            request, db, application, values=result.values, errors=result.errors, status=422
        )
    try:
        content, filename = decision_document.preview(
            db, application=application, data=result.data, actor=auth.actor
        )
    except ValidationFailed as exc:
        db.rollback()
        return _decision_page(
            request, db, application, values=result.values, errors=_errors(exc.errors), status=422
        )
    db.commit()  # the audit row of the preview
    return download(content, filename=filename, content_type="application/pdf")


@decision_router.get("/{application_id}/return", name="subsidy_admin_return_form")
def return_form(
    request: Request, application_id: int, auth: DecidingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.return_to_handling)
    return _reason_page(
        request, application, template="admin/subsidies/return.html", values={}, errors={}
    )


@decision_router.post("/{application_id}/return", name="subsidy_admin_return")
async def return_to_handling(
    request: Request, application_id: int, auth: DecidingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    result = parse_form(ReturnIn, await request.form())
    if result.data is None:
        return _reason_page(
            request,
            application,
            template="admin/subsidies/return.html",
            values=result.values,
            errors=result.errors,
            status=422,
        )
    handling.return_to_handling(db, application=application, data=result.data, actor=auth.actor)
    db.commit()
    return _back(request, application_id)


# --- Messages, notes and marks ------------------------------------------------------------------------------


@router.post("/{application_id}/messages", name="subsidy_admin_message")
async def message(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """A message to the applicant (e-mailed: a new message waits) or an internal note."""
    application = _load(db, application_id)
    result = parse_form(MessageIn, await request.form())
    if result.data is None:
        return _detail_page(
            request, db, auth, application, values=result.values, errors=result.errors, status=422
        )
    handling.post_message(
        db, application=application, data=result.data, actor=auth.actor, base_url=base_url(request)
    )
    db.commit()
    return _back(request, application_id, "#messages")


@router.post("/{application_id}/review", name="subsidy_admin_review")
async def review(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """H30: a section checked, or the mark removed."""
    application = _load(db, application_id)
    result = parse_form(ReviewMarkIn, await request.form())
    if result.data is None:
        raise NotFound()
    handling.set_review_mark(db, application=application, data=result.data, actor=auth.actor)
    db.commit()
    return _back(request, application_id, f"#section-{result.data.section}")


# --- Changing a section (H27) --------------------------------------------------------------------------------


def _edit_page(
    request: Request,
    db: SessionDep,
    application: Application,
    step: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    rows: int | None = None,
    status: int = 200,
) -> Response:
    current = values if values is not None else employer_views.step_values(application, step)
    count = 0
    if step == Step.de_minimis:
        if values is None:
            saved = service.de_minimis_rows(db, application)
            for index, row in enumerate(saved):
                current[f"aids-{index}-granter"] = row.granter
                current[f"aids-{index}-amount"] = f"{row.amount:.2f}".replace(".", ",")
                current[f"aids-{index}-granted_at"] = row.granted_at.isoformat()
            rows = len(saved)
        count = min(max((rows or 0) + 1, 1), employer_views.MAX_ROWS)
    return render(
        request,
        f"admin/subsidies/edit_{step}.html",
        {
            **_common(request, application),
            "step": step,
            "step_name": gettext(STEP_NAMES[step]),
            "values": current,
            "errors": errors or {},
            "labels": field_labels(count),
            "rows": count,
            "company": employer_views._company(db, application),
            "is_paper_draft": application.status == S.draft,
        },
        status_code=status,
    )


def _check_edit(application: Application, step: str, auth: Auth) -> None:
    if step not in STEP_SCHEMAS:
        raise NotFound()
    handling.require_action(application, auth.actor, Action.edit)


@router.get("/{application_id}/sections/{step}", name="subsidy_admin_edit_form")
def edit_form(
    request: Request, application_id: int, step: str, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    _check_edit(application, step, auth)
    if step == Step.employee:
        service.record_read(db, application=application, actor=auth.actor)
        db.commit()
    return _edit_page(request, db, application, step)


@router.post("/{application_id}/sections/{step}", name="subsidy_admin_edit")
async def edit(
    request: Request, application_id: int, step: str, auth: HandlingAuth, db: SessionDep
) -> Response:
    """The section through the employer's own validation; every changed field goes to the
    change history with the reason (H27)."""
    application = _load(db, application_id)
    _check_edit(application, step, auth)
    form = await request.form()
    reason = str(form.get("reason") or "").strip()[:1024] or None
    data: StepIn | None
    errors: dict[str, str] = {}
    if step == Step.de_minimis:
        raw, values, rows = employer_views._de_minimis_form(form)
        values["reason"] = reason or ""
        if str(form.get("action") or "") == "add_row":
            return _edit_page(request, db, application, step, values=values, rows=rows + 1)
        try:
            data = DeMinimisStepIn.model_validate(raw)
        except ValidationError as exc:
            data, errors = None, _errors([dict(e) for e in exc.errors()])
    else:
        result = parse_form(STEP_SCHEMAS[step], form)
        data, values, errors, rows = result.data, result.values, result.errors, 0
        values["reason"] = reason or ""
    if data is None:
        return _edit_page(
            request, db, application, step, values=values, errors=errors, rows=rows, status=422
        )
    try:
        handling.edit_step(
            db, application=application, step=step, data=data, actor=auth.actor, reason=reason
        )
    except ValidationFailed as exc:
        db.rollback()
        return _edit_page(
            request,
            db,
            application,
            step,
            values=values,
            errors=_errors(exc.errors),
            rows=rows,
            status=422,
        )
    db.commit()
    return _back(request, application_id, f"#step-{step}")


# --- The calculator (H32–H46) ------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def calculation_values(inputs: Mapping[str, Any]) -> tuple[dict[str, str], int, int]:
    """The calculator form's values from stored inputs; (values, pay subsidy rows, training
    compensation rows) with one blank row each to add."""
    values = {
        name: _shown(inputs.get(name))
        for name in calculations.INPUT_FIELDS
        if name not in ("pay_subsidies", "training_compensations")
    }
    subsidies = list(inputs.get("pay_subsidies") or [])
    for index, row in enumerate(subsidies):
        for name in ("start_date", "end_date", "pay_subsidy_percent", "work_time_percent"):
            value = row.get(name)
            values[f"pay_subsidies-{index}-{name}"] = "" if value is None else str(value)
    trainings = list(inputs.get("training_compensations") or [])
    for index, row in enumerate(trainings):
        for name in ("start_date", "end_date", "monthly_amount"):
            value = row.get(name)
            values[f"training_compensations-{index}-{name}"] = (
                "" if value is None else str(value).replace(".", ",")
            )
    return values, len(subsidies) + 1, len(trainings) + 1


def _row_count(form: FormData, name: str) -> int:
    try:
        return max(0, min(int(str(form.get(name) or "0")), MAX_CALCULATION_ROWS))
    except ValueError:
        return 0


def _form_rows(
    form: FormData, prefix: str, names: tuple[str, ...], slots: int
) -> list[dict[str, str]]:
    rows = []
    for index in range(slots):
        row = {name: str(form.get(f"{prefix}-{index}-{name}") or "").strip() for name in names}
        if any(row.values()):
            rows.append(row)
    return rows


PAY_SUBSIDY_FIELDS = ("start_date", "end_date", "pay_subsidy_percent", "work_time_percent")
TRAINING_FIELDS = ("start_date", "end_date", "monthly_amount")


def parse_calculation_form(form: FormData) -> tuple[dict[str, Any], dict[str, str], int, int]:
    """(data for CalculationIn, the values to show again, pay subsidy rows, training rows);
    blank rows are left out and the rest numbered from 0, so errors match what is shown."""
    subsidies = _form_rows(form, "pay_subsidies", PAY_SUBSIDY_FIELDS, _row_count(form, "ps_rows"))
    trainings = _form_rows(
        form, "training_compensations", TRAINING_FIELDS, _row_count(form, "tc_rows")
    )
    scalar = [
        n for n in calculations.INPUT_FIELDS if n not in ("pay_subsidies", "training_compensations")
    ]
    values: dict[str, str] = {n: str(form.get(n) or "").strip() for n in scalar}
    data: dict[str, Any] = {n: v for n, v in values.items() if v}
    for flag in ("apprenticeship", "instalments_enabled"):
        data[flag] = values[flag] not in ("", "false", "0", "off")
    data["pay_subsidies"] = [{k: v or None for k, v in row.items()} for row in subsidies]
    data["training_compensations"] = [{k: v or None for k, v in row.items()} for row in trainings]
    for index, row in enumerate(subsidies):
        for name, value in row.items():
            values[f"pay_subsidies-{index}-{name}"] = value
    for index, row in enumerate(trainings):
        for name, value in row.items():
            values[f"training_compensations-{index}-{name}"] = value
    return data, values, len(subsidies), len(trainings)


def calculator_labels(ps_rows: int, tc_rows: int) -> dict[str, str]:
    found = {
        "benefit_type": gettext("Benefit type"),
        "start_date": gettext("Start of the calculation period"),
        "end_date": gettext("End of the calculation period"),
        "monthly_pay": gettext("Gross pay a month (€)"),
        "other_expenses": gettext("Indirect labour costs a month (€)"),
        "vacation_money": gettext("Holiday pay a month (€)"),
        "state_aid_max_percentage": gettext("State aid maximum percentage"),
        "apprenticeship": gettext("Apprenticeship"),
        "instalments_enabled": gettext("Pay in instalments"),
        "override_monthly_benefit_amount": gettext("Monthly amount entered by hand (€)"),
        "override_justification": gettext("Justification of the amount entered by hand"),
        "pay_subsidies": gettext("Pay subsidies"),
        "training_compensations": gettext("Training compensations"),
        "employee_hetu": gettext("Personal identity code"),
        "monthly_amount": gettext("Amount a month (€)"),
        "total_amount": gettext("Total amount (€)"),
    }
    for index in range(ps_rows):
        n = index + 1
        found[f"pay_subsidies-{index}-start_date"] = gettext("Pay subsidy %(n)s: start") % {"n": n}
        found[f"pay_subsidies-{index}-end_date"] = gettext("Pay subsidy %(n)s: end") % {"n": n}
        found[f"pay_subsidies-{index}-pay_subsidy_percent"] = gettext(
            "Pay subsidy %(n)s: percentage"
        ) % {"n": n}
        found[f"pay_subsidies-{index}-work_time_percent"] = gettext(
            "Pay subsidy %(n)s: working time (%%)"
        ) % {"n": n}
    for index in range(tc_rows):
        n = index + 1
        found[f"training_compensations-{index}-start_date"] = gettext(
            "Training compensation %(n)s: start"
        ) % {"n": n}
        found[f"training_compensations-{index}-end_date"] = gettext(
            "Training compensation %(n)s: end"
        ) % {"n": n}
        found[f"training_compensations-{index}-monthly_amount"] = gettext(
            "Training compensation %(n)s: amount a month (€)"
        ) % {"n": n}
    return found


def limit_warnings(limits: calculator.FormerBenefits | None) -> list[str]:
    """The limits' warnings in the page's language (H45)."""
    return [w.text() for w in limits.warnings] if limits else []


def _calculator_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    application: Application,
    *,
    values: dict[str, str] | None = None,
    ps_rows: int | None = None,
    tc_rows: int | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    view = calculations.view(db, application=application)
    if values is None:
        values, ps_rows, tc_rows = calculation_values(view.inputs)
    ps = min(max(ps_rows or 1, 1), MAX_CALCULATION_ROWS)
    tc = min(max(tc_rows or 1, 1), MAX_CALCULATION_ROWS)
    return render(
        request,
        "admin/subsidies/calculator.html",
        {
            **_common(request, application),
            "view": view,
            "values": values,
            "errors": errors or {},
            "ps_rows": ps,
            "tc_rows": tc,
            "labels": calculator_labels(ps, tc),
            "can_edit": Action.edit in handling.actions_for(application, auth.actor),
            "limit_warnings": limit_warnings(view.limits),
        },
        status_code=status,
    )


@router.get("/{application_id}/calculation", name="subsidy_admin_calculator")
def calculator_page(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    return _calculator_page(request, db, auth, _load(db, application_id))


@router.post("/{application_id}/calculation", name="subsidy_admin_calculate")
async def calculate(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """ "Calculate" stores the inputs and the engine's result; "add a row" shows one more."""
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.edit)
    form = await request.form()
    raw, values, ps, tc = parse_calculation_form(form)
    action = str(form.get("action") or "calculate")
    if action in ("add_pay_subsidy", "add_training"):
        more_ps, more_tc = (2, 1) if action == "add_pay_subsidy" else (1, 2)
        return _calculator_page(
            request,
            db,
            auth,
            application,
            values=values,
            ps_rows=ps + more_ps,
            tc_rows=tc + more_tc,
        )
    try:
        data = CalculationIn.model_validate(raw)
    except ValidationError as exc:
        return _calculator_page(
            request,
            db,
            auth,
            application,
            values=values,
            ps_rows=ps + 1,
            tc_rows=tc + 1,
            errors=_errors([dict(e) for e in exc.errors()]),
            status=422,
        )
    try:
        handling.calculate(db, application=application, data=data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        return _calculator_page(
            request,
            db,
            auth,
            application,
            values=values,
            ps_rows=ps + 1,
            tc_rows=tc + 1,
            errors=_errors(exc.errors),
            status=422,
        )
    db.commit()
    return RedirectResponse(
        str(request.url_for("subsidy_admin_calculator", application_id=application_id).path)
        + "#result",
        status_code=303,
    )


def _previous_page(
    request: Request,
    application: Application,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/subsidies/previous_benefit.html",
        {
            **_common(request, application),
            "values": values,
            "errors": errors,
            "labels": {
                "employee_hetu": gettext("Personal identity code"),
                "start_date": gettext("Start date"),
                "end_date": gettext("End date"),
                "monthly_amount": gettext("Amount a month (€)"),
                "total_amount": gettext("Total amount (€)"),
                "apprenticeship": gettext("Apprenticeship"),
            },
        },
        status_code=status,
    )


@router.get("/{application_id}/previous-benefits", name="subsidy_admin_previous_form")
def previous_form(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.edit)
    service.record_read(db, application=application, actor=auth.actor, fields=["employee_hetu"])
    db.commit()
    return _previous_page(
        request, application, values={"employee_hetu": application.employee_hetu or ""}, errors={}
    )


@router.post("/{application_id}/previous-benefits", name="subsidy_admin_previous_add")
async def previous_add(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """H46: an earlier benefit of the employee at this company, from before this service."""
    application = _load(db, application_id)
    result = parse_form(PreviousBenefitIn, await request.form())
    if result.data is None:
        return _previous_page(
            request, application, values=result.values, errors=result.errors, status=422
        )
    handling.add_previous_benefit(db, application=application, data=result.data, actor=auth.actor)
    db.commit()
    return RedirectResponse(
        str(request.url_for("subsidy_admin_calculator", application_id=application_id).path)
        + "#previous",
        status_code=303,
    )


@router.post(
    "/{application_id}/previous-benefits/{benefit_id}/delete",
    name="subsidy_admin_previous_delete",
)
def previous_delete(
    request: Request, application_id: int, benefit_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.delete_previous_benefit(
        db, application=application, benefit_id=benefit_id, actor=auth.actor
    )
    db.commit()
    return RedirectResponse(
        str(request.url_for("subsidy_admin_calculator", application_id=application_id).path)
        + "#previous",
        status_code=303,
    )


# --- Sending a paper application (H31) -----------------------------------------------------------------------


def _send_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    application: Application,
    *,
    errors: dict[str, str] | None = None,
    ticked: list[int] | None = None,
    status: int = 200,
) -> Response:
    handler_terms = terms.in_force(db, kind=TermsKind.handler_terms)
    consents = terms.consents_of(db, terms=handler_terms) if handler_terms else []
    lang = current_language()
    problems = service.submit_problems(db, application=application, actor=auth.actor)
    return render(
        request,
        "admin/subsidies/send_paper.html",
        {
            **_common(request, application),
            "terms": handler_terms,
            "body": terms.text_in(handler_terms, lang) if handler_terms else "",
            "consents": [(c.id, terms.text_in(c, lang)) for c in consents],
            "ticked": ticked or [],
            "errors": errors or {},
            "summary_errors": {k: v for k, v in (errors or {}).items() if k != "__all__"},
            "labels": {"consent_ids": gettext("Terms")},
            "problems": [
                (
                    gettext(STEP_NAMES[step]),
                    step,
                    list(_errors([{**p, "loc": p["loc"][1:]} for p in items]).items()),
                )
                for step, items in problems.items()
                if items
            ],
            "field_labels": field_labels(),
        },
        status_code=status,
    )


@router.get("/{application_id}/send", name="subsidy_admin_send_form")
def send_form(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.send_paper)
    return _send_page(request, db, auth, application)


@router.post("/{application_id}/send", name="subsidy_admin_send")
async def send(
    request: Request, application_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    """The handler terms confirmed (H31): draft → received with the next application number."""
    application = _load(db, application_id)
    handling.require_action(application, auth.actor, Action.send_paper)
    result = parse_form(SubmitIn, await request.form())
    data = result.data or SubmitIn()
    try:
        handling.send_paper(db, application=application, data=data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        consent_errors = [e for e in exc.errors if e["loc"] and e["loc"][0] == "consent_ids"]
        return _send_page(
            request,
            db,
            auth,
            application,
            errors=_errors(consent_errors)
            if consent_errors
            else {"__all__": gettext("Fill in every part of the application first.")},
            ticked=data.consent_ids,
            status=422,
        )
    db.commit()
    return _back(request, application_id)
