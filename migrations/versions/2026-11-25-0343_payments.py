"""Payments: items owed by decisions, batches of them, their outcomes and history (issue #7).

The unique partial index uq_payment_batch_item_live keeps an item in at most one batch where it
has not failed; the CHECK second_approver keeps the builder of a batch from approving it.

Revision ID: b7a1c3d5e8f0
Revises: 9e41c0b7d2a3
Create Date: 2026-11-25 03:43:20.654996+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "b7a1c3d5e8f0"
down_revision: str | None = "9e41c0b7d2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_by_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("approved_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exported_by_id", sa.Integer(), nullable=True),
        sa.Column("exported_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("execution_date", sa.Date(), nullable=True),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'exported', 'closed')",
            name=op.f("ck_payment_batch_status"),
        ),
        sa.CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> created_by_id",
            name=op.f("ck_payment_batch_second_approver"),
        ),
        sa.CheckConstraint(
            "total_cents >= 0 AND item_count >= 0", name=op.f("ck_payment_batch_totals")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["app_user.id"],
            name=op.f("fk_payment_batch_approved_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_payment_batch_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["exported_by_id"],
            ["app_user.id"],
            name=op.f("fk_payment_batch_exported_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch")),
        sa.UniqueConstraint("message_id", name=op.f("uq_payment_batch_message_id")),
    )
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_batch_status"), ["status"], unique=False)

    op.create_table(
        "payment_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subsidy_application_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("instalment", sa.Integer(), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column(
            "application_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column("creditor_reference", sqlmodel.sql.sqltypes.AutoString(length=25), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("business_id", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
        sa.Column("iban", app.crypto.EncryptedString(), nullable=False),
        sa.Column("bic", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'paid') = (paid_on IS NOT NULL)",
            name=op.f("ck_payment_item_paid_on_when_paid"),
        ),
        sa.CheckConstraint(
            "programme IN ('helsinki_lisa', 'summer_voucher')",
            name=op.f("ck_payment_item_programme"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'cancelled')", name=op.f("ck_payment_item_status")
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_item_amount_positive")),
        sa.CheckConstraint("instalment >= 1", name=op.f("ck_payment_item_instalment_positive")),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["summer_voucher_claim.id"],
            name=op.f("fk_payment_item_claim_id_summer_voucher_claim"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subsidy_application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_payment_item_subsidy_application_id_subsidy_application"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_item")),
        sa.UniqueConstraint(
            "claim_id", "instalment", name=op.f("uq_payment_item_claim_id_instalment")
        ),
        sa.UniqueConstraint(
            "subsidy_application_id",
            "instalment",
            name=op.f("uq_payment_item_subsidy_application_id_instalment"),
        ),
    )
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_item_application_number"), ["application_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_item_business_id"), ["business_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_item_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index("ix_payment_item_payable", ["status", "due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_item_subsidy_application_id"),
            ["subsidy_application_id"],
            unique=False,
        )

    op.create_table(
        "payment_batch_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("failure_reason", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("settled_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_by_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("added_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'paid') = (paid_on IS NOT NULL)",
            name=op.f("ck_payment_batch_item_paid_on_when_paid"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('paid', 'failed')",
            name=op.f("ck_payment_batch_item_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["payment_batch.id"],
            name=op.f("fk_payment_batch_item_batch_id_payment_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["payment_item.id"],
            name=op.f("fk_payment_batch_item_item_id_payment_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch_item")),
        sa.UniqueConstraint(
            "batch_id", "item_id", name=op.f("uq_payment_batch_item_batch_id_item_id")
        ),
    )
    with op.batch_alter_table("payment_batch_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_batch_item_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            "uq_payment_batch_item_live",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
            postgresql_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
        )

    op.create_table(
        "payment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["payment_batch.id"],
            name=op.f("fk_payment_event_batch_id_payment_batch"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["payment_item.id"],
            name=op.f("fk_payment_event_item_id_payment_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_event")),
    )
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_event_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_event_item_id"))

    op.drop_table("payment_event")
    with op.batch_alter_table("payment_batch_item", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payment_batch_item_live",
            sqlite_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
            postgresql_where=sa.text("outcome IS NULL OR outcome = 'paid'"),
        )
        batch_op.drop_index(batch_op.f("ix_payment_batch_item_batch_id"))

    op.drop_table("payment_batch_item")
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_item_subsidy_application_id"))
        batch_op.drop_index("ix_payment_item_payable")
        batch_op.drop_index(batch_op.f("ix_payment_item_claim_id"))
        batch_op.drop_index(batch_op.f("ix_payment_item_business_id"))
        batch_op.drop_index(batch_op.f("ix_payment_item_application_number"))

    op.drop_table("payment_item")
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_batch_status"))

    op.drop_table("payment_batch")
