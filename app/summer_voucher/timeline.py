"""Status changes on the timeline of a youth application or a claim (K53). Notes are written by
claim_handling.py; both kinds live in one table and are read newest first.

The actor's name is copied at the time: the timeline outlives changes to (or removal of) the
user. The youth and the system have no user row; they show as "—".
"""

from __future__ import annotations

from sqlmodel import Session

from app.auth.models import User
from app.security import Actor
from app.summer_voucher.models import TimelineEntry, TimelineKind


def actor_user_id(actor: Actor) -> int | None:
    return int(actor.user_id) if actor.user_id and actor.user_id.isdigit() else None


def actor_name(session: Session, actor: Actor) -> str:
    user_id = actor_user_id(actor)
    user = session.get(User, user_id) if user_id is not None else None
    return (user.name if user and user.name else None) or "—"


def add_status_event(
    session: Session,
    *,
    old: str,
    new: str,
    actor: Actor,
    claim_id: int | None = None,
    youth_application_id: int | None = None,
    content: str | None = None,
) -> None:
    """One status change of exactly one target, in the caller's transaction."""
    session.add(
        TimelineEntry(
            claim_id=claim_id,
            youth_application_id=youth_application_id,
            kind=TimelineKind.status,
            actor_id=actor_user_id(actor),
            actor_name=actor_name(session, actor),
            from_status=old,
            to_status=new,
            content=content,
        )
    )
    session.flush()
