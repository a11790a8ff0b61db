"""Helsinki-lisä JSON API for staff (issue #5 §4–§6, §8): the queue and search, the application,
taking it and taking it over, asking for more information, locking, cancelling, the decision and
returning it, messages and notes, "checked" marks, the calculation and earlier benefits. The same
services as the back-office pages (handling.py, calculation.py, messages.py).

The decision and returning it are for deciders (and admins) only: their own router.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from app.auth.dependencies import Auth, require_staff
from app.deps import SessionDep
from app.subsidies import calculation as calculations
from app.subsidies import handling, messages
from app.subsidies.handling import Action, Sort, Tab
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Message,
    PreviousBenefit,
)
from app.subsidies.schemas import (
    DeMinimisStepIn,
    EmployeeStepIn,
    EmployerStepIn,
    PeriodStepIn,
    Step,
    StepIn,
)
from app.subsidies.staff_schemas import (
    CalculationIn,
    CancelIn,
    DecisionIn,
    InformationRequestIn,
    MessageIn,
    PreviousBenefitIn,
    ReturnIn,
    ReviewMarkIn,
)

PREFIX = "/api/v1/subsidies/staff/applications"
require_handling = require_staff("handler", "decider", "admin")
require_deciding = require_staff("decider", "admin")
HandlingAuth = Annotated[Auth, Depends(require_handling)]
DecidingAuth = Annotated[Auth, Depends(require_deciding)]

router = APIRouter(
    prefix=PREFIX, dependencies=[Depends(require_handling)], tags=["helsinki benefit handling"]
)
decision_router = APIRouter(
    prefix=PREFIX, dependencies=[Depends(require_deciding)], tags=["helsinki benefit handling"]
)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QueueRowOut(_Out):
    id: int
    application_number: int | None
    status: ApplicationStatus
    origin: str
    company_name: str | None
    business_id: str
    submitted_at: datetime | None
    information_deadline: date | None
    handler_id: int | None
    handler_name: str | None
    employee_name: str | None
    hetu_masked: str
    unread: int  # the applicant's messages no handler has opened


class TabCountOut(BaseModel):
    value: int
    capped: bool  # more than `value`: counting stops there


class QueueOut(BaseModel):
    rows: list[QueueRowOut]
    counts: dict[str, TabCountOut]
    next_after: str | None  # the cursor of the next page; None on the last page
    search: str | None  # what the search text was taken as: number, business_id, hetu, text


class ApplicationOut(_Out):
    """Every field of the application as staff see it; the employee's identity code in full
    (this answer is audited as a read of the employee's data)."""

    id: int
    application_number: int | None
    status: ApplicationStatus
    origin: str
    language: str
    archived: bool
    company_id: int
    company_name: str | None
    company_form: str | None
    official_street_address: str | None
    official_postcode: str | None
    official_city: str | None
    is_association: bool
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
    association_has_business_activities: bool | None
    association_immediate_manager_check: bool | None
    de_minimis_aid: bool | None
    co_operation_negotiations: bool | None
    co_operation_negotiations_description: str | None
    other_subsidised_employed: bool | None
    other_subsidised_number: int | None
    employee_first_name: str | None
    employee_last_name: str | None
    employee_hetu: str | None
    is_living_in_helsinki: bool
    job_title: str | None
    working_hours: Decimal | None
    collective_bargaining_agreement: str | None
    monthly_pay: Decimal | None
    vacation_money: Decimal | None
    other_expenses: Decimal | None
    pay_subsidy_granted: bool | None
    pay_subsidy_percent: int | None
    apprenticeship_program: bool | None
    benefit_type: str
    start_date: date | None
    end_date: date | None
    submitted_at: datetime | None
    last_submitted_at: datetime | None
    paper_application_date: date | None
    handler_id: int | None
    handling_started_at: datetime | None
    information_requested_at: datetime | None
    information_deadline: date | None
    reopened_steps: list[str] | None
    decision: str | None
    decided_at: datetime | None
    decider_id: int | None
    decision_reason: str | None
    granted_as_de_minimis_aid: bool | None
    granted_amount: Decimal | None
    decided_calculation: dict[str, Any] | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class DeMinimisAidOut(_Out):
    granter: str
    amount: Decimal
    granted_at: date


class AttachmentOut(_Out):
    id: int
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by_staff: bool
    created_at: datetime


class MessageOut(_Out):
    id: int
    kind: str
    sender_name: str
    content: str
    created_at: datetime
    seen_by_applicant_at: datetime | None
    seen_by_handler_at: datetime | None


class StatusEventOut(_Out):
    from_status: str | None
    to_status: str
    actor_name: str
    actor_is_staff: bool
    comment: str | None
    created_at: datetime


class FieldChangeOut(_Out):
    field_name: str
    old_value: str | None
    new_value: str | None
    actor_name: str
    actor_is_staff: bool
    reason: str | None
    created_at: datetime


class ReviewMarkOut(BaseModel):
    section: str
    checked_by_id: int | None
    checked_by_name: str | None
    checked_at: datetime


class PreviousBenefitOut(_Out):
    id: int
    start_date: date
    end_date: date
    monthly_amount: Decimal | None
    total_amount: Decimal | None
    apprenticeship: bool
    created_at: datetime


class EarlierBenefitOut(BaseModel):
    start_date: date
    end_date: date
    source: str  # application | previous
    apprenticeship: bool
    application_number: int | None
    total_amount: Decimal | None


class LimitsOut(BaseModel):
    """H45: the 12-month limit over the employee's earlier benefits at the same company."""

    months_used: Decimal
    months_remaining: Decimal | None  # None: no limit (an apprenticeship)
    last_possible_end_date: date | None
    warnings: list[str]  # in the request's language


class CalculationOut(BaseModel):
    inputs: dict[str, Any]  # the stored inputs, or the application's prefill
    calculated: bool
    current: bool  # calculated after the application last changed
    total: Decimal | None
    result: dict[str, Any] | None  # rows, trace, instalments, rules used
    calculated_at: datetime | None
    earlier: list[EarlierBenefitOut]
    limits: LimitsOut | None


class DetailOut(BaseModel):
    application: ApplicationOut
    business_id: str | None
    de_minimis: list[DeMinimisAidOut]
    attachments: list[AttachmentOut]
    messages: list[MessageOut]
    status_history: list[StatusEventOut]
    changes: list[FieldChangeOut]
    review_marks: list[ReviewMarkOut]
    handler_name: str | None
    actions: list[Action]  # what the caller may do now
    calculation: CalculationOut


def _application_out(application: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(application)


def _calculation_out(view: calculations.CalculationView) -> CalculationOut:
    row = view.calculation
    limits = view.limits
    return CalculationOut(
        inputs={
            key: (value.isoformat() if isinstance(value, date) else value)
            for key, value in view.inputs.items()
        },
        calculated=row is not None and row.result is not None,
        current=view.current,
        total=row.total if row else None,
        result=row.result if row else None,
        calculated_at=row.calculated_at if row else None,
        earlier=[
            EarlierBenefitOut(
                start_date=b.start_date,
                end_date=b.end_date,
                source=b.source,
                apprenticeship=b.apprenticeship,
                application_number=b.application_number,
                total_amount=b.total_amount,
            )
            for b in view.earlier
        ],
        limits=LimitsOut(
            months_used=limits.months_used,
            months_remaining=limits.months_remaining,
            last_possible_end_date=limits.last_possible_end_date,
            warnings=[w.text() for w in limits.warnings],
        )
        if limits
        else None,
    )


def _load(db: SessionDep, application_id: int) -> Application:
    return handling.get(db, application_id=application_id)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("", response_model=QueueOut)
def list_applications(
    auth: HandlingAuth,
    db: SessionDep,
    tab: Tab | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Sort | None = None,
    descending: bool | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=handling.MAX_PAGE)] = 50,
) -> QueueOut:
    """A tab of the queue (received, handling, information, decided, cancelled, all), or a
    search: `q` is an application number, a business id, a personal identity code (exact), a
    company name (or a part of it), or an employee's full or last name. `after` is the previous
    page's `next_after`. Counts are exact up to 1000."""
    page = handling.queue(
        db,
        actor=auth.actor,
        tab=tab,
        q=q,
        sort=sort,
        descending=descending,
        after=after,
        limit=limit,
    )
    db.commit()  # the audit row of the read
    return QueueOut(
        rows=[QueueRowOut.model_validate(row) for row in page.rows],
        counts={
            name: TabCountOut(value=count.value, capped=count.capped)
            for name, count in page.counts.items()
        },
        next_after=page.next_after,
        search=page.search.kind.value if page.search else None,
    )


@router.get("/{application_id}", response_model=DetailOut)
def get_application(application_id: int, auth: HandlingAuth, db: SessionDep) -> DetailOut:
    """The application with everything a handler checks (the read is audited; the applicant's
    messages count as read by the handlers from now on)."""
    found = handling.detail(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return DetailOut(
        application=_application_out(found.application),
        business_id=found.company.business_id if found.company else None,
        de_minimis=[DeMinimisAidOut.model_validate(r) for r in found.de_minimis],
        attachments=[AttachmentOut.model_validate(a) for a in found.attachments],
        messages=[MessageOut.model_validate(m) for m in found.messages],
        status_history=[StatusEventOut.model_validate(e) for e in found.events],
        changes=[FieldChangeOut.model_validate(c) for c in found.changes],
        review_marks=[_mark_out(m, found.names) for m in found.marks.values()],
        handler_name=found.names.get(found.application.handler_id or 0),
        actions=found.actions,
        calculation=_calculation_out(found.calculation),
    )


def _mark_out(mark: Any, names: dict[int, str]) -> ReviewMarkOut:
    return ReviewMarkOut(
        section=mark.section,
        checked_by_id=mark.checked_by_id,
        checked_by_name=names.get(mark.checked_by_id or 0),
        checked_at=mark.checked_at,
    )


@router.post("/{application_id}/take", response_model=ApplicationOut)
def take(application_id: int, auth: HandlingAuth, db: SessionDep) -> ApplicationOut:
    """Take a received application into handling: the caller becomes its handler (409 if it
    is not waiting for that)."""
    application = handling.take(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _application_out(application)


@router.post("/{application_id}/take-over", response_model=ApplicationOut)
def take_over(application_id: int, auth: HandlingAuth, db: SessionDep) -> ApplicationOut:
    """Take over another handler's application (H29): only the handler acts on it."""
    application = handling.take_over(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _application_out(application)


@router.post("/{application_id}/request-information", response_model=MessageOut)
def request_information(
    application_id: int,
    data: InformationRequestIn,
    request: Request,
    auth: HandlingAuth,
    db: SessionDep,
) -> MessageOut:
    """Open the chosen steps to the applicant for 7 days; the message goes to the conversation
    and the contact person gets an e-mail with the deadline (H26)."""
    message = handling.request_information(
        db,
        application=_load(db, application_id),
        data=data,
        actor=auth.actor,
        base_url=_base_url(request),
    )
    db.commit()
    return MessageOut.model_validate(message)


# --- Section edits by the handler: PATCH changes the fields given; each changed field lands in
# the change history with the reason (H27). Only the application's handler may edit (H29).

ReasonQuery = Annotated[
    str | None,
    Query(max_length=1024, description="Why the field was changed (shown in the change history)"),
]


def _edit(
    db: SessionDep, auth: Auth, application_id: int, step: Step, data: StepIn, reason: str | None
) -> ApplicationOut:
    application = handling.edit_step(
        db,
        application=_load(db, application_id),
        step=step,
        data=data,
        actor=auth.actor,
        reason=reason,
        partial=True,
    )
    out = _application_out(application)
    db.commit()
    return out


@router.patch("/{application_id}/steps/employer", response_model=ApplicationOut)
def edit_employer(
    application_id: int,
    data: EmployerStepIn,
    auth: HandlingAuth,
    db: SessionDep,
    reason: ReasonQuery = None,
) -> ApplicationOut:
    """Change the employer section's answers (address, bank account, contact person, …)."""
    return _edit(db, auth, application_id, Step.employer, data, reason)


@router.patch("/{application_id}/steps/de_minimis", response_model=ApplicationOut)
def edit_de_minimis(
    application_id: int,
    data: DeMinimisStepIn,
    auth: HandlingAuth,
    db: SessionDep,
    reason: ReasonQuery = None,
) -> ApplicationOut:
    """Change the de minimis answer and rows (the rows given replace the stored ones)."""
    return _edit(db, auth, application_id, Step.de_minimis, data, reason)


@router.patch("/{application_id}/steps/employee", response_model=ApplicationOut)
def edit_employee(
    application_id: int,
    data: EmployeeStepIn,
    auth: HandlingAuth,
    db: SessionDep,
    reason: ReasonQuery = None,
) -> ApplicationOut:
    """Change the employee, employment, pay and pay-subsidy answers."""
    return _edit(db, auth, application_id, Step.employee, data, reason)


@router.patch("/{application_id}/steps/period", response_model=ApplicationOut)
def edit_period(
    application_id: int,
    data: PeriodStepIn,
    auth: HandlingAuth,
    db: SessionDep,
    reason: ReasonQuery = None,
) -> ApplicationOut:
    """Change the benefit period (staff are not bound by the 4-months-in-the-past rule)."""
    return _edit(db, auth, application_id, Step.period, data, reason)


@router.post("/{application_id}/lock", response_model=ApplicationOut)
def lock(application_id: int, auth: HandlingAuth, db: SessionDep) -> ApplicationOut:
    """Back to handling without waiting for the applicant."""
    application = handling.lock(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return _application_out(application)


@router.post("/{application_id}/cancel", response_model=ApplicationOut)
def cancel(
    application_id: int, data: CancelIn, auth: HandlingAuth, db: SessionDep
) -> ApplicationOut:
    """Cancel with a reason (H48); final."""
    application = handling.cancel(
        db, application=_load(db, application_id), data=data, actor=auth.actor
    )
    db.commit()
    return _application_out(application)


@decision_router.post("/{application_id}/decision", response_model=ApplicationOut)
def decide(
    application_id: int, data: DecisionIn, request: Request, auth: DecidingAuth, db: SessionDep
) -> ApplicationOut:
    """Accept (with the de minimis answer; the current calculation is frozen) or reject with
    the reason. Deciders only. A decision made at the same moment by someone else: 409
    `subsidy_decision_conflict`."""
    application = handling.decide(
        db,
        application=_load(db, application_id),
        data=data,
        actor=auth.actor,
        base_url=_base_url(request),
    )
    db.commit()
    return _application_out(application)


@decision_router.post("/{application_id}/return", response_model=ApplicationOut)
def return_to_handling(
    application_id: int, data: ReturnIn, auth: DecidingAuth, db: SessionDep
) -> ApplicationOut:
    """A decision back to handling (H49); the decision and the frozen amount are cleared."""
    application = handling.return_to_handling(
        db, application=_load(db, application_id), data=data, actor=auth.actor
    )
    db.commit()
    return _application_out(application)


@router.get("/{application_id}/messages", response_model=list[MessageOut])
def list_messages(application_id: int, auth: HandlingAuth, db: SessionDep) -> list[MessageOut]:
    """Messages and notes, oldest first; the applicant's count as read from now on."""
    found = messages.for_staff(db, application=_load(db, application_id), actor=auth.actor)
    db.commit()
    return [MessageOut.model_validate(m) for m in found]


@router.post("/{application_id}/messages", response_model=MessageOut, status_code=201)
def post_message(
    application_id: int, data: MessageIn, request: Request, auth: HandlingAuth, db: SessionDep
) -> Message:
    """A message to the applicant (the contact person is e-mailed that a new message waits, in
    the application's language) or an internal note (never shown to the applicant)."""
    message = handling.post_message(
        db,
        application=_load(db, application_id),
        data=data,
        actor=auth.actor,
        base_url=_base_url(request),
    )
    db.commit()
    return message


@router.put("/{application_id}/review-marks", response_model=list[ReviewMarkOut])
def set_review_mark(
    application_id: int, data: ReviewMarkIn, auth: HandlingAuth, db: SessionDep
) -> list[ReviewMarkOut]:
    """A section checked or unchecked (H30); answers every mark of the application."""
    application = _load(db, application_id)
    handling.set_review_mark(db, application=application, data=data, actor=auth.actor)
    db.commit()
    marks = handling.review_marks(db, application=application)
    names = handling.user_names(db, (m.checked_by_id for m in marks.values()))
    return [_mark_out(m, names) for m in marks.values()]


@router.get("/{application_id}/calculation", response_model=CalculationOut)
def get_calculation(application_id: int, db: SessionDep) -> CalculationOut:
    """The inputs (the application's prefill until calculated), the result and the limits."""
    return _calculation_out(calculations.view(db, application=_load(db, application_id)))


@router.put("/{application_id}/calculation", response_model=CalculationOut)
def put_calculation(
    application_id: int, data: CalculationIn, auth: HandlingAuth, db: SessionDep
) -> CalculationOut:
    """Store the inputs and calculate (H32–H44); 422 with a field per problem."""
    application = _load(db, application_id)
    handling.calculate(db, application=application, data=data, actor=auth.actor)
    db.commit()
    return _calculation_out(calculations.view(db, application=application))


@router.get("/{application_id}/previous-benefits", response_model=list[PreviousBenefitOut])
def list_previous_benefits(application_id: int, db: SessionDep) -> list[PreviousBenefit]:
    """H46: the benefits from before this service for the company and the employee."""
    return calculations.previous_benefits(db, application=_load(db, application_id))


@router.post(
    "/{application_id}/previous-benefits", response_model=PreviousBenefitOut, status_code=201
)
def add_previous_benefit(
    application_id: int, data: PreviousBenefitIn, auth: HandlingAuth, db: SessionDep
) -> PreviousBenefit:
    row = handling.add_previous_benefit(
        db, application=_load(db, application_id), data=data, actor=auth.actor
    )
    db.commit()
    return row


@router.delete("/{application_id}/previous-benefits/{benefit_id}", status_code=204)
def delete_previous_benefit(
    application_id: int, benefit_id: int, auth: HandlingAuth, db: SessionDep
) -> Response:
    handling.delete_previous_benefit(
        db, application=_load(db, application_id), benefit_id=benefit_id, actor=auth.actor
    )
    db.commit()
    return Response(status_code=204)
