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
