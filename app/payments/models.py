"""Payment items, batches and their history (issue #7 §2–§5).

A payment item is one amount the city owes: an approved Kesäseteli claim, or one instalment of an
accepted Helsinki-lisä decision. It carries a snapshot of whom to pay (the bank file must show
what was approved, even if the application changes later). A batch gathers items for one bank
file and moves draft → approved → exported → closed. The link row between a batch and an item
records the outcome (paid or failed); an item is in at most one batch whose link has not failed —
a unique partial index, so no code path can put it into two live batches and pay it twice.
Money is integer cents everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString
from app.db import UTCDateTime, utcnow


class Programme(StrEnum):
    helsinki_lisa = "helsinki_lisa"
    summer_voucher = "summer_voucher"


class ItemStatus(StrEnum):
    open = "open"  # owed: payable from its due date unless it sits in a live batch
    paid = "paid"
    cancelled = "cancelled"  # the decision was returned to handling before payment


class BatchStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    exported = "exported"
    closed = "closed"


class Outcome(StrEnum):
    paid = "paid"
    failed = "failed"


def _fk(table: str, *, ondelete: str, nullable: bool = True, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey(f"{table}.id", ondelete=ondelete),
            nullable=nullable,
            index=index,
        ),
    )


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class PaymentItem(SQLModel, table=True):
    __tablename__ = "payment_item"
    __table_args__ = (
        sa.CheckConstraint(f"programme IN ({_values(Programme)})", name="programme"),
        sa.CheckConstraint(f"status IN ({_values(ItemStatus)})", name="status"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("instalment >= 1", name="instalment_positive"),
        sa.CheckConstraint("(status = 'paid') = (paid_on IS NOT NULL)", name="paid_on_when_paid"),
        # One item per instalment of a decision and one per claim (NULLs are distinct).
        sa.UniqueConstraint("subsidy_application_id", "instalment"),
        sa.UniqueConstraint("claim_id", "instalment"),
        sa.Index("ix_payment_item_payable", "status", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(max_length=20)
    # The source; SET NULL when retention deletes it: the payment's own record stays.
    subsidy_application_id: int | None = _fk("subsidy_application", ondelete="SET NULL")
    claim_id: int | None = _fk("summer_voucher_claim", ondelete="SET NULL")
    instalment: int = 1
    instalments: int = 1  # how many the decision has
    application_number: str = Field(max_length=20, index=True)
    creditor_reference: str | None = Field(default=None, max_length=25)
    amount_cents: int = Field(sa_type=sa.BigInteger)
    decision_date: date
    due_date: date
    payee_name: str = Field(max_length=140)
    business_id: str | None = Field(default=None, max_length=9, index=True)
    iban: str = Field(sa_type=EncryptedString)
    bic: str | None = Field(default=None, max_length=11)
    language: str = Field(default="fi", max_length=2)
    status: str = Field(default=ItemStatus.open, max_length=10)
    paid_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentBatch(SQLModel, table=True):
    __tablename__ = "payment_batch"
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({_values(BatchStatus)})", name="status"),
        # Four eyes, in the database too: the payer who built a batch never approves it.
        sa.CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> created_by_id", name="second_approver"
        ),
        sa.CheckConstraint("total_cents >= 0 AND item_count >= 0", name="totals"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=BatchStatus.draft, max_length=10, index=True)
    # Bumped by every change: an approver approves exactly the version they saw.
    version: int = 1
    total_cents: int = Field(default=0, sa_type=sa.BigInteger)
    item_count: int = 0
    message_id: str = Field(max_length=35, unique=True)
    created_by_id: int = Field(foreign_key="app_user.id")
    created_by_name: str = Field(max_length=256)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approved_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    approved_by_name: str | None = Field(default=None, max_length=256)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    exported_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    exported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    execution_date: date | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentBatchItem(SQLModel, table=True):
    __tablename__ = "payment_batch_item"
    __table_args__ = (
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('paid', 'failed')", name="outcome"),
        sa.CheckConstraint("(outcome = 'paid') = (paid_on IS NOT NULL)", name="paid_on_when_paid"),
        sa.UniqueConstraint("batch_id", "item_id"),
        # The rule of issue #7 §3: an item is in at most one batch where it has not failed.
        sa.Index(
            "uq_payment_batch_item_live",
            "item_id",
            unique=True,
            sqlite_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
            postgresql_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = _fk("payment_batch", ondelete="CASCADE", nullable=False)
    item_id: int = _fk("payment_item", ondelete="CASCADE", nullable=False, index=False)
    amount_cents: int = Field(sa_type=sa.BigInteger)
    outcome: str | None = Field(default=None, max_length=10)
    paid_on: date | None = None
    failure_reason: str | None = Field(default=None, max_length=512)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    settled_by_name: str | None = Field(default=None, max_length=256)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentEvent(SQLModel, table=True):
    """The payment history of an item, as staff see it: created, added to and removed from
    batches, approved, exported, paid, failed, cancelled."""

    __tablename__ = "payment_event"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = _fk("payment_item", ondelete="CASCADE", nullable=False)
    batch_id: int | None = _fk("payment_batch", ondelete="SET NULL", index=False)
    kind: str = Field(max_length=20)
    actor_name: str = Field(max_length=256)
    detail: str | None = Field(default=None, max_length=512)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
