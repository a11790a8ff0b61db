"""The employer's Helsinki-lisä pages (fi/sv/en): the terms of service, the organisation's
applications, the wizard (task list, steps, check your answers, consents and sending), the
confirmation, the read-only view with the timeline, copying and deleting (H2–H26).

Every page works without JavaScript. Every page but the terms page needs the terms of service
accepted (dependencies.require_terms_of_service): before that, it sends the user to the terms
and back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from app import payment_status
from app.auth.dependencies import EmployerAuth, require_employer
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, UploadRejected, check_upload
from app.errors import NotFound, ValidationFailed
from app.forms import error_loc, error_message, parse_form
from app.i18n import current_language, gettext
from app.security import safe_local_path
from app.subsidies import attachments, decision_document, messages, service, terms, timeline
from app.subsidies.dependencies import ApplicantAuth, application_of, require_terms_of_service
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    AttachmentType,
    MessageKind,
    TermsKind,
)
from app.subsidies.schemas import (
    STEP_SCHEMAS,
    DeMinimisStepIn,
    MessageIn,
    Step,
    StepIn,
    SubmitIn,
    TermsAcceptIn,
)
from app.templating import render
from app.types import format_iban

S = ApplicationStatus
PREFIX = "/employer/subsidies"
MAX_ROWS = 50

# The terms page: the only Helsinki-lisä page that works before the terms are accepted.
terms_router = APIRouter(
    prefix=PREFIX, dependencies=[Depends(require_employer)], include_in_schema=False
)
router = APIRouter(
    prefix=PREFIX,
    dependencies=[Depends(require_employer), Depends(require_terms_of_service)],
    include_in_schema=False,
)


def step_names() -> dict[str, str]:
    return {
        Step.employer: gettext("Employer"),
        Step.de_minimis: gettext("De minimis aid"),
        Step.employee: gettext("Employee and employment"),
        Step.period: gettext("Benefit period"),
        Step.attachments: gettext("Attachments"),
        Step.summary: gettext("Check your answers"),
        Step.consents: gettext("Terms and sending"),
    }


def state_names() -> dict[str, str]:
    return {
        service.NOT_STARTED: gettext("Not started"),
        service.IN_PROGRESS: gettext("In progress"),
        service.DONE: gettext("Completed"),
        service.HAS_PROBLEMS: gettext("Has problems"),
    }


def attachment_names() -> dict[str, str]:
    return {kind: gettext(name) for kind, name in service.ATTACHMENT_NAMES.items()}


def status_names() -> dict[str, str]:
    return {key: gettext(name) for key, name in timeline.STATUS_NAMES.items()}


def labels(rows: int = 0) -> dict[str, str]:
    """Every field's label, for the forms, the error summaries and the summary page."""
    found = {
        "company_department": gettext("Department"),
        "use_alternative_address": gettext("Use a different postal address"),
        "alternative_street_address": gettext("Street address"),
        "alternative_postcode": gettext("Postcode"),
        "alternative_city": gettext("City"),
        "iban": gettext("Bank account (IBAN)"),
        "contact_first_name": gettext("Contact person's first name"),
        "contact_last_name": gettext("Contact person's last name"),
        "contact_phone": gettext("Contact person's phone number"),
        "contact_email": gettext("Contact person's e-mail address"),
        "language": gettext("Language of the messages and the decision"),
        "association_has_business_activities": gettext(
            "Does the association engage in economic activity?"
        ),
        "co_operation_negotiations": gettext(
            "Does the employer have change or co-operation negotiations under way, or have "
            "they ended within the last 12 months?"
        ),
        "co_operation_negotiations_description": gettext("Describe the negotiations"),
        "other_subsidised_employed": gettext(
            "Does the employer have other employees hired with a subsidy at the moment?"
        ),
        "other_subsidised_number": gettext("Number of other subsidised employees"),
        "de_minimis_aid": gettext(
            "Has the employer received de minimis aid in the current or the two previous tax years?"
        ),
        "aids": gettext("De minimis aid received"),
        "employee_first_name": gettext("Employee's first name"),
        "employee_last_name": gettext("Employee's last name"),
        "employee_hetu": gettext("Employee's personal identity code"),
        "is_living_in_helsinki": gettext("The employee's municipality of residence is Helsinki"),
        "association_immediate_manager_check": gettext(
            "The employee has been assigned a job supervisor"
        ),
        "job_title": gettext("Job title"),
        "working_hours": gettext("Working hours a week"),
        "collective_bargaining_agreement": gettext("Collective agreement"),
        "monthly_pay": gettext("Gross pay a month (€)"),
        "vacation_money": gettext("Holiday pay a month (€)"),
        "other_expenses": gettext("Indirect labour costs a month (€)"),
        "pay_subsidy_granted": gettext("Has a pay subsidy been granted for the employment?"),
        "pay_subsidy_percent": gettext("Pay subsidy percentage"),
        "apprenticeship_program": gettext("Is the employment an apprenticeship?"),
        "start_date": gettext("Start date of the benefit period"),
        "end_date": gettext("End date of the benefit period"),
        "consent_ids": gettext("Terms"),
        "file": gettext("File"),
        "kind": gettext("Type of file"),
    }
    for index in range(rows):
        number = index + 1
        found[f"aids-{index}-granter"] = gettext("Aid %(number)s: granter") % {"number": number}
        found[f"aids-{index}-amount"] = gettext("Aid %(number)s: amount (€)") % {"number": number}
        found[f"aids-{index}-granted_at"] = gettext("Aid %(number)s: date granted") % {
            "number": number
        }
    for kind, name in attachment_names().items():
        found[kind] = name
    return found


def errors_by_key(errors: list[dict[str, Any]], *, drop_step: bool = False) -> dict[str, str]:
    """Errors keyed like the pages' fields ("aids-0-amount"); submit problems lose their step."""
    result: dict[str, str] = {}
    for err in errors:
        loc = error_loc(err)
        if drop_step and loc:
            loc = loc[1:]
        result.setdefault(service.problem_key(loc) or "__all__", error_message(err))
    return result


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def step_values(application: Application, step: str) -> dict[str, str]:
    schema = STEP_SCHEMAS[step]
    values = {name: _shown(getattr(application, name, None)) for name in schema.model_fields}
    if step == Step.employer and application.iban:
        values["iban"] = format_iban(application.iban)
    return values


def _rows_values(rows: list[dict[str, Any]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, row in enumerate(rows):
        for name in ("granter", "amount", "granted_at"):
            values[f"aids-{index}-{name}"] = _shown(row.get(name))
    return values


def _next_step(application: Application, step: str, auth: EmployerAuth) -> str | None:
    """The next step the employer may edit, or summary at the end."""
    order = [str(s) for s in service.EDIT_STEPS]
    if step in order:
        for candidate in order[order.index(step) + 1 :]:
            if service.can_edit_step(application, candidate, auth.actor):
                return str(candidate)
    return str(Step.summary)


def _previous_step(application: Application, step: str, auth: EmployerAuth) -> str | None:
    order = [str(s) for s in service.EDIT_STEPS]
    if step in (Step.summary, Step.consents):
        earlier = order
    elif step in order:
        earlier = order[: order.index(step)]
    else:
        return None
    editable = [s for s in earlier if service.can_edit_step(application, s, auth.actor)]
    if step == Step.consents:
        return str(Step.summary)
    return str(editable[-1]) if editable else None


def _company(db: SessionDep, application: Application) -> dict[str, Any]:
    """The register data shown read-only: the Company row while a draft, the copy once sent."""
    company = service.company_row(db, application) if application.status == S.draft else None
    if company is not None:
        return {
            "name": company.name,
            "business_id": company.business_id,
            "company_form": company.company_form,
            "street_address": company.street_address,
            "postcode": company.postcode,
            "city": company.city,
            "is_association": company.is_association,
        }
    row = service.company_row(db, application)
    return {
        "name": application.company_name or (row.name if row else ""),
        "business_id": row.business_id if row else "",
        "company_form": application.company_form,
        "street_address": application.official_street_address,
        "postcode": application.official_postcode,
        "city": application.official_city,
        "is_association": application.is_association,
    }


def _common(db: SessionDep, application: Application) -> dict[str, Any]:
    return {
        "application": application,
        "company": _company(db, application),
        "step_names": step_names(),
        "status_names": status_names(),
        "attachment_names": attachment_names(),
        "employee_name": service.employee_name(application),
        "messages_enabled": application.status != S.draft,
    }


def _app_url(request: Request, application: Application, name: str = "subsidy_application") -> str:
    return str(request.url_for(name, application_id=application.id).path)


def _step_url(request: Request, application: Application, step: str) -> str:
    return str(request.url_for("subsidy_step", application_id=application.id, step=step).path)


# --- Terms of service (H2) -------------------------------------------------------------------------


def _terms_page(
    request: Request,
    db: SessionDep,
    *,
    next_path: str,
    errors: dict[str, str] | None = None,
    ticked: list[int] | None = None,
    status: int = 200,
) -> Response:
    current = terms.in_force(db, kind=TermsKind.terms_of_service)
    lang = current_language()
    consents = terms.consents_of(db, terms=current) if current else []
    return render(
        request,
        "subsidies/terms.html",
        {
            "terms": current,
            "body": terms.text_in(current, lang) if current else "",
            "consents": [(c.id, terms.text_in(c, lang)) for c in consents],
            "ticked": ticked or [],
            "errors": errors or {},
            "labels": {f"consent_ids-{c.id}": gettext("Terms") for c in consents},
            "next": next_path,
        },
        status_code=status,
    )


@terms_router.get("/terms", name="subsidy_terms")
def terms_page(
    request: Request, auth: EmployerAuth, db: SessionDep, next: str | None = None
) -> Response:
    next_path = safe_local_path(next, PREFIX)
    if terms.has_accepted_terms_of_service(db, actor=auth.actor):
        return RedirectResponse(next_path, status_code=303)
    return _terms_page(request, db, next_path=next_path)


@terms_router.post("/terms", name="subsidy_terms_accept")
async def terms_accept(request: Request, auth: EmployerAuth, db: SessionDep) -> Response:
    form = await request.form()
    next_path = safe_local_path(str(form.get("next") or ""), PREFIX)
    result = parse_form(TermsAcceptIn, form)
    data = result.data or TermsAcceptIn()
    try:
        terms.accept_terms_of_service(db, actor=auth.actor, data=data)
    except ValidationFailed as exc:
        db.rollback()
        return _terms_page(
            request,
            db,
            next_path=next_path,
            errors=errors_by_key(exc.errors),
            ticked=data.consent_ids,
            status=422,
        )
    db.commit()
    return RedirectResponse(next_path, status_code=303)


# --- The organisation's applications ------------------------------------------------------------


@router.get("", name="subsidy_list")
def application_list(request: Request, auth: ApplicantAuth, db: SessionDep) -> Response:
    """Drafts to continue, applications waiting for the employer's answer, sent and decided."""
    applications = service.company_applications(db, actor=auth.actor)
    db.commit()  # the audit row of the read
    return render(
        request,
        "subsidies/list.html",
        {
            "groups": service.grouped(applications),
            "unread": messages.unread_by_applicant(
                db, application_ids=[a.id or 0 for a in applications]
            ),
            "status_names": status_names(),
            "employee_name": service.employee_name,
        },
    )


@router.get("/new", name="subsidy_start")
def start_page(request: Request) -> Response:
    """Who can apply and what is needed, then "Start a new application"."""
    return render(request, "subsidies/start.html", {})


@router.post("/applications", name="subsidy_create")
def create(request: Request, auth: ApplicantAuth, db: SessionDep) -> Response:
    application = service.create_draft(db, actor=auth.actor, language=current_language())
    db.commit()
    return RedirectResponse(_step_url(request, application, Step.employer), status_code=303)


# --- One application --------------------------------------------------------------------------------


@router.get("/applications/{application_id}", name="subsidy_application")
def application_page(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    """A draft's task list; once sent, the application as the applicant sees it."""
    application = application_of(db, auth, application_id)
    context = _common(db, application)
    if service.employee_name(application) or application.employee_hetu:
        service.record_read(db, application=application, actor=auth.actor)
        db.commit()
    if application.status == S.draft:
        states = service.step_states(db, application=application, actor=auth.actor)
        resume = (
            _next_step(application, application.step, auth)
            if application.step in service.EDIT_STEPS
            else None
        )
        context |= {
            "states": states,
            "state_names": state_names(),
            "ready": all(s.state == service.DONE for s in states),
            "resume": resume,
        }
        return render(request, "subsidies/tasks.html", context)
    context |= {
        "timeline": timeline.applicant_timeline(db, application=application),
        "event_titles": {k: gettext(v) for k, v in timeline.EVENT_TITLES.items()},
        "next_actor_names": {k: gettext(v) for k, v in timeline.NEXT_ACTOR_NAMES.items()},
        "what_next": gettext(timeline.WHAT_NEXT[application.status]),
        "next_actor": gettext(timeline.NEXT_ACTOR_NAMES[timeline.NEXT_ACTOR[application.status]]),
        "deadline": timeline.deadline(application),
        "decided": application.status in (S.accepted, S.rejected),
        "decision_letter": decision_document.current_info(db, application=application),
        "payments": payment_status.payments_of(db, "subsidy_application", application.id),
        "editable_steps": service.editable_steps(application, auth.actor),
        "de_minimis": service.de_minimis_rows(db, application),
        "attachments": service.attachments_of(db, application),
        "labels": labels(),
        "values": {},
        "errors": {},
        "request_message": _information_request(db, auth, application),
        "unread": messages.unread_by_applicant(db, application_ids=[application.id or 0]).get(
            application.id or 0, 0
        ),
    }
    db.commit()  # the audit row of reading the handler's request
    return render(request, "subsidies/view.html", context)


def _information_request(
    db: SessionDep, auth: EmployerAuth, application: Application
) -> str | None:
    """The handler's latest message since more information was asked for (H26)."""
    if application.status != S.additional_information_needed:
        return None
    since = application.information_requested_at
    found = [
        m
        for m in messages.for_applicant(
            db, application=application, actor=auth.actor, mark_seen=False
        )
        if m.kind == MessageKind.handler_message and (since is None or m.created_at >= since)
    ]
    return found[-1].content if found else None


def _step_page(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    application: Application,
    step: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    rows: int | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        **_common(db, application),
        "step": step,
        "errors": errors or {},
        "previous": _previous_step(application, step, auth),
        "next": _next_step(application, step, auth),
        "is_draft": application.status == S.draft,
    }
    if step == Step.attachments:
        context |= {
            "attachments": service.attachments_of(db, application),
            "required": [k.value for k in service.required_attachments(application)],
            "kinds": [
                (k.value, gettext(service.ATTACHMENT_NAMES[k]))
                for k in attachments.kinds_for(auth.actor)
            ],
            "max_mb": MAX_BYTES // (1024 * 1024),
            "max_files": attachments.MAX_PER_APPLICATION,
            "labels": labels(),
            "values": values or {},
        }
        return render(request, "subsidies/step_attachments.html", context, status_code=status)
    current = values if values is not None else step_values(application, step)
    if step == Step.de_minimis:
        if values is None:
            saved = [
                {"granter": r.granter, "amount": r.amount, "granted_at": r.granted_at}
                for r in service.de_minimis_rows(db, application)
            ]
            current |= _rows_values(saved)
            rows = len(saved)
        count = min(max((rows or 0) + 1, 1), MAX_ROWS)
        limits = service.de_minimis_rules()
        context |= {
            "rows": count,
            "applicable": service.de_minimis_applicable(application),
            "association_answered": application.association_has_business_activities is not None,
            "cap": limits.cap,
            "window_start": limits.window_start,
            "earliest_grant": limits.earliest_grant,
        }
    else:
        count = 0
    if step == Step.period:
        context["earliest_start"] = service.earliest_start()
        context["first_submission"] = application.submitted_at is None
    context |= {"values": current, "labels": labels(count)}
    return render(request, f"subsidies/step_{step}.html", context, status_code=status)


def _check_step(application: Application, step: str, auth: EmployerAuth) -> None:
    if step not in service.EDIT_STEPS:
        raise NotFound()
    if not service.can_edit_step(application, step, auth.actor):
        raise service.ApplicationLocked()


@router.get("/applications/{application_id}/steps/{step}", name="subsidy_step")
def step_page(
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
    step: str,
) -> Response:
    application = application_of(db, auth, application_id)
    if step == Step.summary:
        return _summary(request, db, auth, application)
    if step == Step.consents:
        return _consents(request, db, auth, application)
    if step not in service.EDIT_STEPS:
        raise NotFound()
    if not service.can_edit_step(application, step, auth.actor):
        return RedirectResponse(_app_url(request, application), status_code=303)
    if step == Step.employee:
        service.record_read(db, application=application, actor=auth.actor)
        db.commit()
    return _step_page(request, db, auth, application, step)


def _de_minimis_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The rows of the de minimis form, blank rows left out and the rest numbered from 0 (so
    the errors' row numbers match what the page shows next); returns (data, values, rows)."""
    try:
        slots = min(int(str(form.get("rows") or "0")), MAX_ROWS)
    except ValueError:
        slots = 0
    rows: list[dict[str, Any]] = []
    for index in range(slots):
        row = {
            name: str(form.get(f"aids-{index}-{name}") or "").strip()
            for name in ("granter", "amount", "granted_at")
        }
        if any(row.values()):
            rows.append(row)
    answer = str(form.get("de_minimis_aid") or "")
    data: dict[str, Any] = {
        "de_minimis_aid": answer or None,
        "aids": [{k: v or None for k, v in row.items()} for row in rows],
    }
    values: dict[str, Any] = {"de_minimis_aid": answer}
    for index, row in enumerate(rows):
        for name, value in row.items():
            values[f"aids-{index}-{name}"] = value
    return data, values, len(rows)


@router.post("/applications/{application_id}/steps/{step}", name="subsidy_step_save")
async def step_save(
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
    step: str,
) -> Response:
    """ "Save and continue" (the next step), "Save and close" (the list of applications)."""
    application = application_of(db, auth, application_id)
    _check_step(application, step, auth)
    if step == Step.attachments:
        raise NotFound()
    form = await request.form()
    action = str(form.get("action") or "continue")
    data: StepIn | None
    if step == Step.de_minimis:
        raw, values, rows = _de_minimis_form(form)
        if action == "add_row":
            return _step_page(request, db, auth, application, step, values=values, rows=rows + 1)
        errors: dict[str, str] = {}
        try:
            data = DeMinimisStepIn.model_validate(raw)
        except ValidationError as exc:
            data, errors = None, errors_by_key([dict(e) for e in exc.errors()])
    else:
        result = parse_form(STEP_SCHEMAS[step], form)
        data, values, errors, rows = result.data, result.values, result.errors, 0
    if data is None:
        return _step_page(
            request,
            db,
            auth,
            application,
            step,
            values=values,
            errors=errors,
            rows=rows,
            status=422,
        )
    try:
        service.save_step(db, application=application, step=step, data=data, actor=auth.actor)
    except ValidationFailed as exc:
        db.rollback()
        return _step_page(
            request,
            db,
            auth,
            application,
            step,
            values=values,
            errors=errors_by_key(exc.errors),
            rows=rows,
            status=422,
        )
    db.commit()
    if action == "close":
        return RedirectResponse(request.url_for("subsidy_list").path + "?saved=1", status_code=303)
    target = _next_step(application, step, auth) or Step.summary
    return RedirectResponse(_step_url(request, application, target), status_code=303)


# --- Attachments ----------------------------------------------------------------------------------


@router.post("/applications/{application_id}/attachments", name="subsidy_attach")
async def attach(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    """H16: PDF, PNG or JPEG by content, at most 10 MB, at most 20 files per application."""
    application = application_of(db, auth, application_id)
    _check_step(application, Step.attachments, auth)
    form = await request.form()
    kind_value = str(form.get("kind") or "")
    upload = form.get("file")
    try:
        if kind_value not in {k.value for k in attachments.kinds_for(auth.actor)}:
            raise attachments.KindNotAllowed()
        if not isinstance(upload, UploadFile) or not upload.filename:
            checked = check_upload(b"", None)
        else:
            checked = check_upload(await upload.read(MAX_BYTES + 1), upload.filename)
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
        return _step_page(
            request,
            db,
            auth,
            application,
            Step.attachments,
            errors={"kind": gettext(exc.message)},
            values={"kind": kind_value},
            status=exc.status_code,
        )
    except (UploadRejected, attachments.TooManyAttachments) as exc:
        db.rollback()
        return _step_page(
            request,
            db,
            auth,
            application,
            Step.attachments,
            errors={"file": gettext(exc.message)},
            values={"kind": kind_value},
            status=exc.status_code,
        )
    db.commit()
    return RedirectResponse(
        _step_url(request, application, Step.attachments) + "?added=1#files", status_code=303
    )


@router.get("/applications/{application_id}/attachments/{attachment_id}", name="subsidy_attachment")
def attachment_download(
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
    attachment_id: int,
) -> Response:
    application = application_of(db, auth, application_id)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    content = attachments.read(
        db,
        application=application,
        attachment=row,
        store=request.app.state.file_store,
        actor=auth.actor,
    )
    db.commit()
    return download(content, filename=row.filename, content_type=row.content_type)


@router.get("/applications/{application_id}/decision-letter", name="subsidy_decision_letter")
def decision_letter(auth: ApplicantAuth, db: SessionDep, application_id: int) -> Response:
    """The decision letter in force as a PDF (404 before the final decision)."""
    application = application_of(db, auth, application_id)
    content, filename = decision_document.read_pdf(db, application=application, actor=auth.actor)
    db.commit()  # the audit row of the download
    return download(content, filename=filename, content_type="application/pdf")


@router.post(
    "/applications/{application_id}/attachments/{attachment_id}/delete",
    name="subsidy_attachment_delete",
)
def attachment_delete(
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
    attachment_id: int,
) -> Response:
    application = application_of(db, auth, application_id)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    attachments.delete(db, application=application, attachment=row, actor=auth.actor)
    db.commit()
    return RedirectResponse(
        _step_url(request, application, Step.attachments) + "#files", status_code=303
    )


# --- Check your answers, consents, sending ----------------------------------------------------------


def _problem_links(
    request: Request, application: Application, problems: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """What is missing, step by step, each with a link to its field."""
    names = step_names()
    found = []
    for step in service.EDIT_STEPS:
        items = problems.get(step, [])
        if not items:
            continue
        keyed = errors_by_key(items, drop_step=True)
        found.append(
            {
                "step": step,
                "name": names[step],
                "url": _step_url(request, application, step),
                "items": list(keyed.items()),
            }
        )
    return found


def _summary(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    application: Application,
    *,
    status: int = 200,
) -> Response:
    if application.status not in (S.draft, S.additional_information_needed):
        return RedirectResponse(_app_url(request, application), status_code=303)
    problems = service.submit_problems(db, application=application, actor=auth.actor)
    service.record_read(db, application=application, actor=auth.actor)
    db.commit()
    rows = service.de_minimis_rows(db, application)
    return render(
        request,
        "subsidies/summary.html",
        {
            **_common(db, application),
            "problems": _problem_links(request, application, problems),
            "labels": labels(len(rows)),
            "de_minimis": rows,
            "attachments": service.attachments_of(db, application),
            "editable_steps": service.editable_steps(application, auth.actor),
            "errors": {},
            "show_hetu": True,
        },
        status_code=status,
    )


def _consents(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    application: Application,
    *,
    errors: dict[str, str] | None = None,
    problems: dict[str, list[dict[str, Any]]] | None = None,
    ticked: list[int] | None = None,
    status: int = 200,
) -> Response:
    if application.status not in (S.draft, S.additional_information_needed):
        return RedirectResponse(_app_url(request, application), status_code=303)
    found = problems or service.submit_problems(db, application=application, actor=auth.actor)
    needed = service.consents_needed(db, application=application, actor=auth.actor)
    current = terms.in_force(db, kind=TermsKind.applicant_terms) if needed else None
    lang = current_language()
    consents = terms.consents_of(db, terms=current) if current else []
    return render(
        request,
        "subsidies/consents.html",
        {
            **_common(db, application),
            "problems": _problem_links(request, application, found),
            "terms": current,
            "body": terms.text_in(current, lang) if current else "",
            "consents": [(c.id, terms.text_in(c, lang)) for c in consents],
            "ticked": ticked or [],
            "errors": errors or {},
            "labels": {f"consent_ids-{c.id}": gettext("Terms") for c in consents}
            | {"consent_ids": gettext("Terms")},
            "resubmission": application.status == S.additional_information_needed,
        },
        status_code=status,
    )


@router.post("/applications/{application_id}/submit", name="subsidy_submit")
async def submit(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    """H19–H20, H26. A second send (another tab, a double click) lands on the confirmation of
    the one that went through."""
    application = application_of(db, auth, application_id)
    result = parse_form(SubmitIn, await request.form())
    data = result.data or SubmitIn()
    try:
        service.submit(db, application=application, data=data, actor=auth.actor)
    except service.AlreadySubmitted:
        db.rollback()
        db.refresh(application)
        if application.status == S.draft:  # not sent after all: someone else's change won
            raise
        return RedirectResponse(
            _app_url(request, application, "subsidy_sent") + "?already=1", status_code=303
        )
    except ValidationFailed as exc:
        db.rollback()
        problems = service.submit_problems(db, application=application, actor=auth.actor)
        consent_errors = [e for e in exc.errors if e["loc"] and e["loc"][0] == "consent_ids"]
        return _consents(
            request,
            db,
            auth,
            application,
            errors=errors_by_key(consent_errors),
            problems=problems,
            ticked=data.consent_ids,
            status=422,
        )
    db.commit()
    return RedirectResponse(_app_url(request, application, "subsidy_sent"), status_code=303)


@router.get("/applications/{application_id}/sent", name="subsidy_sent")
def sent_page(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    """The confirmation: the application number, what happens next and when."""
    application = application_of(db, auth, application_id)
    if application.status == S.draft:
        return RedirectResponse(_app_url(request, application), status_code=303)
    return render(
        request,
        "subsidies/sent.html",
        {
            **_common(db, application),
            "already": request.query_params.get("already") == "1",
            "resent": application.status != S.received
            and application.last_submitted_at != application.submitted_at,
        },
    )


# --- Copy, delete --------------------------------------------------------------------------------


@router.post("/applications/{application_id}/copy", name="subsidy_copy")
def copy(request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int) -> Response:
    """H23: a new draft with the employer's details of this application."""
    application = application_of(db, auth, application_id)
    new = service.copy_application(
        db, source=application, actor=auth.actor, language=current_language()
    )
    db.commit()
    return RedirectResponse(_app_url(request, new) + "?copied=1", status_code=303)


@router.get("/applications/{application_id}/delete", name="subsidy_delete_confirm")
def delete_confirm(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    application = application_of(db, auth, application_id)
    if application.status != S.draft:
        raise service.NotADraft()
    if service.employee_name(application):
        service.record_read(
            db,
            application=application,
            actor=auth.actor,
            fields=["employee_first_name", "employee_last_name"],
        )
        db.commit()
    return render(request, "subsidies/delete.html", _common(db, application))


@router.post("/applications/{application_id}/delete", name="subsidy_delete")
def delete(request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int) -> Response:
    application = application_of(db, auth, application_id)
    service.delete_draft(db, application=application, actor=auth.actor)
    db.commit()
    return RedirectResponse(request.url_for("subsidy_list").path + "?deleted=1", status_code=303)


# --- Messages (H24) -----------------------------------------------------------------------------------


def _messages_page(
    request: Request,
    db: SessionDep,
    auth: EmployerAuth,
    application: Application,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = messages.for_applicant(db, application=application, actor=auth.actor)
    db.commit()  # the audit row of the read, and the handlers' messages marked seen
    return render(
        request,
        "subsidies/messages.html",
        {
            **_common(db, application),
            "messages": found,
            "can_write": application.status in messages.APPLICANT_WRITABLE,
            "values": values or {},
            "errors": errors or {},
            "labels": {"content": gettext("Message")},
            "sent": request.query_params.get("sent") == "1",
        },
        status_code=status,
    )


@router.get("/applications/{application_id}/messages", name="subsidy_messages")
def messages_page(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    """The conversation with the handlers; internal notes are never shown. Drafts have none."""
    application = application_of(db, auth, application_id)
    if application.status == S.draft:
        return RedirectResponse(_app_url(request, application), status_code=303)
    return _messages_page(request, db, auth, application)


@router.post("/applications/{application_id}/messages", name="subsidy_message_send")
async def message_send(
    request: Request, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    application = application_of(db, auth, application_id)
    result = parse_form(MessageIn, await request.form())
    if result.data is None:
        return _messages_page(
            request,
            db,
            auth,
            application,
            values=result.values,
            errors=result.errors,
            status=422,
        )
    messages.post(
        db,
        application=application,
        actor=auth.actor,
        kind=MessageKind.applicant_message,
        content=result.data.content,
    )
    db.commit()
    return RedirectResponse(
        _app_url(request, application, "subsidy_messages") + "?sent=1#new-message",
        status_code=303,
    )
