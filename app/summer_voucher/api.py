"""Kesäseteli JSON API for young people: apply and confirm (the same rules as the pages)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.db import utcnow
from app.deps import SessionDep, SettingsDep, lock_at_first_write
from app.i18n import current_language
from app.ratelimit import limited
from app.security import Anonymous
from app.summer_voucher import service
from app.summer_voucher.errors import ApplicationNotOpen
from app.summer_voucher.schemas import YouthApplicationIn

router = APIRouter(
    prefix="/api/v1/summer-voucher", dependencies=[Anonymous], tags=["summer voucher"]
)


class YouthApplicationOut(BaseModel):
    """Only what the applicant may see: nothing from the population register is echoed."""

    status: str
    activation_link_valid_until: datetime


class ActivationOut(BaseModel):
    outcome: service.ActivationOutcome


@router.post(
    "/youth-applications",
    status_code=201,
    response_model=YouthApplicationOut,
    dependencies=[limited("youth_apply")],
)
@lock_at_first_write  # the register query runs between the checks and the insert
def apply(data: YouthApplicationIn, request: Request, db: SessionDep) -> YouthApplicationOut:
    """Send a youth application; the activation link goes to the e-mail address only."""
    now = utcnow()
    config = service.open_configuration(db, today=now.astimezone(service.HELSINKI).date())
    if config is None:
        raise ApplicationNotOpen()
    submitted = service.apply(
        db,
        data=data,
        config=config,
        register=request.app.state.population_register,
        language=current_language(),
        now=now,
    )
    link = str(request.url_for("sv_activate", token=submitted.activation_token))
    service.queue_activation_email(db, application=submitted.application, link=link)
    db.commit()
    return YouthApplicationOut(
        status=submitted.application.status,
        activation_link_valid_until=now + service.activation_validity(now),
    )


@router.post(
    "/activations/{token}", response_model=ActivationOut, dependencies=[limited("youth_activate")]
)
def activate(token: str, db: SessionDep, settings: SettingsDep) -> ActivationOut:
    """Confirm an application with the token of the e-mailed link."""
    now = utcnow()
    config = service.configuration_for(db, year=now.astimezone(service.HELSINKI).year)
    result = service.activate(
        db, token=token, now=now, config=config, handler_email=settings.summer_voucher_handler_email
    )
    db.commit()
    return ActivationOut(outcome=result.outcome)
