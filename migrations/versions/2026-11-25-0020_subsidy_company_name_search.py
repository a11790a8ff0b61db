"""Helsinki-lisä staff search by a part of the company name: a trigram index on PostgreSQL.

Revision ID: 7c1d2e9a4b55
Revises: d6f310983d98
Create Date: 2026-11-25 00:20:00+00:00

pg_trgm is a trusted extension from PostgreSQL 13 on: the database owner may create it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c1d2e9a4b55"
down_revision: str | None = "d6f310983d98"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_subsidy_application_company_name",
        "subsidy_application",
        ["company_name"],
        postgresql_using="gin",
        postgresql_ops={"company_name": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_subsidy_application_company_name", table_name="subsidy_application")
