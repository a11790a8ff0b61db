"""The one way a Helsinki-lisä application changes status: the transition table is checked, the
update is conditional on the status the caller saw (two staff acting at once: one wins, the
other gets 409), and the change lands on the application's history (the timeline) and in the
audit log, all in the caller's transaction.

Also the sequential application number (H20), handed out by a counter row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.auth.models import User
from app.db import utcnow
from app.security import Actor
from app.state_machine import apply_transition
from app.subsidies.models import Application, ApplicationStatus, Counter, StatusEvent
from app.subsidies.transitions import TRANSITIONS

APPLICATION_NUMBER = "subsidy_application_number"


def actor_user_id(actor: Actor) -> int | None:
    return int(actor.user_id) if actor.user_id and actor.user_id.isdigit() else None


def actor_name(session: Session, actor: Actor) -> str:
    user_id = actor_user_id(actor)
    user = session.get(User, user_id) if user_id is not None else None
    return (user.name if user and user.name else None) or "—"


def move(
    session: Session,
    *,
    application: Application,
    target: ApplicationStatus,
    actor: Actor,
    role: str,
    comment: str | None = None,
    guards: Iterable[Callable[[Any], None]] = (),
    stamps: Mapping[str, Any] | None = None,
) -> tuple[ApplicationStatus, ApplicationStatus]:
    """Apply one transition of the table as `role` and record it; returns (old, new)."""
    old, new = apply_transition(
        session,
        obj=application,
        table=TRANSITIONS,
        target=target,
        actor=actor,
        role=role,
        target_type="subsidy_application",
        guards=guards,
        stamps={"updated_at": utcnow(), **(stamps or {})},
    )
    session.add(
        StatusEvent(
            application_id=application.id or 0,
            from_status=old,
            to_status=new,
            actor_id=actor_user_id(actor),
            actor_name=actor_name(session, actor),
            actor_is_staff=actor.kind == "staff",
            comment=comment,
        )
    )
    session.flush()
    return old, new


def next_application_number(session: Session) -> int:
    """The next number: the row lock (PostgreSQL) or the write lock (SQLite) serialises takers."""
    table: sa.Table = Counter.__table__  # type: ignore[attr-defined]
    number = session.execute(
        sa.update(table)
        .where(table.c.name == APPLICATION_NUMBER)
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    ).scalar_one()
    return int(number)
