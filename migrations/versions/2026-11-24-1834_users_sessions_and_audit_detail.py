"""Users keyed by (issuer, sub), server-side sessions, and a detail column on the audit log.

Revision ID: 4e143c98ffaf
Revises: c71cfe7dde90
Create Date: 2026-11-24 18:34:15.037685+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "4e143c98ffaf"
down_revision: str | None = "c71cfe7dde90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("name", app.crypto.EncryptedString(), nullable=True),
        sa.Column("email", app.crypto.EncryptedString(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('employer', 'staff')", name=op.f("ck_app_user_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint(
            "kind", "issuer", "subject", name=op.f("uq_app_user_kind_issuer_subject")
        ),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("roles", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("provider_sid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("id_token", app.crypto.EncryptedString(), nullable=True),
        sa.Column("organisations", sa.JSON(), nullable=True),
        sa.Column("business_id", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
        sa.Column("business_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.CheckConstraint("kind IN ('employer', 'staff')", name=op.f("ck_user_session_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_session_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_session_provider_sid"), ["provider_sid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    # A plain ADD COLUMN on both engines: no table copy, so the append-only triggers stay.
    op.add_column(
        "audit_event",
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    )


def downgrade() -> None:
    # DROP COLUMN without batch mode (SQLite >= 3.35 supports it): a batch copy of the table
    # would lose the audit log's append-only triggers.
    op.drop_column("audit_event", "detail")

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_session_provider_sid"))

    op.drop_table("user_session")
    op.drop_table("app_user")
