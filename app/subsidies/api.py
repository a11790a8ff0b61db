"""Helsinki-lisä JSON API for employers: the same use cases as the pages (service.py).

Unsafe calls carry the X-CSRF-Token header (GET /api/v1/csrf). Before anything else the user
accepts the terms of service for the organisation (GET, then POST /api/v1/subsidies/
terms-of-service); until then every other call answers 403 `terms_not_accepted`. Another
organisation's application answers 404, like one that does not exist. Invalid input answers
422 with field paths (`loc`), e.g. ["aids", 0, "amount"] for a step, or [step, field] for what
stops a submit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from app.auth.dependencies import EmployerAuth, require_employer
from app.deps import SessionDep
from app.documents.downloads import download
from app.documents.uploads import MAX_BYTES, check_upload
from app.errors import NotFound
from app.forms import localized_errors
from app.i18n import current_language, gettext
from app.subsidies import attachments, messages, service, terms, timeline
from app.subsidies.dependencies import ApplicantAuth, application_of, require_terms_of_service
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentType,
    Message,
    MessageKind,
    Terms,
    TermsKind,
)
from app.subsidies.schemas import (
    DeMinimisStepIn,
    EmployeeStepIn,
    EmployerStepIn,
    MessageIn,
    PeriodStepIn,
    Step,
    StepIn,
    SubmitIn,
    TermsAcceptIn,
)
from app.types import format_iban

S = ApplicationStatus
TAG = "Helsinki benefit: employer applications"

terms_router = APIRouter(
    prefix="/api/v1/subsidies/terms-of-service",
    dependencies=[Depends(require_employer)],
    tags=[TAG],
)
router = APIRouter(
    prefix="/api/v1/subsidies/applications",
    dependencies=[Depends(require_employer), Depends(require_terms_of_service)],
    tags=[TAG],
)


# --- Answers ----------------------------------------------------------------------------------------


class ConsentOut(BaseModel):
    id: int
    text: str


class TermsOut(BaseModel):
    id: int
    kind: str
    version: str
    effective_from: date
    body: str
    consents: list[ConsentOut]
    accepted: bool


class ProblemOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class CompanyOut(BaseModel):
    name: str
    business_id: str
    company_form: str | None
    street_address: str | None
    postcode: str | None
    city: str | None
    is_association: bool


class EmployerOut(BaseModel):
    use_alternative_address: bool
    company_department: str | None
    alternative_street_address: str | None
    alternative_postcode: str | None
    alternative_city: str | None
    iban: str | None
    contact_first_name: str | None
    contact_last_name: str | None
    contact_phone: str | None
    contact_email: str | None
    language: str
    association_has_business_activities: bool | None
    co_operation_negotiations: bool | None
    co_operation_negotiations_description: str | None
    other_subsidised_employed: bool | None
    other_subsidised_number: int | None


class DeMinimisAidOut(BaseModel):
    granter: str
    amount: Decimal
    granted_at: date


class DeMinimisOut(BaseModel):
    de_minimis_aid: bool | None
    aids: list[DeMinimisAidOut]


class EmployeeOut(BaseModel):
    employee_first_name: str | None
    employee_last_name: str | None
    employee_hetu: str | None
    is_living_in_helsinki: bool
    association_immediate_manager_check: bool | None
    job_title: str | None
    working_hours: Decimal | None
    collective_bargaining_agreement: str | None
    monthly_pay: Decimal | None
    vacation_money: Decimal | None
    other_expenses: Decimal | None
    pay_subsidy_granted: bool | None
    pay_subsidy_percent: int | None
    apprenticeship_program: bool | None


class PeriodOut(BaseModel):
    start_date: date | None
    end_date: date | None


class AttachmentOut(BaseModel):
    id: int
    kind: AttachmentType
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime


class StepStateOut(BaseModel):
    step: str
    state: str  # not_started | in_progress | done | has_problems
    editable: bool
    problems: list[ProblemOut]


class DecisionOut(BaseModel):
    decision: str
    decided_at: datetime | None
    granted_amount: Decimal | None
    granted_as_de_minimis_aid: bool | None
    reason: str | None


class ApplicationOut(BaseModel):
    id: int
    application_number: int | None
    status: str
    status_name: str
    origin: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    last_submitted_at: datetime | None
    step: str | None
    information_deadline: date | None
    reopened_steps: list[str] | None
    company: CompanyOut
    employer: EmployerOut
    de_minimis: DeMinimisOut
    employee: EmployeeOut
    period: PeriodOut
    attachments: list[AttachmentOut]
    steps: list[StepStateOut]
    # Only once decided (accepted or rejected): the applicant sees no decision before that.
    decision: DecisionOut | None


class ApplicationSummaryOut(BaseModel):
    id: int
    application_number: int | None
    status: str
    status_name: str
    employee_name: str | None
    updated_at: datetime
    submitted_at: datetime | None
    information_deadline: date | None


class ApplicationListOut(BaseModel):
    items: list[ApplicationSummaryOut]


class SubmitProblemsOut(BaseModel):
    ready: bool
    steps: dict[str, list[ProblemOut]]


class TimelineEntryOut(BaseModel):
    at: datetime
    event: str
    title: str
    status: str
    next_actor: str | None  # applicant | city | null (closed)
    what_next: str  # what the applicant must do in that status
    current: bool


class TimelineOut(BaseModel):
    status: str
    status_name: str
    next_actor: str | None
    what_next: str
    deadline: date | None
    entries: list[TimelineEntryOut]


class MessageOut(BaseModel):
    id: int
    kind: MessageKind
    sender_name: str
    content: str
    created_at: datetime


# --- Building the answers ----------------------------------------------------------------------------


def _problems(items: list[dict[str, Any]]) -> list[ProblemOut]:
    return [ProblemOut.model_validate(p) for p in localized_errors(items)]


def _terms_out(session: SessionDep, row: Terms, *, accepted: bool) -> TermsOut:
    lang = current_language()
    return TermsOut(
        id=row.id or 0,
        kind=row.kind,
        version=row.version,
        effective_from=row.effective_from,
        body=terms.text_in(row, lang),
        consents=[
            ConsentOut(id=c.id or 0, text=terms.text_in(c, lang))
            for c in terms.consents_of(session, terms=row)
        ],
        accepted=accepted,
    )


def _attachment(row: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=row.id or 0,
        kind=AttachmentType(row.kind),
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
    )


def _fields(application: Application, schema: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(application, name) for name in schema.model_fields}


def _out(db: SessionDep, auth: EmployerAuth, application: Application) -> ApplicationOut:
    """The application as the employer sees it; showing the employee's data is audited (the
    caller commits)."""
    a = application
    if service.employee_name(a) or a.employee_hetu or a.iban:
        service.record_read(db, application=a, actor=auth.actor)
    company = service.company_row(db, a)
    sent = a.status != S.draft
    employer = _fields(a, EmployerOut)
    if a.iban:
        employer["iban"] = format_iban(a.iban)
    decision = None
    if a.status in (S.accepted, S.rejected):
        decision = DecisionOut(
            decision=a.status,
            decided_at=a.decided_at,
            granted_amount=a.granted_amount if a.status == S.accepted else None,
            granted_as_de_minimis_aid=a.granted_as_de_minimis_aid,
            reason=a.decision_reason if a.status == S.rejected else None,
        )
    return ApplicationOut(
        id=a.id or 0,
        application_number=a.application_number,
        status=a.status,
        status_name=gettext(timeline.STATUS_NAMES[a.status]),
        origin=a.origin,
        created_at=a.created_at,
        updated_at=a.updated_at,
        submitted_at=a.submitted_at,
        last_submitted_at=a.last_submitted_at,
        step=a.step,
        information_deadline=timeline.deadline(a),
        reopened_steps=a.reopened_steps if a.status == S.additional_information_needed else None,
        company=CompanyOut(
            name=(a.company_name if sent else None) or (company.name if company else ""),
            business_id=company.business_id if company else "",
            company_form=a.company_form if sent else (company.company_form if company else None),
            street_address=a.official_street_address
            if sent
            else (company.street_address if company else None),
            postcode=a.official_postcode if sent else (company.postcode if company else None),
            city=a.official_city if sent else (company.city if company else None),
            is_association=a.is_association,
        ),
        employer=EmployerOut(**employer),
        de_minimis=DeMinimisOut(
            de_minimis_aid=a.de_minimis_aid,
            aids=[
                DeMinimisAidOut(granter=r.granter, amount=r.amount, granted_at=r.granted_at)
                for r in service.de_minimis_rows(db, a)
            ],
        ),
        employee=EmployeeOut(**_fields(a, EmployeeOut)),
        period=PeriodOut(start_date=a.start_date, end_date=a.end_date),
        attachments=[_attachment(r) for r in service.attachments_of(db, a)],
        steps=[
            StepStateOut(
                step=s.step, state=s.state, editable=s.editable, problems=_problems(s.problems)
            )
            for s in service.step_states(db, application=a, actor=auth.actor)
        ],
        decision=decision,
    )


def _summary(application: Application) -> ApplicationSummaryOut:
    return ApplicationSummaryOut(
        id=application.id or 0,
        application_number=application.application_number,
        status=application.status,
        status_name=gettext(timeline.STATUS_NAMES[application.status]),
        employee_name=service.employee_name(application),
        updated_at=application.updated_at,
        submitted_at=application.submitted_at,
        information_deadline=timeline.deadline(application),
    )


def _message(row: Message) -> MessageOut:
    return MessageOut(
        id=row.id or 0,
        kind=MessageKind(row.kind),
        sender_name=row.sender_name,
        content=row.content,
        created_at=row.created_at,
    )


# --- Terms of service (H2) -----------------------------------------------------------------------------


@terms_router.get("", response_model=TermsOut)
def terms_of_service(auth: EmployerAuth, db: SessionDep) -> TermsOut:
    """The terms of service in force, its consents, and whether this user has accepted them
    for the organisation they act for."""
    current = terms.in_force(db, kind=TermsKind.terms_of_service)
    if current is None:
        raise NotFound()
    accepted = terms.has_accepted_terms_of_service(db, actor=auth.actor)
    return _terms_out(db, current, accepted=accepted)


@terms_router.post("", response_model=TermsOut)
def accept_terms_of_service(data: TermsAcceptIn, auth: EmployerAuth, db: SessionDep) -> TermsOut:
    """Accept the version in force: `terms_id` as read and every consent id ticked."""
    current = terms.accept_terms_of_service(db, actor=auth.actor, data=data)
    db.commit()
    if current is None:
        raise NotFound()
    return _terms_out(db, current, accepted=True)


# --- Applications ----------------------------------------------------------------------------------


@router.get("", response_model=ApplicationListOut)
def list_applications(auth: ApplicantAuth, db: SessionDep) -> ApplicationListOut:
    """The organisation's applications, newest change first (drafts, sent and decided)."""
    rows = service.company_applications(db, actor=auth.actor)
    db.commit()
    return ApplicationListOut(items=[_summary(a) for a in rows])


@router.post("", response_model=ApplicationOut, status_code=201)
def create_draft(auth: ApplicantAuth, db: SessionDep) -> ApplicationOut:
    """A new draft of the organisation, in the language of the request."""
    application = service.create_draft(db, actor=auth.actor, language=current_language())
    out = _out(db, auth, application)
    db.commit()
    return out


@router.get("/{application_id}", response_model=ApplicationOut)
def get_application(auth: ApplicantAuth, db: SessionDep, application_id: int) -> ApplicationOut:
    application = application_of(db, auth, application_id)
    service.record_read(db, application=application, actor=auth.actor)
    out = _out(db, auth, application)
    db.commit()
    return out


@router.delete("/{application_id}", status_code=204)
def delete_draft(auth: ApplicantAuth, db: SessionDep, application_id: int) -> Response:
    """Only a draft; its files go with it."""
    application = application_of(db, auth, application_id)
    service.delete_draft(db, application=application, actor=auth.actor)
    db.commit()
    return Response(status_code=204)


@router.post("/{application_id}/copy", response_model=ApplicationOut, status_code=201)
def copy_application(auth: ApplicantAuth, db: SessionDep, application_id: int) -> ApplicationOut:
    """A new draft with the employer's information of this one (employee and period blank)."""
    application = application_of(db, auth, application_id)
    new = service.copy_application(
        db, source=application, actor=auth.actor, language=current_language()
    )
    out = _out(db, auth, new)
    db.commit()
    return out


# --- Steps: PUT replaces the step's answers, PATCH changes only the fields given --------------------


def _save(
    db: SessionDep,
    auth: EmployerAuth,
    application: Application,
    step: str,
    data: StepIn,
    *,
    partial: bool,
) -> ApplicationOut:
    service.save_step(
        db, application=application, step=step, data=data, actor=auth.actor, partial=partial
    )
    out = _out(db, auth, application)
    db.commit()
    return out


@router.put("/{application_id}/steps/employer", response_model=ApplicationOut)
def put_employer(
    data: EmployerStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    """Address, bank account, contact person, association and co-operation answers (H4–H11)."""
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.employer, data, partial=False)


@router.patch("/{application_id}/steps/employer", response_model=ApplicationOut)
def patch_employer(
    data: EmployerStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.employer, data, partial=True)


@router.put("/{application_id}/steps/de_minimis", response_model=ApplicationOut)
def put_de_minimis(
    data: DeMinimisStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    """De minimis aid: the answer and every row (the rows given replace the stored ones; H7)."""
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.de_minimis, data, partial=False)


@router.patch("/{application_id}/steps/de_minimis", response_model=ApplicationOut)
def patch_de_minimis(
    data: DeMinimisStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.de_minimis, data, partial=True)


@router.put("/{application_id}/steps/employee", response_model=ApplicationOut)
def put_employee(
    data: EmployeeStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    """The employee, the employment, the pay and the pay subsidy (H9, H10, H12)."""
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.employee, data, partial=False)


@router.patch("/{application_id}/steps/employee", response_model=ApplicationOut)
def patch_employee(
    data: EmployeeStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.employee, data, partial=True)


@router.put("/{application_id}/steps/period", response_model=ApplicationOut)
def put_period(
    data: PeriodStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    """The benefit period: at least one month, less than 12 months (H13–H14)."""
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.period, data, partial=False)


@router.patch("/{application_id}/steps/period", response_model=ApplicationOut)
def patch_period(
    data: PeriodStepIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    application = application_of(db, auth, application_id)
    return _save(db, auth, application, Step.period, data, partial=True)


# --- Attachments -------------------------------------------------------------------------------------


@router.get("/{application_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(
    auth: ApplicantAuth, db: SessionDep, application_id: int
) -> list[AttachmentOut]:
    application = application_of(db, auth, application_id)
    return [_attachment(r) for r in attachments.list_for(db, application=application)]


@router.post("/{application_id}/attachments", response_model=AttachmentOut, status_code=201)
async def add_attachment(
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
    kind: Annotated[AttachmentType, Form()],
    file: Annotated[UploadFile, File()],
) -> AttachmentOut:
    """PDF, PNG or JPEG (judged by content), at most 10 MB, at most 20 per application."""
    application = application_of(db, auth, application_id)
    checked = check_upload(await file.read(MAX_BYTES + 1), file.filename)
    row = attachments.add(
        db,
        application=application,
        kind=kind,
        upload=checked,
        store=request.app.state.file_store,
        actor=auth.actor,
    )
    db.commit()
    return _attachment(row)


@router.get("/{application_id}/attachments/{attachment_id}", response_class=Response)
def get_attachment(
    attachment_id: int,
    request: Request,
    auth: ApplicantAuth,
    db: SessionDep,
    application_id: int,
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


@router.delete("/{application_id}/attachments/{attachment_id}", status_code=204)
def delete_attachment(
    attachment_id: int, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> Response:
    application = application_of(db, auth, application_id)
    row = attachments.get(db, application=application, attachment_id=attachment_id)
    attachments.delete(db, application=application, attachment=row, actor=auth.actor)
    db.commit()
    return Response(status_code=204)


# --- Sending ---------------------------------------------------------------------------------------------


@router.get("/{application_id}/submit-problems", response_model=SubmitProblemsOut)
def submit_problems(auth: ApplicantAuth, db: SessionDep, application_id: int) -> SubmitProblemsOut:
    """What still stops sending, step by step (loc: step, field)."""
    application = application_of(db, auth, application_id)
    found = service.submit_problems(db, application=application, actor=auth.actor)
    return SubmitProblemsOut(
        ready=not service.all_problems(found),
        steps={step: _problems(items) for step, items in found.items()},
    )


@router.get("/{application_id}/applicant-terms", response_model=TermsOut | None)
def applicant_terms(auth: ApplicantAuth, db: SessionDep, application_id: int) -> TermsOut | None:
    """The terms whose consents a submit needs, or null when none are needed (a resubmission
    under the terms already accepted)."""
    application = application_of(db, auth, application_id)
    if not service.consents_needed(db, application=application, actor=auth.actor):
        return None
    current = terms.in_force(db, kind=TermsKind.applicant_terms)
    return _terms_out(db, current, accepted=False) if current else None


@router.post("/{application_id}/submit", response_model=ApplicationOut)
def submit(
    data: SubmitIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> ApplicationOut:
    """Send the application (or send it again when more information was asked for). 422 lists
    everything missing (loc: step, field; consents: consent_ids, id); 409 `already_submitted`
    when it was sent meanwhile (another tab): it has exactly one number."""
    application = application_of(db, auth, application_id)
    service.submit(db, application=application, data=data, actor=auth.actor)
    out = _out(db, auth, application)
    db.commit()
    return out


# --- Timeline and messages ------------------------------------------------------------------------


@router.get("/{application_id}/timeline", response_model=TimelineOut)
def get_timeline(auth: ApplicantAuth, db: SessionDep, application_id: int) -> TimelineOut:
    """Each status with its date and who acts next; decisions only once final."""
    application = application_of(db, auth, application_id)
    entries = timeline.applicant_timeline(db, application=application)
    actor = timeline.NEXT_ACTOR[application.status]
    return TimelineOut(
        status=application.status,
        status_name=gettext(timeline.STATUS_NAMES[application.status]),
        next_actor=actor,
        what_next=gettext(timeline.WHAT_NEXT[application.status]),
        deadline=timeline.deadline(application),
        entries=[
            TimelineEntryOut(
                at=e.at,
                event=e.event,
                title=gettext(timeline.EVENT_TITLES[e.event]),
                status=e.status,
                next_actor=e.next_actor,
                what_next=gettext(timeline.WHAT_NEXT[e.status]),
                current=e.current,
            )
            for e in entries
        ],
    )


@router.get("/{application_id}/messages", response_model=list[MessageOut])
def list_messages(auth: ApplicantAuth, db: SessionDep, application_id: int) -> list[MessageOut]:
    """The conversation with the handlers, oldest first (never their internal notes); the
    handlers' messages are marked seen."""
    application = application_of(db, auth, application_id)
    found = messages.for_applicant(db, application=application, actor=auth.actor)
    db.commit()
    return [_message(m) for m in found]


@router.post("/{application_id}/messages", response_model=MessageOut, status_code=201)
def send_message(
    data: MessageIn, auth: ApplicantAuth, db: SessionDep, application_id: int
) -> MessageOut:
    """A message to the handlers; not on a draft (409)."""
    application = application_of(db, auth, application_id)
    row = messages.post(
        db,
        application=application,
        actor=auth.actor,
        kind=MessageKind.applicant_message,
        content=data.content,
    )
    db.commit()
    return _message(row)
