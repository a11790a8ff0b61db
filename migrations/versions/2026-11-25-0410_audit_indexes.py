"""Audit log viewer: an index on the action (exact and prefix search, newest first), and
TRUNCATE refused on PostgreSQL like UPDATE and DELETE.

The other filters of the viewer already have theirs (occurred_at, actor_id, business_id,
target_type + target_id; the id is the primary key). PostgreSQL gets `text_pattern_ops`, so a
prefix search (`action LIKE 'payment.%'`) uses the index whatever the database's collation, and
builds it CONCURRENTLY: every audited request inserts into this table, and a plain CREATE INDEX
would hold them all for as long as the build takes on a large log.

PostgreSQL's row triggers of the first migration refuse UPDATE and DELETE, but TRUNCATE fires
no row trigger: a statement trigger calling the same function refuses it too. (SQLite has no
TRUNCATE; its DELETE without WHERE runs the row trigger.)

SQLite: a plain CREATE INDEX, never batch mode: a batch-mode table copy would drop the audit
log's append-only triggers (2026-11-24-1812_audit_log_and_accessibility_feedback.py).

Revision ID: d5e3f7a9b2c4
Revises: c4d2e6f8a1b3
Create Date: 2026-11-25 04:10:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d5e3f7a9b2c4"
down_revision: str | None = "c4d2e6f8a1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_audit_event_action"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX,
                "audit_event",
                ["action", "id"],
                unique=False,
                postgresql_ops={"action": "text_pattern_ops"},
                postgresql_concurrently=True,
            )
        return
    op.create_index(INDEX, "audit_event", ["action", "id"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, table_name="audit_event", postgresql_concurrently=True)
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        return
    op.drop_index(INDEX, table_name="audit_event")
