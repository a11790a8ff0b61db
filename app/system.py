"""Health, the no-op route that benchmarks compare against, and the API's CSRF token."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.logs import get_logger
from app.security import Anonymous, csrf_token

log = get_logger("app.system")
router = APIRouter(dependencies=[Anonymous])


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]


class PingOut(BaseModel):
    status: Literal["ok"] = "ok"


@router.get(
    "/healthz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "The database cannot be reached"}},
    tags=["system"],
)
def healthz(request: Request) -> JSONResponse:
    """Liveness and readiness: 200 after a real database query, 503 when the database is down."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        log.error("health_database_unavailable", error=type(exc).__name__)
        body = HealthOut(status="unavailable", database="unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(HealthOut(status="ok", database="ok").model_dump())


@router.get("/api/v1/ping", response_model=PingOut, tags=["system"])
async def ping() -> PingOut:
    """No-op JSON route: touches nothing, the baseline for benchmark ratios."""
    return PingOut()


class CsrfOut(BaseModel):
    csrf_token: str


@router.get("/api/v1/csrf", response_model=CsrfOut, tags=["system"])
def get_csrf_token(request: Request) -> CsrfOut:
    """The token to send as the X-CSRF-Token header with every unsafe API call of this session."""
    return CsrfOut(csrf_token=csrf_token(request))
