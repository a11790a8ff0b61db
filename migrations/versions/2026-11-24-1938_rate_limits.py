"""Rate-limit counters, shared by every worker: one row per (action and client hash, window).

Revision ID: ae0f2aa03e70
Revises: 0980749e6a86
Create Date: 2026-11-24 19:38:36.841937+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "ae0f2aa03e70"
down_revision: str | None = "0980749e6a86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_bucket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("window_start", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_bucket")),
        sa.UniqueConstraint(
            "key", "window_start", name=op.f("uq_rate_limit_bucket_key_window_start")
        ),
    )
    with op.batch_alter_table("rate_limit_bucket", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_bucket_window_start"), ["window_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_limit_bucket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_bucket_window_start"))

    op.drop_table("rate_limit_bucket")
