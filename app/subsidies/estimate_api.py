"""The public Helsinki-lisä estimate as JSON (POST /api/v1/subsidies/estimate): anonymous,
stateless, rate-limited, no personal data. The page /subsidies/estimate calls it from its script.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body

from app.db import utcnow
from app.errors import ValidationFailed
from app.ratelimit import limited
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
# Counted per client over the page's form and the API together (RATE_LIMITS in app/config.py).
RATE_LIMIT_ACTION = "subsidy_estimate"

router = APIRouter(prefix="/api/v1/subsidies", dependencies=[Anonymous], tags=["subsidies"])


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
    dependencies=[limited(RATE_LIMIT_ACTION)],
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
