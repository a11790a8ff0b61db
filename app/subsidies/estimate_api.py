"""The public Helsinki-lisä estimate as JSON (POST /api/v1/subsidies/estimate): anonymous,
stateless, rate-limited, no personal data. The page /subsidies/estimate calls it from its script.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Request

from app.db import utcnow
from app.deps import SessionDep
from app.errors import ValidationFailed
from app.ratelimit import Limit, client_of, hit
from app.security import Anonymous, csrf_exempt
from app.subsidies import calculator
from app.subsidies.estimate_schemas import (
    EXAMPLES,
    RESPONSE_EXAMPLE,
    VALIDATION_EXAMPLE,
    EstimateIn,
    EstimateOut,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
# Counted per client over the page's form and the API together. RATE_LIMITS may set
# "subsidy_estimate"; otherwise this default applies (the page's script asks once a pause in
# typing, so a person filling in the form stays far below it).
RATE_LIMIT_ACTION = "subsidy_estimate"
DEFAULT_RATE_LIMIT = (300, 600)

router = APIRouter(prefix="/api/v1/subsidies", dependencies=[Anonymous], tags=["subsidies"])


def estimate_rate_limit(request: Request, db: SessionDep) -> None:
    """The app's database-backed rate limiter, with this action's default when not configured."""
    per_window, window_seconds = request.app.state.settings.rate_limits.get(
        RATE_LIMIT_ACTION, DEFAULT_RATE_LIMIT
    )
    hit(
        db,
        limit=Limit(RATE_LIMIT_ACTION, per_window, window_seconds),
        client=client_of(request),
        now=utcnow(),
    )


def helsinki_today() -> date:
    """The estimate is made today, under the rules in force today in Helsinki."""
    return utcnow().astimezone(HELSINKI).date()


def estimate_of(
    data: calculator.CalculationInput, *, loc_prefix: tuple[str, ...] = ()
) -> calculator.CalculationResult:
    """The engine's result for today, or ValidationFailed with each problem at its field."""
    try:
        return calculator.calculate(data, calculation_date=helsinki_today())
    except calculator.CalculationError as exc:
        raise ValidationFailed(
            [{**error, "loc": (*loc_prefix, *error["loc"])} for error in exc.errors]
        ) from None


@router.post(
    "/estimate",
    name="api_subsidy_estimate",
    response_model=EstimateOut,
    dependencies=[Depends(estimate_rate_limit)],
    summary="Estimate the Helsinki benefit",
    responses={
        200: {"content": {"application/json": {"example": RESPONSE_EXAMPLE}}},
        422: {
            "description": "Invalid input: a message per field, in the request's language",
            "content": {"application/json": {"example": VALIDATION_EXAMPLE}},
        },
        429: {"description": "Too many requests from this client; see Retry-After"},
    },
)
# Exempt from the app-wide CSRF check: the estimate is anonymous and stateless. It reads no
# session or cookie and changes nothing (apart from the caller's own rate-limit counter), so a
# forged cross-site request gains nothing, while other services and scripts must be able to
# call it without first getting a session and its token.
@csrf_exempt
def estimate(data: Annotated[EstimateIn, Body(openapi_examples=EXAMPLES)]) -> EstimateOut:
    """The benefit the City would calculate for the employment, under the rules in force today.

    The rows give the amount per sub-period (the period is split where a pay subsidy or a
    training compensation starts or ends); the instalments when it would be paid (the first
    today); the rules every rule value used, with the day it took effect and its source. An
    estimate only: the City decides the amount when it handles the application."""
    return EstimateOut.of(estimate_of(data, loc_prefix=("body",)))
