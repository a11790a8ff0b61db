"""Kesäseteli tables: the yearly configuration, schools, youth applications and their vouchers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString
from app.db import UTCDateTime, utcnow


class TargetGroup(StrEnum):
    """Identifiers are stored and must never be renamed (the city's existing data uses them)."""

    hki_15 = "hki_15"  # 8th grader, age 15
    primary = "primary_target_group"  # 9th grader, age 16
    secondary = "secondary_target_group"  # first-year upper secondary student, age 17
    hki_18 = "hki_18"  # second-year upper secondary student, age 18


# Age in the application year (year minus birth year) that each target group means.
TARGET_GROUP_AGE: dict[TargetGroup, int] = {
    TargetGroup.hki_15: 15,
    TargetGroup.primary: 16,
    TargetGroup.secondary: 17,
    TargetGroup.hki_18: 18,
}


class YearConfiguration(SQLModel, table=True):
    """One row per year: without it (or outside its dates) the youth form says it is not open."""

    __tablename__ = "summer_voucher_year"
    __table_args__ = (
        sa.CheckConstraint("year >= 2020", name="year"),
        sa.CheckConstraint("min_work_hours > 0", name="min_work_hours"),
        sa.CheckConstraint("opens_on <= closes_on", name="dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    voucher_value: Decimal = Field(sa_type=sa.Numeric(8, 2))
    min_work_hours: int
    min_work_compensation: Decimal = Field(sa_type=sa.Numeric(8, 2))
    target_groups: list[str] = Field(sa_type=sa.JSON)
    opens_on: date
    closes_on: date
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class School(SQLModel, table=True):
    """The staff-maintained school list the youth form offers (free text is allowed too)."""

    __tablename__ = "summer_voucher_school"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=256, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class YouthStatus(StrEnum):
    submitted = "submitted"
    additional_information_requested = "additional_information_requested"
    additional_information_provided = "additional_information_provided"
    awaiting_manual_processing = "awaiting_manual_processing"
    accepted = "accepted"
    rejected = "rejected"
    expired = "expired"  # never activated within the link's validity; frees the person and e-mail


_STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in YouthStatus) + ")"
# At most one live (not rejected, not expired) application per person and per e-mail a year,
# enforced by the database: of parallel submissions exactly one is stored.
_LIVE = sa.text("status NOT IN ('rejected', 'expired')")


class YouthApplication(SQLModel, table=True):
    __tablename__ = "youth_application"
    __table_args__ = (
        sa.CheckConstraint(_STATUS_CHECK, name="status"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        sa.Index(
            "uq_youth_application_live_hetu",
            "year",
            "hetu_index",
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        sa.Index(
            "uq_youth_application_live_email",
            "year",
            "email_index",
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        sa.Index("ix_youth_application_queue", "status", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    year: int = Field(index=True)
    language: str = Field(default="fi", max_length=2)
    # Personal data: encrypted; exact look-ups go through the keyed blind indexes.
    first_name: str = Field(sa_type=EncryptedString)
    last_name: str = Field(sa_type=EncryptedString)
    hetu: str | None = Field(default=None, sa_type=EncryptedString)
    hetu_index: str | None = Field(default=None, max_length=64, index=True)
    email: str = Field(sa_type=EncryptedString)
    email_index: str = Field(max_length=64, index=True)
    phone: str = Field(sa_type=EncryptedString)
    postcode: str = Field(max_length=5)
    school: str = Field(max_length=256)
    is_unlisted_school: bool = False
    target_group: str = Field(max_length=40)
    non_vtj_birthdate: date | None = None
    non_vtj_home_municipality: str | None = Field(default=None, max_length=64)
    status: str = Field(default=YouthStatus.submitted, max_length=40)
    # The e-mail activation: only a hash of the link's token is kept.
    activation_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    needs_additional_info: bool = False
    register_snapshot: str | None = Field(default=None, sa_type=EncryptedString)
    register_restricted: bool = False
    additional_info_reasons: list[str] | None = Field(default=None, sa_type=sa.JSON)
    additional_info_description: str | None = Field(default=None, max_length=4096)
    additional_info_provided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handler_id: int | None = Field(default=None, foreign_key="app_user.id")
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    creator_id: int | None = Field(default=None, foreign_key="app_user.id")


class Voucher(SQLModel, table=True):
    """Exactly one per accepted youth application; the serial is what the employer claims with."""

    __tablename__ = "summer_voucher"

    id: int | None = Field(default=None, primary_key=True)
    youth_application_id: int = Field(foreign_key="youth_application.id", unique=True)
    serial_number: int = Field(sa_type=sa.BigInteger, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClaimStatus(StrEnum):
    """The employer claim's life (kesaseteli.md §2, K51). Stored values never change."""

    draft = "draft"
    submitted = "submitted"
    handling = "handling"  # a handler has taken it
    additional_information_requested = "additional_information_requested"
    additional_information_provided = "additional_information_provided"
    accepted = "accepted"
    rejected = "rejected"


class HiredWithoutVoucher(StrEnum):
    yes = "yes"
    no = "no"
    maybe = "maybe"


class AttachmentKind(StrEnum):
    employment_contract = "employment_contract"
    payslip = "payslip"


_CLAIM_STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in ClaimStatus) + ")"
# A voucher is used by at most one claim that is sent and not rejected (K39), enforced by the
# database: two employers submitting the same serial at once leave one submitted claim.
_CLAIM_USES_VOUCHER = sa.text("voucher_id IS NOT NULL AND status NOT IN ('draft', 'rejected')")
_CLAIM_DRAFT = sa.text("status = 'draft'")


class Claim(SQLModel, table=True):
    """An employer's claim for the compensation of one voucher (one youth per claim)."""

    __tablename__ = "summer_voucher_claim"
    __table_args__ = (
        sa.CheckConstraint(_CLAIM_STATUS_CHECK, name="status"),
        sa.CheckConstraint(
            "hired_without_voucher IS NULL OR hired_without_voucher IN ('yes', 'no', 'maybe')",
            name="hired_without_voucher",
        ),
        # One claim per voucher (K39) and one draft per user and company (K36).
        sa.Index(
            "uq_summer_voucher_claim_voucher",
            "voucher_id",
            unique=True,
            postgresql_where=_CLAIM_USES_VOUCHER,
            sqlite_where=_CLAIM_USES_VOUCHER,
        ),
        sa.Index(
            "uq_summer_voucher_claim_draft",
            "company_id",
            "creator_id",
            unique=True,
            postgresql_where=_CLAIM_DRAFT,
            sqlite_where=_CLAIM_DRAFT,
        ),
        sa.Index("ix_summer_voucher_claim_company", "company_id", "updated_at", "id"),
        sa.Index("ix_summer_voucher_claim_queue", "status", "submitted_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    company_id: int = Field(foreign_key="company.id")
    creator_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default=ClaimStatus.draft, max_length=40)
    language: str = Field(default="fi", max_length=2)
    # The youth, once the look-up by name and serial has succeeded (K37).
    voucher_id: int | None = Field(default=None, foreign_key="summer_voucher.id")
    employee_name: str | None = Field(default=None, sa_type=EncryptedString)
    employee_phone: str | None = Field(default=None, sa_type=EncryptedString)
    # Employment (K40).
    employment_postcode: str | None = Field(default=None, max_length=5)
    employment_start: date | None = None
    employment_end: date | None = None
    work_hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    salary_paid: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 2))
    job_description: str | None = Field(default=None, max_length=4096)
    hired_without_voucher: str | None = Field(default=None, max_length=5)
    # Employer contact and payment (K41, K42).
    contact_name: str | None = Field(default=None, max_length=256)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=64)
    street_address: str | None = Field(default=None, max_length=256)
    iban: str | None = Field(default=None, sa_type=EncryptedString)
    payee_name: str | None = Field(default=None, max_length=256)
    payee_address: str | None = Field(default=None, max_length=512)
    bic: str | None = Field(default=None, max_length=11)
    bank_name: str | None = Field(default=None, max_length=256)
    bank_address: str | None = Field(default=None, max_length=512)
    # A separate invoicer (an accounting office, say), kept from the city's current service.
    is_separate_invoicer: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    invoicer_name: str | None = Field(default=None, max_length=256)
    invoicer_email: str | None = Field(default=None, max_length=254)
    invoicer_phone: str | None = Field(default=None, max_length=64)
    terms_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The decision: the amount is the voucher value of the claim's voucher year (K23).
    handler_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=4096)
    amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    information_request: str | None = Field(default=None, max_length=4096)
    # Set by the "not yet exported" export (K54).
    exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class ClaimAttachment(SQLModel, table=True):
    """A file of a claim; the content is in the file store under `storage_key`."""

    __tablename__ = "summer_voucher_claim_attachment"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('employment_contract', 'payslip')", name="kind"),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')", name="content_type"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("summer_voucher_claim.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=32)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=64, unique=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_by_staff: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TimelineKind(StrEnum):
    note = "note"
    status = "status"


class NoteType(StrEnum):
    internal = "internal"
    external = "external_message"  # a label only: no e-mail is sent (kesaseteli.md §5.3)


class TimelineEntry(SQLModel, table=True):
    """Handler notes and status changes of a youth application or a claim (K52, K53)."""

    __tablename__ = "summer_voucher_timeline"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('note', 'status')", name="kind"),
        sa.CheckConstraint(
            "(youth_application_id IS NULL) <> (claim_id IS NULL)", name="one_target"
        ),
        sa.CheckConstraint(
            "note_type IS NULL OR note_type IN ('internal', 'external_message')", name="note_type"
        ),
        # A note on a claim's file is an internal note of that claim (kesaseteli.md §5.3).
        sa.CheckConstraint(
            "attachment_id IS NULL OR (claim_id IS NOT NULL AND note_type = 'internal')",
            name="attachment_note",
        ),
        sa.Index("ix_summer_voucher_timeline_claim", "claim_id", "created_at"),
        sa.Index("ix_summer_voucher_timeline_youth", "youth_application_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    youth_application_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("youth_application.id", ondelete="CASCADE"), nullable=True
        ),
    )
    claim_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("summer_voucher_claim.id", ondelete="CASCADE"), nullable=True
        ),
    )
    attachment_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("summer_voucher_claim_attachment.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    kind: str = Field(max_length=8)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_name: str = Field(max_length=256)  # a snapshot: the timeline outlives user changes
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str | None = Field(default=None, max_length=40)
    note_type: str | None = Field(default=None, max_length=20)
    important: bool = False
    content: str | None = Field(default=None, max_length=4096)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClaimReceipt(SQLModel, table=True):
    """The short decision receipt (PDF) of an approved or rejected claim and the same as JSON,
    made with the decision (issue #7 §1). A claim's decision is final: one receipt per claim."""

    __tablename__ = "summer_voucher_claim_receipt"
    __table_args__ = (sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("summer_voucher_claim.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    language: str = Field(max_length=2)
    pdf: bytes = Field(sa_type=sa.LargeBinary)
    content: dict[str, object] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str = Field(max_length=256)  # the handler's name, a snapshot
