"""Identity use cases: users by (issuer, sub), server-side sessions, organisation choice, roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit
from app.audit import Outcome
from app.auth.models import EndReason, User, UserKind, UserSession
from app.db import utcnow
from app.security import Actor

STAFF_ROLES = ("handler", "decider", "payer", "admin", "tet")
# eIDAS levels of assurance, weakest first.
ACR_LEVELS = ("low", "substantial", "high")
# last_seen_at is written at most this often: an idle timeout of minutes needs no write per click.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def acr_satisfies(acr: Any, minimum: str) -> bool:
    """True when the login's assurance level is at least `minimum` (unknown levels fail)."""
    if not isinstance(acr, str):
        return False
    level = acr.rsplit("/", 1)[-1].lower()  # accept URIs ending in the level name
    if level not in ACR_LEVELS or minimum not in ACR_LEVELS:
        return False
    return ACR_LEVELS.index(level) >= ACR_LEVELS.index(minimum)


def staff_roles(
    claims: Mapping[str, Any], *, claim: str, groups: Mapping[str, str]
) -> frozenset[str]:
    """Portal roles from the provider's group claim, through the configured group -> role map."""
    raw = claims.get(claim) or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(
        groups[g] for g in raw if isinstance(g, str) and g in groups and groups[g] in STAFF_ROLES
    )


def staff_unit(claims: Mapping[str, Any], *, claim: str) -> str | None:
    """The city unit a staff member works in (their provider's department claim), if any."""
    raw = claims.get(claim)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if not isinstance(raw, str) or not raw.strip():
        return None
    return " ".join(raw.split())[:100]


def upsert_user(
    session: Session,
    *,
    kind: UserKind,
    issuer: str,
    subject: str,
    name: str | None,
    email: str | None,
) -> User:
    """The user for (issuer, sub), created at the first login; two first logins at once are fine."""
    statement = select(User).where(
        User.kind == kind, User.issuer == issuer, User.subject == subject
    )
    user = session.exec(statement).first()
    if user is None:
        try:
            with session.begin_nested():
                user = User(kind=kind, issuer=issuer, subject=subject)
                session.add(user)
        except IntegrityError:
            user = session.exec(statement).one()
    user.name = name
    user.email = email
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def start_session(
    session: Session,
    *,
    user: User,
    policy: SessionPolicy,
    roles: Iterable[str] = (),
    provider_sid: str | None = None,
    id_token: str | None = None,
    organisations: Sequence[Mapping[str, Any]] | None = None,
    previous_token: str | None = None,
    unit: str | None = None,
) -> tuple[UserSession, str]:
    """A new session with a new random id (rotation: the id held before login dies here)."""
    if previous_token:
        previous = session.exec(
            select(UserSession).where(UserSession.token_hash == token_hash(previous_token))
        ).first()
        if previous is not None and previous.ended_at is None:
            end(session, user_session=previous, reason=EndReason.rotated)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,  # type: ignore[arg-type]
        kind=user.kind,
        roles=",".join(sorted(roles)) or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        provider_sid=provider_sid,
        id_token=id_token,
        organisations=[dict(o) for o in organisations] if organisations is not None else None,
        unit=unit,
    )
    session.add(row)
    session.flush()
    return row, token


@dataclass(frozen=True)
class Loaded:
    """What a cookie value leads to: the live session and its user (both None when there is
    none), and whether the lookup wrote (a touch, or the end of a timed-out session), which the
    caller then commits."""

    user_session: UserSession | None
    user: User | None
    changed: bool


# Built once: every request of a logged-in person runs it, and building the statement costs
# about as much as SQLAlchemy's work to run it.
_LOAD = (
    select(UserSession, User)
    .join(User, col(User.id) == col(UserSession.user_id))
    .where(col(UserSession.token_hash) == sa.bindparam("token_hash"))
)


def load(session: Session, *, token: str, policy: SessionPolicy) -> Loaded:
    """The live session for a cookie value and its user, in one query; ends the session when a
    timeout has passed."""
    found = session.execute(_LOAD, {"token_hash": token_hash(token)}).first()
    if found is None or found[0].ended_at is not None:
        return Loaded(None, None, changed=False)
    row, user = found
    now = utcnow()
    if now >= row.expires_at:
        end(session, user_session=row, reason=EndReason.expired)
        return Loaded(None, None, changed=True)
    if now - row.last_seen_at >= policy.idle:
        end(session, user_session=row, reason=EndReason.idle)
        return Loaded(None, None, changed=True)
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.add(row)
        session.flush()
        return Loaded(row, user, changed=True)
    return Loaded(row, user, changed=False)


def end(session: Session, *, user_session: UserSession, reason: EndReason) -> None:
    user_session.ended_at = utcnow()
    user_session.end_reason = reason
    user_session.id_token = None  # no longer needed; personal data is not kept longer than that
    session.add(user_session)
    session.flush()


def end_for_provider_logout(
    session: Session, *, issuer: str, kind: UserKind, subject: str | None, sid: str | None
) -> int:
    """Back-channel logout: end the sessions of that provider session (sid) or user (sub)."""
    statement = (
        select(UserSession)
        .join(User, col(User.id) == col(UserSession.user_id))
        .where(User.issuer == issuer, User.kind == kind, col(UserSession.ended_at).is_(None))
    )
    if sid:
        statement = statement.where(UserSession.provider_sid == sid)
    if subject:
        statement = statement.where(User.subject == subject)
    rows = session.exec(statement).all()
    for row in rows:
        end(session, user_session=row, reason=EndReason.backchannel)
    return len(rows)


def set_organisations(
    session: Session, *, user_session: UserSession, organisations: Sequence[Mapping[str, Any]]
) -> None:
    """The organisations the mandate query gave for this login; the choice is made among these."""
    user_session.organisations = [dict(o) for o in organisations]
    session.add(user_session)
    session.flush()


def choose_organisation(
    session: Session, *, user_session: UserSession, business_id: str, name: str
) -> None:
    user_session.business_id = business_id
    user_session.business_name = name
    session.add(user_session)
    session.flush()


def organisation_of(user_session: UserSession, business_id: str) -> Mapping[str, Any] | None:
    """The organisation with this business id among those the mandate query gave, else None."""
    for organisation in user_session.organisations or []:
        if organisation.get("business_id") == business_id:
            return organisation
    return None


def actor_for(user_session: UserSession, user: User) -> Actor:
    return Actor(
        kind=user_session.kind,
        user_id=str(user.id),
        provider=user.issuer,
        roles=user_session.role_set,
        business_id=user_session.business_id,
    )


@dataclass(frozen=True)
class ActiveSession:
    session_id: int
    user_id: int
    kind: str
    name: str | None
    roles: str | None
    business_id: str | None
    created_at: datetime
    last_seen_at: datetime


def active_sessions(
    session: Session, *, policy: SessionPolicy, limit: int = 200
) -> list[ActiveSession]:
    """Live sessions for the staff admin, newest activity first (one query, no N+1)."""
    idle_cutoff = utcnow() - policy.idle
    rows = session.exec(
        select(UserSession, User)
        .join(User, col(User.id) == col(UserSession.user_id))
        .where(
            col(UserSession.ended_at).is_(None),
            col(UserSession.expires_at) > utcnow(),
            col(UserSession.last_seen_at) > idle_cutoff,
        )
        .order_by(col(UserSession.last_seen_at).desc())
        .limit(limit)
    ).all()
    return [
        ActiveSession(
            session_id=s.id,  # type: ignore[arg-type]
            user_id=u.id,  # type: ignore[arg-type]
            kind=s.kind,
            name=u.name,
            roles=s.roles,
            business_id=s.business_id,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
        )
        for s, u in rows
    ]


def end_user_sessions(session: Session, *, user_id: int, actor: Actor) -> int:
    """A staff admin ends every live session of one user."""
    rows = session.exec(
        select(UserSession).where(
            UserSession.user_id == user_id, col(UserSession.ended_at).is_(None)
        )
    ).all()
    for row in rows:
        end(session, user_session=row, reason=EndReason.admin)
    audit.record(
        session,
        actor=actor,
        action="session.end_all",
        target_type="user",
        target_id=user_id,
        fields=["sessions"],
    )
    return len(rows)


def record_denied(session: Session, *, actor: Actor, path: str, method: str) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"access.forbidden.{method.lower()}",
        target_type="route",
        target_id=path[:64],
        outcome=Outcome.denied,
    )


def count_live_sessions(session: Session) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(col(UserSession.ended_at).is_(None))
        ).scalar_one()
    )
