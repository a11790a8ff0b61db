"""Staff back office: the home page and the staff admin's session management."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service as auth_service
from app.auth.dependencies import StaffAdminAuth, StaffAuth, require_staff_admin, session_policy
from app.deps import SessionDep
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin", name="admin_home")
def admin_home(request: Request, auth: StaffAuth) -> Response:
    return render(request, "admin/home.html", {"roles": sorted(auth.session.role_set)})


@router.get("/admin/sessions", name="admin_sessions")
def admin_sessions(request: Request, auth: StaffAdminAuth, db: SessionDep) -> Response:
    """Live sessions of every user, for ending a user's sessions (e.g. a lost laptop)."""
    sessions = auth_service.active_sessions(db, policy=session_policy(request.app.state.settings))
    return render(request, "admin/sessions.html", {"sessions": sessions, "me": auth.user.id})


@router.get(
    "/admin/users/{user_id}/end-sessions",
    name="admin_end_sessions_confirm",
    dependencies=[Depends(require_staff_admin)],
)
def admin_end_sessions_confirm(request: Request, user_id: int) -> Response:
    """Ending someone's sessions logs them out at once: ask first."""
    return render(request, "admin/end_sessions_confirm.html", {"user_id": user_id})


@router.post("/admin/users/{user_id}/end-sessions", name="admin_end_sessions")
def admin_end_sessions(
    request: Request, user_id: int, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    auth_service.end_user_sessions(db, user_id=user_id, actor=auth.actor)
    db.commit()
    return RedirectResponse(request.url_for("admin_sessions").path, status_code=303)
