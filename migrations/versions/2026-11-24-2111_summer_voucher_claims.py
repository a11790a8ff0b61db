"""Kesäseteli employer claims, their attachments, and the handlers' timeline.

Revision ID: 0a6cdc311b67
Revises: ae0f2aa03e70
Create Date: 2026-11-24 21:11:32.112125+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "0a6cdc311b67"
down_revision: str | None = "ae0f2aa03e70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "summer_voucher_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=True),
        sa.Column("employee_name", app.crypto.EncryptedString(), nullable=True),
        sa.Column("employee_phone", app.crypto.EncryptedString(), nullable=True),
        sa.Column("employment_postcode", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("employment_start", sa.Date(), nullable=True),
        sa.Column("employment_end", sa.Date(), nullable=True),
        sa.Column("work_hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("salary_paid", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("job_description", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column(
            "hired_without_voucher", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True
        ),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("street_address", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("iban", app.crypto.EncryptedString(), nullable=True),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("payee_address", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("bic", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("bank_address", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("terms_accepted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("amount", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column(
            "information_request", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True
        ),
        sa.Column("exported_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "hired_without_voucher IS NULL OR hired_without_voucher IN ('yes', 'no', 'maybe')",
            name=op.f("ck_summer_voucher_claim_hired_without_voucher"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'handling', 'additional_information_requested', 'additional_information_provided', 'accepted', 'rejected')",
            name=op.f("ck_summer_voucher_claim_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_summer_voucher_claim_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["app_user.id"],
            name=op.f("fk_summer_voucher_claim_creator_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["app_user.id"],
            name=op.f("fk_summer_voucher_claim_handler_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["summer_voucher.id"],
            name=op.f("fk_summer_voucher_claim_voucher_id_summer_voucher"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_claim")),
    )
    with op.batch_alter_table("summer_voucher_claim", schema=None) as batch_op:
        batch_op.create_index(
            "ix_summer_voucher_claim_company", ["company_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_summer_voucher_claim_exported_at"), ["exported_at"], unique=False
        )
        batch_op.create_index(
            "ix_summer_voucher_claim_queue", ["status", "submitted_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_summer_voucher_claim_draft",
            ["company_id", "creator_id"],
            unique=True,
            postgresql_where=sa.text("status = 'draft'"),
            sqlite_where=sa.text("status = 'draft'"),
        )
        batch_op.create_index(
            "uq_summer_voucher_claim_voucher",
            ["voucher_id"],
            unique=True,
            postgresql_where=sa.text(
                "voucher_id IS NOT NULL AND status NOT IN ('draft', 'rejected')"
            ),
            sqlite_where=sa.text("voucher_id IS NOT NULL AND status NOT IN ('draft', 'rejected')"),
        )

    op.create_table(
        "summer_voucher_claim_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_staff", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')",
            name=op.f("ck_summer_voucher_claim_attachment_content_type"),
        ),
        sa.CheckConstraint(
            "kind IN ('employment_contract', 'payslip')",
            name=op.f("ck_summer_voucher_claim_attachment_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["summer_voucher_claim.id"],
            name=op.f("fk_summer_voucher_claim_attachment_claim_id_summer_voucher_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["app_user.id"],
            name=op.f("fk_summer_voucher_claim_attachment_uploaded_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_claim_attachment")),
        sa.UniqueConstraint(
            "storage_key", name=op.f("uq_summer_voucher_claim_attachment_storage_key")
        ),
    )
    with op.batch_alter_table("summer_voucher_claim_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_summer_voucher_claim_attachment_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "summer_voucher_timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("youth_application_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("note_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("content", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("edited_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('note', 'status')", name=op.f("ck_summer_voucher_timeline_kind")
        ),
        sa.CheckConstraint(
            "note_type IS NULL OR note_type IN ('internal', 'external_message')",
            name=op.f("ck_summer_voucher_timeline_note_type"),
        ),
        sa.CheckConstraint(
            "(youth_application_id IS NULL) <> (claim_id IS NULL)",
            name=op.f("ck_summer_voucher_timeline_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_summer_voucher_timeline_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["summer_voucher_claim.id"],
            name=op.f("fk_summer_voucher_timeline_claim_id_summer_voucher_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["youth_application_id"],
            ["youth_application.id"],
            name=op.f("fk_summer_voucher_timeline_youth_application_id_youth_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_timeline")),
    )
    with op.batch_alter_table("summer_voucher_timeline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_summer_voucher_timeline_claim", ["claim_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_summer_voucher_timeline_youth", ["youth_application_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("summer_voucher_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_summer_voucher_timeline_youth")
        batch_op.drop_index("ix_summer_voucher_timeline_claim")

    op.drop_table("summer_voucher_timeline")
    with op.batch_alter_table("summer_voucher_claim_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summer_voucher_claim_attachment_claim_id"))

    op.drop_table("summer_voucher_claim_attachment")
    with op.batch_alter_table("summer_voucher_claim", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_summer_voucher_claim_voucher",
            postgresql_where=sa.text(
                "voucher_id IS NOT NULL AND status NOT IN ('draft', 'rejected')"
            ),
            sqlite_where=sa.text("voucher_id IS NOT NULL AND status NOT IN ('draft', 'rejected')"),
        )
        batch_op.drop_index(
            "uq_summer_voucher_claim_draft",
            postgresql_where=sa.text("status = 'draft'"),
            sqlite_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index("ix_summer_voucher_claim_queue")
        batch_op.drop_index(batch_op.f("ix_summer_voucher_claim_exported_at"))
        batch_op.drop_index("ix_summer_voucher_claim_company")

    op.drop_table("summer_voucher_claim")
