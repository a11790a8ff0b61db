"""Helsinki-lisä tables: terms, applications with their de minimis rows, files, messages,
status history, handlers' review marks, the change history, calculations and earlier benefits.

Stored enum values follow the city's current service (helsinkilisa.md §2) and never change.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString
from app.db import UTCDateTime, utcnow


def _in(column: str, values: Any) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _cascade(table: str, *, index: bool = True) -> Any:
    return Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
            nullable=False,
            index=index,
        )
    )


# --- Terms ------------------------------------------------------------------------------------


class TermsKind(StrEnum):
    terms_of_service = "terms_of_service"  # once per user and company before anything else (H2)
    applicant_terms = "applicant_terms"  # consents ticked at each submit (H19)
    handler_terms = "handler_terms"  # confirmed by staff entering a paper application (H31)


class Terms(SQLModel, table=True):
    """One version of a set of terms; the version in force is the latest effective_from ≤ today."""

    __tablename__ = "subsidy_terms"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", [k.value for k in TermsKind]), name="kind"),
        sa.UniqueConstraint("kind", "effective_from", name="kind_effective_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    version: str = Field(max_length=32)
    effective_from: date
    body_fi: str = Field(sa_type=sa.Text)
    body_sv: str = Field(sa_type=sa.Text)
    body_en: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TermsConsent(SQLModel, table=True):
    """One checkbox of a terms version; every one must be ticked."""

    __tablename__ = "subsidy_terms_consent"
    __table_args__ = (sa.UniqueConstraint("terms_id", "ordering", name="terms_ordering"),)

    id: int | None = Field(default=None, primary_key=True)
    terms_id: int = _cascade("subsidy_terms")
    ordering: int
    text_fi: str = Field(max_length=2048)
    text_sv: str = Field(max_length=2048)
    text_en: str = Field(max_length=2048)


class TermsApproval(SQLModel, table=True):
    """Who accepted which terms version, when, and the consents ticked (stored one by one)."""

    __tablename__ = "subsidy_terms_approval"
    __table_args__ = (
        # Terms of service: once per user, company and version. Applicant or handler terms:
        # once per application and version (a resubmission under new terms adds a row).
        sa.Index(
            "uq_subsidy_terms_approval_service",
            "terms_id",
            "user_id",
            "company_id",
            unique=True,
            postgresql_where=sa.text("application_id IS NULL"),
            sqlite_where=sa.text("application_id IS NULL"),
        ),
        sa.Index(
            "uq_subsidy_terms_approval_application",
            "terms_id",
            "application_id",
            unique=True,
            postgresql_where=sa.text("application_id IS NOT NULL"),
            sqlite_where=sa.text("application_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    terms_id: int = Field(foreign_key="subsidy_terms.id", index=True)
    user_id: int = Field(foreign_key="app_user.id")
    company_id: int = Field(foreign_key="company.id")
    application_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("subsidy_application.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    consent_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- The application --------------------------------------------------------------------------


class ApplicationStatus(StrEnum):
    draft = "draft"
    received = "received"
    handling = "handling"
    additional_information_needed = "additional_information_needed"
    accepted = "accepted"
    rejected = "rejected"
    cancelled = "cancelled"


class Origin(StrEnum):
    applicant = "applicant"  # made by the employer in the portal
    handler = "handler"  # a paper application entered by staff (H31)


class BenefitType(StrEnum):
    salary_benefit = "salary_benefit"
    employment_benefit = "employment_benefit"


class Decision(StrEnum):
    accepted = "accepted"
    rejected = "rejected"


_DRAFT = sa.text("status = 'draft'")


class Application(SQLModel, table=True):
    """One Helsinki-lisä application of one company for one employee and benefit period."""

    __tablename__ = "subsidy_application"
    __table_args__ = (
        sa.CheckConstraint(_in("status", [s.value for s in ApplicationStatus]), name="status"),
        sa.CheckConstraint(_in("origin", [o.value for o in Origin]), name="origin"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.CheckConstraint(
            "pay_subsidy_percent IS NULL OR pay_subsidy_percent IN (50, 70, 100)",
            name="pay_subsidy_percent",
        ),
        sa.CheckConstraint(
            "benefit_type IN ('salary_benefit', 'employment_benefit')", name="benefit_type"
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('accepted', 'rejected')", name="decision"
        ),
        # Every sent application has its number; a draft never has one.
        sa.CheckConstraint(
            "(status = 'draft') = (application_number IS NULL)", name="number_when_sent"
        ),
        sa.Index("ix_subsidy_application_company", "company_id", "updated_at", "id"),
        sa.Index("ix_subsidy_application_queue", "status", "submitted_at", "id"),
        sa.Index("ix_subsidy_application_drafts", "updated_at", postgresql_where=_DRAFT),
        # Staff search by a part of the company name (ILIKE '%…%'): a trigram index on
        # PostgreSQL; SQLite gets a plain index (it helps sorting by company, not the search).
        sa.Index(
            "ix_subsidy_application_company_name",
            "company_name",
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_number: int | None = Field(default=None, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    company_id: int = Field(foreign_key="company.id")
    creator_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default=ApplicationStatus.draft, max_length=32)
    origin: str = Field(default=Origin.applicant, max_length=16)
    language: str = Field(default="fi", max_length=2)
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The last wizard step saved (the dashboard resumes there).
    step: str | None = Field(default=None, max_length=32)

    # Employer (H3–H6): the register data is copied at submission; the rest is the applicant's.
    company_name: str | None = Field(default=None, max_length=255)
    company_form: str | None = Field(default=None, max_length=100)
    official_street_address: str | None = Field(default=None, max_length=255)
    official_postcode: str | None = Field(default=None, max_length=10)
    official_city: str | None = Field(default=None, max_length=100)
    is_association: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    use_alternative_address: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    company_department: str | None = Field(default=None, max_length=256)
    alternative_street_address: str | None = Field(default=None, max_length=256)
    alternative_postcode: str | None = Field(default=None, max_length=5)
    alternative_city: str | None = Field(default=None, max_length=128)
    iban: str | None = Field(default=None, sa_type=EncryptedString)
    contact_first_name: str | None = Field(default=None, max_length=64)
    contact_last_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=32)
    contact_email: str | None = Field(default=None, max_length=254)
    association_has_business_activities: bool | None = None
    association_immediate_manager_check: bool | None = None
    # De minimis aid (H7): the rows are DeMinimisAid.
    de_minimis_aid: bool | None = None
    # Co-operation negotiations (H8) and other subsidised employees (H11).
    co_operation_negotiations: bool | None = None
    co_operation_negotiations_description: str | None = Field(default=None, max_length=256)
    other_subsidised_employed: bool | None = None
    other_subsidised_number: int | None = None

    # Employee (H9, H12): name and HETU encrypted; exact searches through blind indexes.
    employee_first_name: str | None = Field(default=None, sa_type=EncryptedString)
    employee_last_name: str | None = Field(default=None, sa_type=EncryptedString)
    employee_name_index: str | None = Field(default=None, max_length=64, index=True)
    employee_last_name_index: str | None = Field(default=None, max_length=64, index=True)
    employee_hetu: str | None = Field(default=None, sa_type=EncryptedString)
    employee_hetu_index: str | None = Field(default=None, max_length=64, index=True)
    is_living_in_helsinki: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    job_title: str | None = Field(default=None, max_length=128)
    working_hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(5, 2))
    collective_bargaining_agreement: str | None = Field(default=None, max_length=128)
    monthly_pay: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    vacation_money: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    other_expenses: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    pay_subsidy_granted: bool | None = None
    pay_subsidy_percent: int | None = None
    apprenticeship_program: bool | None = None
    benefit_type: str = Field(default=BenefitType.salary_benefit, max_length=20)

    # Benefit period (H13, H14).
    start_date: date | None = None
    end_date: date | None = None

    # Life of the sent application.
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the first time
    last_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paper_application_date: date | None = None
    handler_id: int | None = Field(default=None, foreign_key="app_user.id")
    handling_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    information_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    information_deadline: date | None = None
    # The sections the applicant may change while more information is needed (None = all).
    reopened_steps: list[str] | None = Field(default=None, sa_type=sa.JSON)
    decision: str | None = Field(default=None, max_length=10)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decider_id: int | None = Field(default=None, foreign_key="app_user.id")
    decision_reason: str | None = Field(default=None, max_length=4096)
    granted_as_de_minimis_aid: bool | None = None
    granted_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 2))
    # The calculation as decided (rows, instalments, rule values): frozen, shown in the decision.
    decided_calculation: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=4096)
    draft_reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeMinimisAid(SQLModel, table=True):
    __tablename__ = "subsidy_de_minimis_aid"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "ordering", name="application_ordering"),
        sa.CheckConstraint("amount > 0", name="amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application", index=False)
    ordering: int
    granter: str = Field(max_length=64)
    amount: Decimal = Field(sa_type=sa.Numeric(10, 2))
    granted_at: date


class AttachmentType(StrEnum):
    employment_contract = "employment_contract"
    pay_subsidy_decision = "pay_subsidy_decision"
    education_contract = "education_contract"
    employee_consent = "employee_consent"
    helsinki_benefit_voucher = "helsinki_benefit_voucher"
    other_attachment = "other_attachment"
    full_application = "full_application"  # the scanned paper application (H31)


class Attachment(SQLModel, table=True):
    """A file of an application; the content is in the file store under `storage_key`."""

    __tablename__ = "subsidy_attachment"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", [k.value for k in AttachmentType]), name="kind"),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')", name="content_type"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application")
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=32)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=64, unique=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_by_staff: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Conversation and history -----------------------------------------------------------------


class MessageKind(StrEnum):
    applicant_message = "applicant_message"
    handler_message = "handler_message"  # e-mailed to the applicant (H24)
    note = "note"  # internal: never shown nor e-mailed to the applicant (H25)


class Message(SQLModel, table=True):
    __tablename__ = "subsidy_message"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", [k.value for k in MessageKind]), name="kind"),
        sa.Index("ix_subsidy_message_application", "application_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application", index=False)
    kind: str = Field(max_length=20)
    sender_id: int | None = Field(default=None, foreign_key="app_user.id")
    sender_name: str = Field(max_length=256)  # a snapshot: messages outlive user changes
    content: str = Field(max_length=4096)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_by_applicant_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seen_by_handler_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StatusEvent(SQLModel, table=True):
    """Every status change with who made it and why: the timeline's source (H21, H47)."""

    __tablename__ = "subsidy_status_event"
    __table_args__ = (
        sa.Index("ix_subsidy_status_event_application", "application_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application", index=False)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_name: str = Field(max_length=256)
    actor_is_staff: bool = False
    comment: str | None = Field(default=None, max_length=4096)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewSection(StrEnum):
    paper = "paper"
    company = "company"
    company_contact_person = "company_contact_person"
    de_minimis_aids = "de_minimis_aids"
    co_operation_negotiations = "co_operation_negotiations"
    employee = "employee"
    pay_subsidy = "pay_subsidy"
    benefit = "benefit"
    employment = "employment"
    approval = "approval"


class ReviewMark(SQLModel, table=True):
    """A handler's "checked" mark on one section of an application (H30)."""

    __tablename__ = "subsidy_review_mark"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "section", name="application_section"),
        sa.CheckConstraint(_in("section", [s.value for s in ReviewSection]), name="section"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application", index=False)
    section: str = Field(max_length=32)
    checked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FieldChange(SQLModel, table=True):
    """A field changed after submission: who, when, old and new value, why (H27).

    Values are encrypted: a change of the employee's name or HETU is personal data.
    """

    __tablename__ = "subsidy_field_change"
    __table_args__ = (
        sa.Index("ix_subsidy_field_change_application", "application_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application", index=False)
    field_name: str = Field(max_length=64)
    old_value: str | None = Field(default=None, sa_type=EncryptedString)
    new_value: str | None = Field(default=None, sa_type=EncryptedString)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_name: str = Field(max_length=256)
    actor_is_staff: bool = False
    reason: str | None = Field(default=None, max_length=1024)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- The handler's calculation and earlier benefits -------------------------------------------


class Calculation(SQLModel, table=True):
    """The staff calculator's inputs and last result for one application (H32–H45)."""

    __tablename__ = "subsidy_calculation"
    __table_args__ = (
        sa.CheckConstraint(
            "state_aid_max_percentage IS NULL OR state_aid_max_percentage IN (50, 70, 100)",
            name="state_aid_max_percentage",
        ),
        sa.CheckConstraint(
            "benefit_type IN ('salary_benefit', 'employment_benefit')", name="benefit_type"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("subsidy_application.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    benefit_type: str = Field(default=BenefitType.salary_benefit, max_length=20)
    start_date: date | None = None
    end_date: date | None = None
    monthly_pay: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    other_expenses: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    vacation_money: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    state_aid_max_percentage: int | None = None
    apprenticeship: bool = False
    instalments_enabled: bool = False
    # [{start_date, end_date, pay_subsidy_percent, work_time_percent}]
    pay_subsidies: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # [{start_date, end_date, monthly_amount}]
    training_compensations: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    override_monthly_benefit_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    override_justification: str | None = Field(default=None, max_length=1024)
    # The engine's answer (rows, instalments, rule values) and its total; None until computable.
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    total: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 2))
    calculated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calculated_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class PreviousBenefit(SQLModel, table=True):
    """A benefit granted before this service (or elsewhere) that counts toward the limits (H46)."""

    __tablename__ = "subsidy_previous_benefit"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    employee_hetu: str = Field(sa_type=EncryptedString)
    employee_hetu_index: str = Field(max_length=64, index=True)
    start_date: date
    end_date: date
    monthly_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    total_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 2))
    apprenticeship: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Counter(SQLModel, table=True):
    """Named counters handed out one at a time (the sequential application number, H20).

    `UPDATE … SET value = value + 1 RETURNING value` locks the row on PostgreSQL and runs under
    the write lock on SQLite, so two submissions at once never get the same number.
    """

    __tablename__ = "app_counter"

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


# --- Decision letters ----------------------------------------------------------------------------


class DecisionDocument(SQLModel, table=True):
    """The decision letter (PDF) and the same decision as JSON, made when a decision becomes
    final (issue #7 §1). Returning the decision to handling marks it superseded; the next
    decision stores a new one. At most one current (not superseded) letter per application."""

    __tablename__ = "subsidy_decision_document"
    __table_args__ = (
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.Index(
            "uq_subsidy_decision_document_current",
            "application_id",
            unique=True,
            postgresql_where=sa.text("superseded_at IS NULL"),
            sqlite_where=sa.text("superseded_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = _cascade("subsidy_application")
    language: str = Field(max_length=2)
    pdf: bytes = Field(sa_type=sa.LargeBinary)
    content: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str = Field(max_length=256)  # the decider's name, a snapshot
