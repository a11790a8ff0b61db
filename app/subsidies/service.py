"""The Helsinki-lisä application's use cases: the draft, saving a wizard step, copying, deleting,
what still stops a submit, and submitting (helsinkilisa.md §1.4–1.5, H3–H23, H26–H27).

Session first, keyword arguments; never commits. Employers reach an application only through
the repository's company scope (another company's answers 404); staff call the same functions
for their edits and for paper applications (the status rules below tell who may change what).

Employee name and HETU are encrypted by the model; the blind indexes set here let staff find an
application by the exact HETU, the full name or the last name (H66, H71).
"""

from __future__ import annotations

import dataclasses
import json
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from app import audit, rules
from app.companies.models import Company
from app.crypto import blind_index
from app.db import utcnow
from app.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.i18n import N_
from app.security import Actor
from app.subsidies import events, terms
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentType,
    DeMinimisAid,
    FieldChange,
    Origin,
    TermsApproval,
    TermsKind,
)
from app.subsidies.repository import company_of, for_company, user_id_of
from app.subsidies.schemas import (
    STEP_SCHEMAS,
    EmployeeStepIn,
    EmployerStepIn,
    PeriodStepIn,
    Step,
    StepIn,
    SubmitIn,
)
from app.subsidies.transitions import (
    ADMIN,
    APPLICANT,
    APPLICANT_EDITABLE,
    HANDLER,
    STAFF_EDITABLE,
)

S = ApplicationStatus

# Blind-index purposes (app.crypto.blind_index): the staff search computes the same ones.
HETU_INDEX = "subsidy_employee_hetu"
NAME_INDEX = "subsidy_employee_name"
LAST_NAME_INDEX = "subsidy_employee_last_name"

# The steps a person fills in, in order; summary and consents come after them.
EDIT_STEPS: tuple[Step, ...] = (
    Step.employer,
    Step.de_minimis,
    Step.employee,
    Step.period,
    Step.attachments,
)
ALL_STEPS: tuple[Step, ...] = (*EDIT_STEPS, Step.summary, Step.consents)

# The employee's personal data, named in the audit rows of reads and writes.
PERSONAL_FIELDS = ("employee_first_name", "employee_last_name", "employee_hetu", "iban")

ALTERNATIVE_ADDRESS_FIELDS = (
    "company_department",
    "alternative_street_address",
    "alternative_postcode",
    "alternative_city",
)
CONTACT_FIELDS = (
    "iban",
    "contact_first_name",
    "contact_last_name",
    "contact_phone",
    "contact_email",
)
EMPLOYEE_REQUIRED_FIELDS = (
    "employee_first_name",
    "employee_last_name",
    "employee_hetu",
    "job_title",
    "working_hours",
    "collective_bargaining_agreement",
    "monthly_pay",
    "vacation_money",
    "other_expenses",
)
# "Copy as new application" (H23): the employer's own data; the employee and period are new.
COPY_FIELDS = (
    "language",
    "use_alternative_address",
    *ALTERNATIVE_ADDRESS_FIELDS,
    *CONTACT_FIELDS,
    "association_has_business_activities",
    "de_minimis_aid",
    "co_operation_negotiations",
    "co_operation_negotiations_description",
    "other_subsidised_employed",
    "other_subsidised_number",
)
# The fields a step writes, for the change history (H27); de minimis rows as one pseudo-field.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    Step.employer: (*tuple(EmployerStepIn.model_fields), "de_minimis_aid", "de_minimis_aids"),
    Step.de_minimis: ("de_minimis_aid", "de_minimis_aids"),
    Step.employee: tuple(EmployeeStepIn.model_fields),
    Step.period: tuple(PeriodStepIn.model_fields),
}
COMPANY_SNAPSHOT = {
    "company_name": "name",
    "company_form": "company_form",
    "official_street_address": "street_address",
    "official_postcode": "postcode",
    "official_city": "city",
    "is_association": "is_association",
}
# Problems that mean "not filled in yet" rather than "filled in against a rule".
INCOMPLETE_TYPES = frozenset(
    {
        "subsidy_required",
        "subsidy_answer_required",
        "de_minimis_rows_missing",
        "attachment_required",
        "helsinki_residence_required",
        "job_supervisor_required",
    }
)

ATTACHMENT_NAMES: dict[str, str] = {
    AttachmentType.employment_contract: N_("Employment contract"),
    AttachmentType.pay_subsidy_decision: N_("Pay subsidy decision"),
    AttachmentType.education_contract: N_("Apprenticeship training agreement"),
    AttachmentType.employee_consent: N_("Employee's consent to the processing of personal data"),
    AttachmentType.helsinki_benefit_voucher: N_("Helsinki benefit card"),
    AttachmentType.other_attachment: N_("Other attachment"),
    AttachmentType.full_application: N_("Scanned paper application"),
}


class ApplicationLocked(Conflict):
    code = "application_locked"
    message = N_(
        "This part of the application cannot be changed now. Applications can be changed "
        "while they are drafts, and after sending only the parts the handler has opened."
    )


class AlreadySubmitted(Conflict):
    code = "already_submitted"
    message = N_("This application has already been sent. It was sent once, with one number.")


class NotADraft(Conflict):
    code = "not_a_draft"
    message = N_("Only a draft can be deleted. A sent application stays with the City.")


class StepNotFound(NotFound):
    code = "step_not_found"


# --- Small helpers -------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def shown_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def shown_euros(amount: Decimal) -> str:
    whole, _, cents = f"{amount:,.2f}".partition(".")
    return whole.replace(",", "\u00a0") + "," + cents + "\u00a0€"


def normalise_name(text: str) -> str:
    """Case and spacing do not matter in name searches: "  Aino   VIRTANEN" = "aino virtanen"."""
    return " ".join(text.split()).casefold()


def hetu_index(hetu: str) -> str:
    return blind_index(hetu.strip().upper(), purpose=HETU_INDEX)


def name_index(full_name: str) -> str:
    """The index of a full name as "first last" (the staff search may try both orders)."""
    return blind_index(normalise_name(full_name), purpose=NAME_INDEX)


def last_name_index(last_name: str) -> str:
    return blind_index(normalise_name(last_name), purpose=LAST_NAME_INDEX)


def employee_name(application: Application) -> str | None:
    parts = [p for p in (application.employee_first_name, application.employee_last_name) if p]
    return " ".join(parts) if parts else None


def _problem(
    loc: tuple[Any, ...], kind: str, ctx: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One problem in Pydantic's error shape (the API's 422 and the pages use the same)."""
    return {"type": kind, "loc": loc, "msg": kind, "input": None, "ctx": dict(ctx or {})}


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _role_actor(actor: Actor, role: str) -> Actor:
    return dataclasses.replace(actor, roles=actor.roles | {role})


def is_staff(actor: Actor) -> bool:
    return actor.kind == "staff"


def today() -> date:
    return terms.helsinki_today()


# --- Reading ---------------------------------------------------------------------------------------


def de_minimis_rows(session: Session, application: Application) -> list[DeMinimisAid]:
    return list(
        session.exec(
            select(DeMinimisAid)
            .where(DeMinimisAid.application_id == application.id)
            .order_by(col(DeMinimisAid.ordering))
        ).all()
    )


def attachments_of(session: Session, application: Application) -> list[Attachment]:
    return list(
        session.exec(
            select(Attachment)
            .where(Attachment.application_id == application.id)
            .order_by(col(Attachment.kind), col(Attachment.id))
        ).all()
    )


def company_row(session: Session, application: Application) -> Company | None:
    return session.get(Company, application.company_id)


def record_read(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    fields: Sequence[str] = PERSONAL_FIELDS,
) -> None:
    """A page or answer that shows the employee's data (H72): audited in the same transaction."""
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.read",
        target_type="subsidy_application",
        target_id=application.id,
        fields=fields,
    )


def visible_to_employer(application: Application) -> bool:
    """A paper application staff are still entering is not the employer's yet."""
    return not (application.status == S.draft and application.origin == Origin.handler)


def company_applications(session: Session, *, actor: Actor) -> list[Application]:
    """Every application of the company the employer acts for, newest change first (drafts by
    any representative of the company too: everyone acting for it sees the same list)."""
    company = company_of(session, actor=actor)
    rows = [
        a
        for a in session.exec(
            for_company(company.id or 0).order_by(
                col(Application.updated_at).desc(), col(Application.id).desc()
            )
        ).all()
        if visible_to_employer(a)
    ]
    if rows:
        audit.record(
            session,
            actor=actor,
            action="subsidy_application.list",
            target_type="subsidy_application",
            fields=["employee_first_name", "employee_last_name"],
            detail=f"rows={len(rows)}",
        )
    return rows


def grouped(applications: Sequence[Application]) -> dict[str, list[Application]]:
    """The employer's lists: drafts, waiting for the employer's answer, sent, decided/closed."""
    groups: dict[str, list[Application]] = {
        "drafts": [],
        "information": [],
        "sent": [],
        "decided": [],
    }
    for a in applications:
        if a.status == S.draft:
            groups["drafts"].append(a)
        elif a.status == S.additional_information_needed:
            groups["information"].append(a)
        elif a.status in (S.received, S.handling):
            groups["sent"].append(a)
        else:
            groups["decided"].append(a)
    return groups


# --- Who may change what ---------------------------------------------------------------------------


def can_edit_step(application: Application, step: str, actor: Actor) -> bool:
    """Employers (H22): a draft they made, or the steps the handler reopened while more
    information is needed (all of them when `reopened_steps` is not set). Staff: a sent
    application while it is being handled, and a paper application they are entering."""
    status = ApplicationStatus(application.status)
    if is_staff(actor):
        if status == S.draft:
            return application.origin == Origin.handler
        return status in STAFF_EDITABLE
    if status not in APPLICANT_EDITABLE:
        return False
    if status == S.draft:
        return application.origin == Origin.applicant
    return application.reopened_steps is None or step in application.reopened_steps


def editable_steps(application: Application, actor: Actor) -> list[Step]:
    return [step for step in EDIT_STEPS if can_edit_step(application, step, actor)]


def _require_editable(application: Application, step: str, actor: Actor) -> None:
    if not can_edit_step(application, step, actor):
        raise ApplicationLocked()


# --- The draft -----------------------------------------------------------------------------------


def _sync_company(application: Application, company: Company | None) -> None:
    """The register data as it is now (drafts follow the register; sending freezes a copy)."""
    if company is None:
        return
    for target, source in COMPANY_SNAPSHOT.items():
        setattr(application, target, getattr(company, source))


def create_draft(
    session: Session,
    *,
    actor: Actor,
    language: str,
    company: Company | None = None,
    origin: Origin = Origin.applicant,
) -> Application:
    """A new draft (the first save of the wizard). Employers' drafts belong to the company they
    act for; staff entering a paper application (H31) name the company and origin=handler."""
    if company is None:
        company = company_of(session, actor=actor)
    application = Application(
        company_id=company.id or 0,
        creator_id=user_id_of(actor),
        language=language if language in ("fi", "sv", "en") else "fi",
        origin=origin,
    )
    _sync_company(application, company)
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.create",
        target_type="subsidy_application",
        target_id=application.id,
        detail=f"origin={origin}",
    )
    return application


def copy_application(
    session: Session, *, source: Application, actor: Actor, language: str | None = None
) -> Application:
    """H23: a new draft with the employer's data of `source` (address, account, contact person,
    the association and co-operation answers, de minimis aid); employee and period blank.
    `source` must be loaded through the company scope (another company's answers 404)."""
    company = company_of(session, actor=actor)
    if source.company_id != company.id:
        raise NotFound()
    application = create_draft(
        session, actor=actor, language=language or source.language, company=company
    )
    for name in COPY_FIELDS:
        setattr(application, name, getattr(source, name))
    if not application.is_association:
        application.association_has_business_activities = None
    for row in de_minimis_rows(session, source):
        session.add(
            DeMinimisAid(
                application_id=application.id or 0,
                ordering=row.ordering,
                granter=row.granter,
                amount=row.amount,
                granted_at=row.granted_at,
            )
        )
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.copy",
        target_type="subsidy_application",
        target_id=application.id,
        fields=[*COPY_FIELDS, "de_minimis_aids"],
        detail=f"source={source.id}",
    )
    return application


def delete_draft(session: Session, *, application: Application, actor: Actor) -> None:
    """A draft goes with its rows and files (the file store's sweep removes the contents)."""
    if application.status != S.draft:
        raise NotADraft()
    if not is_staff(actor) and application.origin != Origin.applicant:
        raise NotFound()
    application_id = application.id
    session.execute(sa.delete(Attachment).where(col(Attachment.application_id) == application_id))
    session.execute(
        sa.delete(DeMinimisAid).where(col(DeMinimisAid.application_id) == application_id)
    )
    session.delete(application)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.delete",
        target_type="subsidy_application",
        target_id=application_id,
    )


# --- Rules that depend on the date ---------------------------------------------------------------


@dataclass(frozen=True)
class DeMinimisRules:
    cap: Decimal
    window_years: int
    earliest_grant: date  # rows before this are refused (1 January of the year − 4)
    window_start: date  # rows from this on count toward the cap
    today: date


def de_minimis_rules(on: date | None = None) -> DeMinimisRules:
    day = on or today()
    window = int(rules.value("subsidies.de_minimis_window_tax_years", day))
    return DeMinimisRules(
        cap=Decimal(rules.value("subsidies.de_minimis_cap", day)),
        window_years=window,
        earliest_grant=date(day.year - 4, 1, 1),
        window_start=date(day.year - window + 1, 1, 1),
        today=day,
    )


def de_minimis_applicable(application: Application) -> bool:
    """H6: an association declares de minimis aid only when it has business activities."""
    return not application.is_association or application.association_has_business_activities is True


def de_minimis_row_problems(
    rows: Sequence[tuple[Decimal, date]], *, on: date | None = None
) -> list[dict[str, Any]]:
    """Each row's amount and date, and the total over the window (H7), in the rules in force."""
    limits = de_minimis_rules(on)
    problems: list[dict[str, Any]] = []
    total = Decimal("0")
    for index, (amount, granted_at) in enumerate(rows):
        if amount > limits.cap:
            problems.append(
                _problem(
                    ("aids", index, "amount"),
                    "de_minimis_amount_max",
                    {"cap": shown_euros(limits.cap)},
                )
            )
        if granted_at > limits.today:
            problems.append(_problem(("aids", index, "granted_at"), "de_minimis_date_future"))
        elif granted_at < limits.earliest_grant:
            problems.append(
                _problem(
                    ("aids", index, "granted_at"),
                    "de_minimis_date_too_old",
                    {"earliest": shown_date(limits.earliest_grant)},
                )
            )
        if granted_at >= limits.window_start:
            total += amount
    if total > limits.cap:
        problems.append(
            _problem(
                ("aids",),
                "de_minimis_cap_exceeded",
                {"cap": shown_euros(limits.cap), "total": shown_euros(total)},
            )
        )
    return problems


def period_problems(start: date | None, end: date | None) -> list[dict[str, Any]]:
    """H13: at least one month (end ≥ start + 1 month − 1 day), less than 12 months."""
    if start is None or end is None:
        return []
    earliest_end = add_months(start, 1) - timedelta(days=1)
    latest_end = add_months(start, 12) - timedelta(days=1)
    if end < earliest_end:
        return [_problem(("end_date",), "period_too_short", {"earliest": shown_date(earliest_end)})]
    if end > latest_end:
        return [_problem(("end_date",), "period_too_long", {"latest": shown_date(latest_end)})]
    return []


def earliest_start(on: date | None = None) -> date:
    """H14: at the first submission the period starts at most four months back."""
    return add_months(on or today(), -4)


# --- Saving a step -------------------------------------------------------------------------------


def _changes_snapshot(
    session: Session, application: Application, fields: Sequence[str]
) -> dict[str, str | None]:
    snapshot: dict[str, str | None] = {}
    for name in fields:
        if name == "de_minimis_aids":
            rows = de_minimis_rows(session, application)
            snapshot[name] = (
                _as_text(
                    [
                        {
                            "granter": r.granter,
                            "amount": f"{r.amount:.2f}",
                            "granted_at": r.granted_at,
                        }
                        for r in rows
                    ]
                )
                if rows
                else None
            )
        else:
            snapshot[name] = _as_text(getattr(application, name))
    return snapshot


def _replace_de_minimis_rows(
    session: Session, application: Application, rows: Sequence[Mapping[str, Any]]
) -> None:
    # Delete first, as a statement: the unit of work would insert the new rows before deleting
    # the old ones, against the unique ordering per application.
    session.execute(
        sa.delete(DeMinimisAid).where(col(DeMinimisAid.application_id) == application.id)
    )
    for ordering, row in enumerate(rows, start=1):
        session.add(
            DeMinimisAid(
                application_id=application.id or 0,
                ordering=ordering,
                granter=row["granter"],
                amount=row["amount"],
                granted_at=row["granted_at"],
            )
        )


def _set_indexes(application: Application) -> None:
    hetu = application.employee_hetu
    application.employee_hetu_index = hetu_index(hetu) if hetu else None
    full = employee_name(application)
    application.employee_name_index = name_index(full) if full else None
    last = application.employee_last_name
    application.employee_last_name_index = last_name_index(last) if last else None


def _apply_employer(
    session: Session, application: Application, values: dict[str, Any]
) -> list[dict[str, Any]]:
    merged = {name: getattr(application, name) for name in EmployerStepIn.model_fields}
    merged.update(values)
    if merged.get("language") is None:
        merged["language"] = application.language
    if not merged["use_alternative_address"]:
        merged.update(dict.fromkeys(ALTERNATIVE_ADDRESS_FIELDS))
    if not application.is_association:
        merged["association_has_business_activities"] = None
    if merged["co_operation_negotiations"] is not True:
        merged["co_operation_negotiations_description"] = None
    if merged["other_subsidised_employed"] is not True:
        merged["other_subsidised_number"] = None
    for name, value in merged.items():
        setattr(application, name, value)
    if application.is_association and application.association_has_business_activities is False:
        # H6: an association without business activities has nothing to declare.
        application.de_minimis_aid = None
        _replace_de_minimis_rows(session, application, [])
    return []


def _apply_de_minimis(
    session: Session, application: Application, values: dict[str, Any], *, partial: bool
) -> list[dict[str, Any]]:
    answer = values.get("de_minimis_aid", application.de_minimis_aid)
    rows: list[dict[str, Any]] | None = values.get("aids") if "aids" in values else None
    if not partial and rows is None:
        rows = []
    problems: list[dict[str, Any]] = []
    if not de_minimis_applicable(application) and (answer is True or rows):
        return [_problem(("de_minimis_aid",), "de_minimis_not_allowed")]
    if answer is not True and rows:
        return [_problem(("aids",), "de_minimis_rows_forbidden")]
    if rows:
        problems = de_minimis_row_problems([(r["amount"], r["granted_at"]) for r in rows])
    if problems:
        return problems
    application.de_minimis_aid = answer
    if answer is not True:
        _replace_de_minimis_rows(session, application, [])
    elif rows is not None:
        _replace_de_minimis_rows(session, application, rows)
    return []


def _apply_employee(application: Application, values: dict[str, Any]) -> list[dict[str, Any]]:
    merged = {name: getattr(application, name) for name in EmployeeStepIn.model_fields}
    merged.update(values)
    if not application.is_association:
        merged["association_immediate_manager_check"] = None
    if merged["pay_subsidy_granted"] is not True:
        merged["pay_subsidy_percent"] = None
    for name, value in merged.items():
        setattr(application, name, value)
    _set_indexes(application)
    return []


def _apply_period(application: Application, values: dict[str, Any]) -> list[dict[str, Any]]:
    start = values.get("start_date", application.start_date)
    end = values.get("end_date", application.end_date)
    problems = period_problems(start, end)
    if problems:
        return problems
    application.start_date = start
    application.end_date = end
    return []


def save_step(
    session: Session,
    *,
    application: Application,
    step: str,
    data: StepIn,
    actor: Actor,
    reason: str | None = None,
    partial: bool = False,
) -> Application:
    """Store one step of the wizard; incomplete is fine, invalid is not (ValidationFailed with
    field paths). `partial` (the API's PATCH) changes only the fields given.

    Employers: a draft, or the reopened steps while more information is needed. Staff: while
    the application is received, in handling or waiting for information, and their own paper
    drafts. After the first submission every changed field is written to the change history
    with who changed it and `reason` (H27)."""
    if step not in STEP_SCHEMAS:
        raise StepNotFound()
    schema = STEP_SCHEMAS[step]
    if not isinstance(data, schema):
        raise TypeError(f"step {step} takes {schema.__name__}")
    _require_editable(application, step, actor)
    fields = STEP_FIELDS[step]
    before = _changes_snapshot(session, application, fields)
    values = data.model_dump(exclude_unset=partial)
    if step == Step.employer:
        _sync_company_if_draft(session, application)
        problems = _apply_employer(session, application, values)
    elif step == Step.de_minimis:
        if "aids" in values:
            values["aids"] = [dict(row) for row in values["aids"]]
        problems = _apply_de_minimis(session, application, values, partial=partial)
    elif step == Step.employee:
        problems = _apply_employee(application, values)
    else:
        problems = _apply_period(application, values)
    if problems:
        raise ValidationFailed(problems)
    if application.status == S.draft and not is_staff(actor):
        application.step = step
    application.updated_at = utcnow()
    session.add(application)
    session.flush()
    after = _changes_snapshot(session, application, fields)
    changed = [name for name in fields if before[name] != after[name]]
    if application.submitted_at is not None:
        _record_changes(
            session,
            application=application,
            changes=[(name, before[name], after[name]) for name in changed],
            actor=actor,
            reason=reason,
        )
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.update",
        target_type="subsidy_application",
        target_id=application.id,
        fields=changed,
        detail=f"step={step}",
    )
    return application


def _sync_company_if_draft(session: Session, application: Application) -> None:
    if application.status == S.draft:
        _sync_company(application, company_row(session, application))


def _record_changes(
    session: Session,
    *,
    application: Application,
    changes: Sequence[tuple[str, str | None, str | None]],
    actor: Actor,
    reason: str | None,
) -> None:
    if not changes:
        return
    name = events.actor_name(session, actor)
    for field_name, old, new in changes:
        session.add(
            FieldChange(
                application_id=application.id or 0,
                field_name=field_name,
                old_value=old,
                new_value=new,
                actor_id=events.actor_user_id(actor),
                actor_name=name,
                actor_is_staff=is_staff(actor),
                reason=(reason or None) and reason[:1024],
            )
        )
    session.flush()


def record_change(
    session: Session,
    *,
    application: Application,
    field_name: str,
    old: str | None,
    new: str | None,
    actor: Actor,
    reason: str | None = None,
) -> None:
    """One change of a sent application outside the steps (a file added or removed)."""
    if application.submitted_at is not None:
        _record_changes(
            session,
            application=application,
            changes=[(field_name, old, new)],
            actor=actor,
            reason=reason,
        )


# --- What stops a submit ---------------------------------------------------------------------------


def _required(application: Application, step: str, names: Sequence[str]) -> list[dict[str, Any]]:
    return [
        _problem((step, name), "subsidy_required")
        for name in names
        if getattr(application, name) in (None, "")
    ]


def _answered(application: Application, step: str, names: Sequence[str]) -> list[dict[str, Any]]:
    return [
        _problem((step, name), "subsidy_answer_required")
        for name in names
        if getattr(application, name) is None
    ]


def _prefixed(step: str, problems: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**p, "loc": (step, *p["loc"])} for p in problems]


def required_attachments(application: Application) -> list[AttachmentType]:
    """H17–H18: the files a submit needs with the answers given."""
    kinds = [AttachmentType.employment_contract]
    if application.pay_subsidy_granted:
        kinds.append(AttachmentType.pay_subsidy_decision)
    if application.apprenticeship_program:
        kinds.append(AttachmentType.education_contract)
    if application.origin == Origin.applicant:
        kinds.append(AttachmentType.employee_consent)
    else:
        kinds.append(AttachmentType.full_application)
    return kinds


def submit_problems(
    session: Session, *, application: Application, actor: Actor
) -> dict[str, list[dict[str, Any]]]:
    """Everything that stops the application from being sent, step by step, each problem in
    Pydantic's error shape with loc (step, field, ...). Every edit step has a key."""
    a = application
    problems: dict[str, list[dict[str, Any]]] = {step: [] for step in EDIT_STEPS}

    employer = problems[Step.employer]
    employer += _required(a, Step.employer, CONTACT_FIELDS)
    if a.use_alternative_address:
        employer += _required(a, Step.employer, ALTERNATIVE_ADDRESS_FIELDS)
    if a.is_association:
        employer += _answered(a, Step.employer, ["association_has_business_activities"])
    employer += _answered(a, Step.employer, ["co_operation_negotiations"])
    if a.co_operation_negotiations:
        employer += _required(a, Step.employer, ["co_operation_negotiations_description"])
    employer += _answered(a, Step.employer, ["other_subsidised_employed"])
    if a.other_subsidised_employed:
        employer += _required(a, Step.employer, ["other_subsidised_number"])

    de_minimis = problems[Step.de_minimis]
    rows = de_minimis_rows(session, a)
    if de_minimis_applicable(a):
        de_minimis += _answered(a, Step.de_minimis, ["de_minimis_aid"])
        if a.de_minimis_aid and not rows:
            de_minimis.append(_problem((Step.de_minimis, "aids"), "de_minimis_rows_missing"))
        if a.de_minimis_aid and rows:
            de_minimis += _prefixed(
                Step.de_minimis,
                de_minimis_row_problems([(r.amount, r.granted_at) for r in rows]),
            )
    elif a.de_minimis_aid:
        de_minimis.append(_problem((Step.de_minimis, "de_minimis_aid"), "de_minimis_not_allowed"))

    employee = problems[Step.employee]
    employee += _required(a, Step.employee, EMPLOYEE_REQUIRED_FIELDS)
    if not a.is_living_in_helsinki:
        employee.append(
            _problem((Step.employee, "is_living_in_helsinki"), "helsinki_residence_required")
        )
    if a.is_association and not a.association_immediate_manager_check:
        employee.append(
            _problem(
                (Step.employee, "association_immediate_manager_check"), "job_supervisor_required"
            )
        )
    employee += _answered(a, Step.employee, ["pay_subsidy_granted"])
    if a.pay_subsidy_granted:
        employee += _required(a, Step.employee, ["pay_subsidy_percent"])
    employee += _answered(a, Step.employee, ["apprenticeship_program"])

    period = problems[Step.period]
    period += _required(a, Step.period, ["start_date", "end_date"])
    period += _prefixed(Step.period, period_problems(a.start_date, a.end_date))
    first_submission = a.submitted_at is None
    if first_submission and not is_staff(actor) and a.start_date is not None:
        earliest = earliest_start()
        if a.start_date < earliest:
            period.append(
                _problem(
                    (Step.period, "start_date"),
                    "period_start_too_early",
                    {"earliest": shown_date(earliest)},
                )
            )

    present = set(
        session.exec(select(Attachment.kind).where(Attachment.application_id == a.id)).all()
    )
    problems[Step.attachments] = [
        _problem((Step.attachments, kind.value), "attachment_required")
        for kind in required_attachments(a)
        if kind.value not in present
    ]
    return problems


def all_problems(problems: Mapping[str, Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [p for step in EDIT_STEPS for p in problems.get(step, [])]


# --- The task list ---------------------------------------------------------------------------------


NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
DONE = "done"
HAS_PROBLEMS = "has_problems"


@dataclass(frozen=True)
class StepState:
    step: Step
    state: str  # not_started | in_progress | done | has_problems
    problems: list[dict[str, Any]]
    editable: bool


def _started(session: Session, application: Application, step: Step) -> bool:
    a = application
    if step == Step.employer:
        names = [n for n in EmployerStepIn.model_fields if n != "language"]
        return any(getattr(a, n) not in (None, False, "") for n in names)
    if step == Step.de_minimis:
        return a.de_minimis_aid is not None
    if step == Step.employee:
        return any(getattr(a, n) not in (None, False, "") for n in EmployeeStepIn.model_fields)
    if step == Step.period:
        return a.start_date is not None or a.end_date is not None
    return (
        session.exec(
            select(func.count()).select_from(Attachment).where(Attachment.application_id == a.id)
        ).one()
        > 0
    )


def step_states(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    problems: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[StepState]:
    """Each step's state for the task list: not started, in progress (something is still
    missing), done, or has problems (a value breaks a rule, e.g. a date that is too early)."""
    found = (
        problems
        if problems is not None
        else submit_problems(session, application=application, actor=actor)
    )
    states = []
    for step in EDIT_STEPS:
        step_problems = list(found.get(step, []))
        if not step_problems:
            state = DONE
        elif any(p["type"] not in INCOMPLETE_TYPES for p in step_problems):
            state = HAS_PROBLEMS
        elif _started(session, application, step):
            state = IN_PROGRESS
        else:
            state = NOT_STARTED
        states.append(
            StepState(
                step=step,
                state=state,
                problems=step_problems,
                editable=can_edit_step(application, step, actor),
            )
        )
    return states


# --- Submitting --------------------------------------------------------------------------------------


def _terms_kind(actor: Actor) -> TermsKind:
    return TermsKind.handler_terms if is_staff(actor) else TermsKind.applicant_terms


def consents_needed(session: Session, *, application: Application, actor: Actor) -> bool:
    """The terms in force must be accepted at the first submit, and again at a resubmission
    only if a new version has come into force since (the earlier acceptance stands)."""
    in_force = terms.in_force(session, kind=_terms_kind(actor))
    if in_force is None:
        return False
    if application.status == S.draft:
        return True
    accepted = session.exec(
        select(TermsApproval.id).where(
            TermsApproval.terms_id == in_force.id,
            TermsApproval.application_id == application.id,
        )
    ).first()
    return accepted is None


def _submit_role(actor: Actor) -> str:
    if not is_staff(actor):
        return APPLICANT
    for role in (HANDLER, ADMIN):
        if role in actor.roles:
            return role
    raise InvalidTransition()


def submit(
    session: Session, *, application: Application, data: SubmitIn, actor: Actor
) -> Application:
    """Send the application (H19–H20): every step complete, every consent of the terms in force
    ticked; then draft → received with the next application number, the register data frozen
    and the terms' acceptance stored. While more information is needed, the employer's submit
    sends it back to handling (H26). Staff submit their paper drafts the same way (H31), with
    the handler terms.

    Two submits at once (two tabs, a double click): the status update is conditional on the
    status read, so exactly one gets a number; the other raises AlreadySubmitted (409)."""
    status = application.status
    if status == S.draft:
        if is_staff(actor) != (application.origin == Origin.handler):
            raise InvalidTransition()
        target = S.received
    elif status == S.additional_information_needed and not is_staff(actor):
        target = S.handling
    else:
        raise AlreadySubmitted()
    role = _submit_role(actor)
    errors = all_problems(submit_problems(session, application=application, actor=actor))
    needed = consents_needed(session, application=application, actor=actor)
    in_force = terms.in_force(session, kind=_terms_kind(actor)) if needed else None
    consent_ids: list[int] = []
    if in_force is not None:
        try:
            consent_ids = terms.check_consents(session, terms=in_force, data=data)
        except ValidationFailed as exc:
            errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    stamps: dict[str, Any] = {"last_submitted_at": now}
    if target == S.received:
        company = company_row(session, application)
        snapshot = {t: getattr(company, s) for t, s in COMPANY_SNAPSHOT.items()} if company else {}
        stamps |= {
            **snapshot,
            "application_number": events.next_application_number(session),
            "submitted_at": now,
        }
    try:
        events.move(
            session,
            application=application,
            target=target,
            actor=_role_actor(actor, role),
            role=role,
            stamps=stamps,
        )
    except Conflict as exc:  # InvalidTransition included: someone else moved it first
        raise AlreadySubmitted() from exc
    if in_force is not None:
        terms.approve_for_application(
            session,
            terms=in_force,
            consent_ids=consent_ids,
            application_id=application.id or 0,
            company_id=application.company_id,
            actor=actor,
        )
    return application


# --- Errors of a form, by field ----------------------------------------------------------------------


def problem_key(loc: Sequence[Any]) -> str:
    """A problem's field as the pages name it: ("aids", 0, "amount") -> "aids-0-amount"."""
    return "-".join(str(p) for p in loc if p not in ("body", "query", "form"))
