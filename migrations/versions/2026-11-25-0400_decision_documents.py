"""Decision documents: the Helsinki-lisä decision letter and the Kesäseteli claim receipt,
each a PDF with the same content as JSON, stored in the database (issue #7 §1).

The unique partial index uq_subsidy_decision_document_current keeps at most one current (not
superseded) letter per application; a claim has one receipt (its decision is final).

Revision ID: c4d2e6f8a1b3
Revises: b7a1c3d5e8f0
Create Date: 2026-11-25 04:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "c4d2e6f8a1b3"
down_revision: str | None = "b7a1c3d5e8f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subsidy_decision_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.CheckConstraint(
            "language IN ('fi', 'sv', 'en')", name=op.f("ck_subsidy_decision_document_language")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_decision_document_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_decision_document")),
    )
    with op.batch_alter_table("subsidy_decision_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_decision_document_application_id"),
            ["application_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_subsidy_decision_document_current",
            ["application_id"],
            unique=True,
            postgresql_where=sa.text("superseded_at IS NULL"),
            sqlite_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "summer_voucher_claim_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.CheckConstraint(
            "language IN ('fi', 'sv', 'en')", name=op.f("ck_summer_voucher_claim_receipt_language")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["summer_voucher_claim.id"],
            name=op.f("fk_summer_voucher_claim_receipt_claim_id_summer_voucher_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_claim_receipt")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_summer_voucher_claim_receipt_claim_id")),
    )


def downgrade() -> None:
    op.drop_table("summer_voucher_claim_receipt")
    with op.batch_alter_table("subsidy_decision_document", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_subsidy_decision_document_current",
            postgresql_where=sa.text("superseded_at IS NULL"),
            sqlite_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_subsidy_decision_document_application_id"))

    op.drop_table("subsidy_decision_document")
