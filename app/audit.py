"""The audit log: who read or changed what, written in the caller's transaction, append-only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from app.db import UTCDateTime, utcnow
from app.logs import request_id_var

if TYPE_CHECKING:
    from app.security import Actor


class Outcome(StrEnum):
    success = "success"
    denied = "denied"
    failure = "failure"


class AuditEvent(SQLModel, table=True):
    """One row per read or write of personal data, export, decision or denied attempt.

    Never holds personal data itself: targets are ids, changed fields are names only.
    UPDATE and DELETE are refused by database triggers (see the migration).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.CheckConstraint("outcome IN ('success', 'denied', 'failure')", name="outcome"),
        sa.Index("ix_audit_event_target", "target_type", "target_id"),
        # The audit log viewer: action exact or by prefix, newest first (migration d5e3f7a9b2c4).
        sa.Index(
            "ix_audit_event_action", "action", "id", postgresql_ops={"action": "text_pattern_ops"}
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    actor_kind: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=255, index=True)
    actor_roles: str | None = Field(default=None, max_length=255)
    actor_provider: str | None = Field(default=None, max_length=255)
    business_id: str | None = Field(default=None, max_length=9, index=True)
    action: str = Field(max_length=100)
    target_type: str = Field(max_length=50)
    target_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default=Outcome.success, max_length=10)
    fields: str | None = Field(default=None, max_length=2000)
    # Non-personal detail, e.g. a mandate query's request id and the business ids it returned.
    detail: str | None = Field(default=None, max_length=2000)


def _row(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object | None,
    outcome: Outcome,
    fields: Iterable[str],
    detail: str | None,
) -> dict[str, Any]:
    return {
        "request_id": request_id_var.get(),
        "actor_kind": actor.kind,
        "actor_id": actor.user_id,
        "actor_roles": ",".join(sorted(actor.roles)) or None,
        "actor_provider": actor.provider,
        "business_id": actor.business_id,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "outcome": outcome,
        "fields": ",".join(sorted(set(fields))) or None,
        "detail": detail[:2000] if detail else None,
    }


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object | None = None,
    outcome: Outcome = Outcome.success,
    fields: Iterable[str] = (),
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit row to `session`; it commits (or rolls back) with the change it describes."""
    event = AuditEvent(
        **_row(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            fields=fields,
            detail=detail,
        )
    )
    session.add(event)
    return event


_TABLE: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
# Without RETURNING: nothing reads the new row's id, and fetching it costs a result to process.
_INSERT = _TABLE.insert().inline()


def record_read(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object | None = None,
    fields: Iterable[str] = (),
    detail: str | None = None,
) -> None:
    """Write the audit row of a read of personal data at once, in the caller's transaction: it
    commits (or rolls back) with the request's transaction, as `record`'s rows do.

    A plain INSERT instead of an ORM object: a page that only reads has nothing else for the
    ORM's unit of work to flush, and building and flushing an object for one row costs more
    than the rest of a small page's database work."""
    row = _row(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=Outcome.success,
        fields=fields,
        detail=detail,
    )
    session.connection().execute(_INSERT, {"occurred_at": utcnow(), **row})
