"""Kesäseteli claims: a separate invoicer, and handlers' notes on a claim's files.

Revision ID: 483a976c316f
Revises: e050c1af5b0d
Create Date: 2026-11-24 21:48:28.373463+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "483a976c316f"
down_revision: str | None = "e050c1af5b0d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("summer_voucher_claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "is_separate_invoicer", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("invoicer_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True)
        )
        batch_op.add_column(
            sa.Column("invoicer_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True)
        )
        batch_op.add_column(
            sa.Column("invoicer_phone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )

    with op.batch_alter_table("summer_voucher_timeline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_summer_voucher_timeline_attachment_id_summer_voucher_claim_attachment"),
            "summer_voucher_claim_attachment",
            ["attachment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            "attachment_note",
            "attachment_id IS NULL OR (claim_id IS NOT NULL AND note_type = 'internal')",
        )


def downgrade() -> None:
    with op.batch_alter_table("summer_voucher_timeline", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_summer_voucher_timeline_attachment_note"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_summer_voucher_timeline_attachment_id_summer_voucher_claim_attachment"),
            type_="foreignkey",
        )
        batch_op.drop_column("attachment_id")

    with op.batch_alter_table("summer_voucher_claim", schema=None) as batch_op:
        batch_op.drop_column("invoicer_phone")
        batch_op.drop_column("invoicer_email")
        batch_op.drop_column("invoicer_name")
        batch_op.drop_column("is_separate_invoicer")
