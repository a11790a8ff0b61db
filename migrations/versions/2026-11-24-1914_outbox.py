"""E-mail outbox: messages written with the change they report, sent and retried by a drain.

Addresses, subjects, bodies and attachments are encrypted (app.crypto); the drain finds due
messages through the (status, next_attempt_at) index.

Revision ID: 4b73fbe5bf9f
Revises: 4e143c98ffaf
Create Date: 2026-11-24 19:14:52.882616+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db
import app.notifications.models

revision: str = "4b73fbe5bf9f"
down_revision: str | None = "4e143c98ffaf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("to_address", app.crypto.EncryptedString(), nullable=False),
        sa.Column("bcc", app.crypto.EncryptedString(), nullable=True),
        sa.Column("subject", app.crypto.EncryptedString(), nullable=False),
        sa.Column("body_text", app.crypto.EncryptedString(), nullable=False),
        sa.Column("body_html", app.crypto.EncryptedString(), nullable=True),
        sa.Column("attachments", app.notifications.models.EncryptedJSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.CheckConstraint(
            "language IN ('fi', 'sv', 'en')", name=op.f("ck_outbox_message_language")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_message_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_status_next_attempt_at")

    op.drop_table("outbox_message")
