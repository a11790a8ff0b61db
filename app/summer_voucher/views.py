"""Kesäseteli pages for young people (no login): start, application, activation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from app.db import utcnow
from app.deps import SessionDep, SettingsDep, lock_at_first_write
from app.errors import AppError
from app.forms import parse_form
from app.i18n import current_language, gettext
from app.ratelimit import limited
from app.security import Anonymous
from app.summer_voucher import service
from app.summer_voucher.errors import PleaseRecheck
from app.summer_voucher.schemas import (
    AdditionalInfoIn,
    YouthApplicationIn,
    additional_info_reason_names,
    target_group_names,
)
from app.templating import render

router = APIRouter(prefix="/summer-voucher", dependencies=[Anonymous], include_in_schema=False)

LABEL_IDS = (
    "first_name",
    "last_name",
    "hetu",
    "postcode",
    "school",
    "unlisted_school",
    "target_group",
    "phone",
    "email",
    "terms_accepted",
)


@router.get("", name="sv_start")
def start(request: Request, db: SessionDep) -> Response:
    """Who can get a voucher this year and what it is worth, or that applying is not open."""
    today = utcnow().astimezone(service.HELSINKI).date()
    config = service.open_configuration(db, today=today)
    terms = service.voucher_terms(db, year=today.year) if config else None
    return render(
        request,
        "summer_voucher/start.html",
        {"config": config, "terms": terms, "target_group_names": target_group_names()},
    )


def _form(
    request: Request,
    db: SessionDep,
    values: dict[str, object],
    errors: dict[str, str],
    *,
    status: int = 200,
    recheck: bool = False,
) -> Response:
    today = utcnow().astimezone(service.HELSINKI).date()
    config = service.open_configuration(db, today=today)
    if config is None:
        return render(
            request, "summer_voucher/not_open.html", status_code=409 if status != 200 else 200
        )
    names = target_group_names()
    return render(
        request,
        "summer_voucher/apply.html",
        {
            "values": values,
            "errors": errors,
            "recheck": recheck,
            "schools": [s.name for s in service.schools(db)],
            "target_groups": [(g, names[g]) for g in config.target_groups],
        },
        status_code=status,
    )


@router.get("/apply", name="sv_apply")
def apply_form(request: Request, db: SessionDep) -> Response:
    return _form(request, db, {}, {})


async def _posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (Starlette keeps it for the request), so that
    the route itself can be synchronous."""
    return await request.form()


# The routes that use the database are synchronous: FastAPI runs them in its thread pool. An
# async route would wait for the database, and for SQLite's write lock, on the event loop and
# hold up every other request of the worker meanwhile.
FormDep = Annotated[FormData, Depends(_posted_form)]


@router.post("/apply", name="sv_apply_send", dependencies=[limited("youth_apply")])
@lock_at_first_write  # the register query runs between the checks and the insert
def apply_send(request: Request, db: SessionDep, form: FormDep) -> Response:
    result = parse_form(YouthApplicationIn, form)
    if result.data is None:
        return _form(request, db, result.values, result.errors, status=422)
    now = utcnow()
    config = service.open_configuration(db, today=now.astimezone(service.HELSINKI).date())
    if config is None:
        return render(request, "summer_voucher/not_open.html", status_code=409)
    try:
        submitted = service.apply(
            db,
            data=result.data,
            config=config,
            register=request.app.state.population_register,
            language=current_language(),
            now=now,
        )
    # A refusal stores nothing: the session is closed without a commit.
    except PleaseRecheck as exc:
        return _form(
            request,
            db,
            result.values,
            {"last_name": gettext(exc.message)},
            status=422,
            recheck=True,
        )
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        return render(
            request,
            "summer_voucher/refused.html",
            {"code": exc.code, "message": gettext(exc.message)},
            status_code=exc.status_code,
        )
    link = str(request.url_for("sv_activate", token=submitted.activation_token))
    service.queue_activation_email(db, application=submitted.application, link=link)
    db.commit()
    return RedirectResponse(request.url_for("sv_thanks").path, status_code=303)


@router.get("/thanks", name="sv_thanks")
def thanks(request: Request) -> Response:
    return render(request, "summer_voucher/thanks.html", {"hours": 12})


@router.get("/activate/{token}", name="sv_activate")
def activate_confirm(request: Request, token: str) -> Response:
    """A button, not an action: mail scanners that open links must not activate applications."""
    return render(request, "summer_voucher/activate.html", {"token": token})


@router.post("/activate/{token}", name="sv_activate_send", dependencies=[limited("youth_activate")])
def activate(request: Request, token: str, db: SessionDep, settings: SettingsDep) -> Response:
    now = utcnow()
    config = service.configuration_for(db, year=now.astimezone(service.HELSINKI).year)
    result = service.activate(
        db, token=token, now=now, config=config, handler_email=settings.summer_voucher_handler_email
    )
    db.commit()
    status = 404 if result.outcome == service.ActivationOutcome.invalid else 200
    return _outcome(request, result.outcome.value, token, status=status)


def _outcome(
    request: Request,
    outcome: str,
    token: str,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "summer_voucher/activated.html",
        {
            "outcome": outcome,
            "token": token,
            "values": values or {},
            "errors": errors or {},
            "reasons": additional_info_reason_names(),
        },
        status_code=status,
    )


@router.post(
    "/additional-info/{token}", name="sv_additional_info", dependencies=[limited("youth_activate")]
)
def additional_info(
    request: Request, token: str, db: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The youth's reasons for manual handling, once (K19)."""
    result = parse_form(AdditionalInfoIn, form)
    if result.data is None:
        return _outcome(
            request,
            "additional_info",
            token,
            values=result.values,
            errors=result.errors,
            status=422,
        )
    base = str(request.base_url).rstrip("/")
    application = service.provide_additional_info(
        db,
        token=token,
        data=result.data,
        now=utcnow(),
        handler_email=settings.summer_voucher_handler_email,
        link_for=lambda application_id: f"{base}/admin/summer-voucher/youth/{application_id}",
    )
    if application is None:
        return _outcome(request, "already", token, status=409)
    db.commit()
    return _outcome(request, "info_received", token)
