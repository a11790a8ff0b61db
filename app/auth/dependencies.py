"""Route access policies for employers and staff, on top of the server-side session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.auth import service
from app.auth.models import User, UserKind, UserSession
from app.config import Settings
from app.deps import SessionDep
from app.errors import LoginRequired, OrganisationNotChosen, PermissionDenied, StaffLoginRequired
from app.security import Actor, access_policy


@dataclass(frozen=True)
class Auth:
    """The logged-in person of this request, their session and the actor for services."""

    session: UserSession
    user: User
    actor: Actor


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix needs Secure, which needs HTTPS: production only.
    return "__Host-portal_session" if settings.is_production else "portal_session"


def session_policy(settings: Settings) -> service.SessionPolicy:
    return service.SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )


def current_auth(request: Request, db: Session) -> Auth | None:
    """The live session of the request's cookie, loaded once per request."""
    if hasattr(request.state, "auth"):
        cached: Auth | None = request.state.auth
        return cached
    settings: Settings = request.app.state.settings
    token = request.cookies.get(session_cookie_name(settings))
    auth: Auth | None = None
    if token:
        found = service.load(db, token=token, policy=session_policy(settings))
        if found.user_session is not None and found.user is not None:
            auth = Auth(
                session=found.user_session,
                user=found.user,
                actor=service.actor_for(found.user_session, found.user),
            )
        if found.changed:
            db.commit()  # the touch, or the end of a timed-out session
    request.state.auth = auth
    return auth


def deny(request: Request, db: Session, auth: Auth) -> PermissionDenied:
    """Record the refused attempt (in a transaction of its own) and return the error to raise."""
    db.rollback()
    # The rollback expired every loaded row. The error page shows who is logged in and is made
    # after the request's session has closed, when an expired row can no longer be loaded.
    db.refresh(auth.session)
    db.refresh(auth.user)
    service.record_denied(db, actor=auth.actor, path=request.url.path, method=request.method)
    db.commit()
    return PermissionDenied()


def _employer(request: Request, db: Session, *, need_organisation: bool) -> Auth:
    auth = current_auth(request, db)
    if auth is None:
        raise LoginRequired()
    if auth.session.kind != UserKind.employer:
        raise deny(request, db, auth)
    if need_organisation and not auth.session.business_id:
        raise OrganisationNotChosen()
    return auth


@access_policy("employer")
def require_employer(request: Request, db: SessionDep) -> Auth:
    """An employer acting for a chosen organisation (business id)."""
    return _employer(request, db, need_organisation=True)


@access_policy("employer-login")
def require_employer_login(request: Request, db: SessionDep) -> Auth:
    """A logged-in employer who may not have chosen an organisation yet."""
    return _employer(request, db, need_organisation=False)


def require_staff(*roles: str) -> Callable[[Request, Session], Auth]:
    """Staff holding any of `roles` (no roles named: any staff role)."""

    @access_policy("staff:" + (",".join(sorted(roles)) or "any"))
    def dependency(request: Request, db: SessionDep) -> Auth:
        auth = current_auth(request, db)
        if auth is None:
            raise StaffLoginRequired()
        if auth.session.kind != UserKind.staff:
            raise deny(request, db, auth)
        held = auth.session.role_set
        if not held or (roles and held.isdisjoint(roles)):
            raise deny(request, db, auth)
        return auth

    return dependency


require_any_staff = require_staff()
require_staff_admin = require_staff("admin")

EmployerAuth = Annotated[Auth, Depends(require_employer)]
EmployerLoginAuth = Annotated[Auth, Depends(require_employer_login)]
StaffAuth = Annotated[Auth, Depends(require_any_staff)]
StaffAdminAuth = Annotated[Auth, Depends(require_staff_admin)]
