"""Kesäseteli: yearly configurations, schools, youth applications (one live per person and e-mail a year, by partial unique indexes) and vouchers.

Revision ID: 0980749e6a86
Revises: 4b73fbe5bf9f
Create Date: 2026-11-24 19:18:35.466443+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "0980749e6a86"
down_revision: str | None = "4b73fbe5bf9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "summer_voucher_school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_school")),
        sa.UniqueConstraint("name", name=op.f("uq_summer_voucher_school_name")),
    )
    op.create_table(
        "summer_voucher_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("voucher_value", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("min_work_hours", sa.Integer(), nullable=False),
        sa.Column("min_work_compensation", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_work_hours > 0", name=op.f("ck_summer_voucher_year_min_work_hours")
        ),
        sa.CheckConstraint("opens_on <= closes_on", name=op.f("ck_summer_voucher_year_dates")),
        sa.CheckConstraint("year >= 2020", name=op.f("ck_summer_voucher_year_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher_year")),
        sa.UniqueConstraint("year", name=op.f("uq_summer_voucher_year_year")),
    )
    op.create_table(
        "youth_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("first_name", app.crypto.EncryptedString(), nullable=False),
        sa.Column("last_name", app.crypto.EncryptedString(), nullable=False),
        sa.Column("hetu", app.crypto.EncryptedString(), nullable=True),
        sa.Column("hetu_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("email", app.crypto.EncryptedString(), nullable=False),
        sa.Column("email_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone", app.crypto.EncryptedString(), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("school", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("is_unlisted_school", sa.Boolean(), nullable=False),
        sa.Column("target_group", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("non_vtj_birthdate", sa.Date(), nullable=True),
        sa.Column(
            "non_vtj_home_municipality", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "activation_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("activated_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("needs_additional_info", sa.Boolean(), nullable=False),
        sa.Column("register_snapshot", app.crypto.EncryptedString(), nullable=True),
        sa.Column("register_restricted", sa.Boolean(), nullable=False),
        sa.Column("additional_info_reasons", sa.JSON(), nullable=True),
        sa.Column(
            "additional_info_description",
            sqlmodel.sql.sqltypes.AutoString(length=4096),
            nullable=True,
        ),
        sa.Column("additional_info_provided_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "language IN ('fi', 'sv', 'en')", name=op.f("ck_youth_application_language")
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'additional_information_requested', 'additional_information_provided', 'awaiting_manual_processing', 'accepted', 'rejected', 'expired')",
            name=op.f("ck_youth_application_status"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["app_user.id"], name=op.f("fk_youth_application_creator_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"], ["app_user.id"], name=op.f("fk_youth_application_handler_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_youth_application")),
        sa.UniqueConstraint(
            "activation_token_hash", name=op.f("uq_youth_application_activation_token_hash")
        ),
    )
    with op.batch_alter_table("youth_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_youth_application_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_youth_application_email_index"), ["email_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_youth_application_hetu_index"), ["hetu_index"], unique=False
        )
        batch_op.create_index(
            "ix_youth_application_queue", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_youth_application_year"), ["year"], unique=False)
        batch_op.create_index(
            "uq_youth_application_live_email",
            ["year", "email_index"],
            unique=True,
            postgresql_where=sa.text("status NOT IN ('rejected', 'expired')"),
            sqlite_where=sa.text("status NOT IN ('rejected', 'expired')"),
        )
        batch_op.create_index(
            "uq_youth_application_live_hetu",
            ["year", "hetu_index"],
            unique=True,
            postgresql_where=sa.text("status NOT IN ('rejected', 'expired')"),
            sqlite_where=sa.text("status NOT IN ('rejected', 'expired')"),
        )

    op.create_table(
        "summer_voucher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("youth_application_id", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.BigInteger(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["youth_application_id"],
            ["youth_application.id"],
            name=op.f("fk_summer_voucher_youth_application_id_youth_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summer_voucher")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_summer_voucher_serial_number")),
        sa.UniqueConstraint(
            "youth_application_id", name=op.f("uq_summer_voucher_youth_application_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("summer_voucher")
    with op.batch_alter_table("youth_application", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_youth_application_live_hetu",
            postgresql_where=sa.text("status NOT IN ('rejected', 'expired')"),
            sqlite_where=sa.text("status NOT IN ('rejected', 'expired')"),
        )
        batch_op.drop_index(
            "uq_youth_application_live_email",
            postgresql_where=sa.text("status NOT IN ('rejected', 'expired')"),
            sqlite_where=sa.text("status NOT IN ('rejected', 'expired')"),
        )
        batch_op.drop_index(batch_op.f("ix_youth_application_year"))
        batch_op.drop_index("ix_youth_application_queue")
        batch_op.drop_index(batch_op.f("ix_youth_application_hetu_index"))
        batch_op.drop_index(batch_op.f("ix_youth_application_email_index"))
        batch_op.drop_index(batch_op.f("ix_youth_application_created_at"))

    op.drop_table("youth_application")
    op.drop_table("summer_voucher_year")
    op.drop_table("summer_voucher_school")
