"""Companies: organisations employers act for, keyed by business id, with trade-register data.

Revision ID: c71cfe7dde90
Revises: 303fe5952b87
Create Date: 2026-11-24 18:15:30.961421+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "c71cfe7dde90"
down_revision: str | None = "303fe5952b87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("company_form", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("industry", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("street_address", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("is_association", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("register_refreshed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("business_id", name=op.f("uq_company_business_id")),
    )


def downgrade() -> None:
    op.drop_table("company")
