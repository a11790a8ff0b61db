"""Login and logout for employers (/login) and staff (/admin/login), organisation choice,
and OIDC back-channel logout."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

import httpx
import joserfc.errors
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuthError
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlmodel import Session

from app import audit
from app.audit import Outcome
from app.auth import service
from app.auth.dependencies import (
    Auth,
    EmployerLoginAuth,
    current_auth,
    session_cookie_name,
    session_policy,
)
from app.auth.mandates import ClaimsMandateSource, MandateUnavailable, Organisation, SuomiFiClient
from app.auth.models import EndReason, UserKind, UserSession
from app.auth.oidc import claims_options, client
from app.companies import service as companies
from app.config import Settings
from app.deps import SessionDep
from app.errors import ServiceUnavailable
from app.i18n import N_, current_language, gettext
from app.logs import get_logger
from app.security import ANONYMOUS, Actor, Anonymous, csrf_exempt, safe_local_path
from app.templating import render

log = get_logger("app.auth")
router = APIRouter(dependencies=[Anonymous], include_in_schema=False)
employer_router = APIRouter(include_in_schema=False)

LOGIN_NEXT = "login_next"
SUOMIFI_SESSION = "suomifi_session"  # DVV's session id between register and the roles query
LOGOUT_TOKEN_MAX_AGE = 300  # seconds
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Authlib 1.9 validates ID tokens with joserfc underneath, whose errors are its own.
LOGIN_ERRORS = (
    OAuthError,
    AuthlibBaseError,
    JoseError,
    joserfc.errors.JoseError,
    httpx.HTTPError,
    KeyError,
    ValueError,
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = _settings(request)
    response.set_cookie(
        session_cookie_name(settings),
        token,
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
        path="/",
        max_age=settings.session_absolute_hours * 3600,
    )


def _clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(session_cookie_name(_settings(request)), path="/")


async def _start_login(
    request: Request, name: str, next_path: str | None, default: str
) -> Response:
    request.session[LOGIN_NEXT] = safe_local_path(next_path, default)
    callback = request.url_for("employer_callback" if name == "employer" else "staff_callback")
    try:
        response: Response = await client(request.app.state.oauth, name).authorize_redirect(
            request, str(callback), ui_locales=current_language()
        )
    except LOGIN_ERRORS as exc:
        log.error("login_provider_unavailable", provider=name, error=type(exc).__name__)
        raise ServiceUnavailable(
            N_("The login service is not available right now. Try again in a moment.")
        ) from exc
    return response


def _login_failed(request: Request, db: Session, *, kind: str, reason: str) -> Response:
    log.warning("login_failed", kind=kind, reason=reason)
    audit.record(
        db,
        actor=Actor(kind=kind),
        action="login.failed",
        target_type="login",
        outcome=Outcome.failure,
        detail=reason,
    )
    db.commit()
    retry = "/login" if kind == UserKind.employer else "/admin/login"
    return render(request, "auth/login_failed.html", {"retry": retry}, status_code=400)


async def _finish_oidc(
    request: Request, name: str, issuer: str
) -> tuple[dict[str, Any], str | None]:
    """Exchange the code and validate the ID token (signature, iss, aud, exp, nonce, state, PKCE)."""
    oauth_client = client(request.app.state.oauth, name)
    token = await oauth_client.authorize_access_token(
        request, claims_options=claims_options(issuer)
    )
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise ValueError("no ID token")
    try:
        extra = await oauth_client.userinfo(token=token)
    except LOGIN_ERRORS as exc:
        # The verified ID token is enough to log in; the userinfo claims only add to it.
        log.warning("userinfo_unavailable", provider=name, error=type(exc).__name__)
        extra = {}
    if extra and extra.get("sub") == claims["sub"]:
        claims = {**extra, **claims}  # the signed ID token wins where both say something
    return claims, token.get("id_token")


@router.get("/login", name="employer_login")
async def employer_login(request: Request, next: str | None = None) -> Response:
    """Start the employer's strong identification; the page language goes along (ui_locales)."""
    return await _start_login(request, "employer", next, "/employer")


@router.get("/admin/login", name="staff_login")
async def staff_login(request: Request, next: str | None = None) -> Response:
    return await _start_login(request, "staff", next, "/admin")


def _record_mandate_query(
    db: Session,
    *,
    actor: Actor,
    user_id: int | None,
    source: str,
    organisations: Sequence[Organisation] = (),
    failure: MandateUnavailable | None = None,
) -> None:
    """Every mandate query and its result goes to the audit log (DVV requires it for 5 years)."""
    detail: dict[str, Any] = {"source": source}
    if failure is not None:
        detail |= {
            "reason": failure.reason,
            "operation": failure.operation,
            "request_id": failure.request_id,
        }
    else:
        detail["organisations"] = [
            {"business_id": o.business_id, "roles": list(o.roles), "complete": o.complete}
            for o in organisations
        ]
    audit.record(
        db,
        actor=actor,
        action="mandate.query",
        target_type="user",
        target_id=user_id,
        outcome=Outcome.failure if failure else Outcome.success,
        detail=json.dumps(detail),
    )


def _continue_with(
    request: Request,
    db: Session,
    row: UserSession,
    actor: Actor,
    organisations: Sequence[Organisation],
) -> str:
    """Where an employer goes once their organisations are known: straight on with one, to the
    choice with several, to the explanation with none."""
    service.set_organisations(
        db, user_session=row, organisations=[asdict(o) for o in organisations]
    )
    next_path = str(request.session.pop(LOGIN_NEXT, "/employer"))
    if len(organisations) == 1:
        _act_for(request, db, row, actor, organisations[0].business_id, organisations[0].name)
        return next_path
    if organisations:
        return f"/employer/organisations?{urlencode({'next': next_path})}"
    return "/employer/no-organisations"


def _complete_employer_login(
    request: Request, db: Session, claims: Mapping[str, Any], id_token: str | None
) -> str:
    """Create the user and a fresh session, then find the organisations: from the token's claims,
    or through Suomi.fi e-Authorizations (the browser goes to its selection page next).
    Returns where to go next."""
    settings = _settings(request)
    user = service.upsert_user(
        db,
        kind=UserKind.employer,
        issuer=settings.employer_oidc_issuer,
        subject=str(claims["sub"]),
        name=claims.get("name"),
        email=claims.get("email"),
    )
    actor = Actor(kind="employer", user_id=str(user.id), provider=user.issuer)
    row, token = service.start_session(
        db,
        user=user,
        policy=session_policy(settings),
        provider_sid=claims.get("sid"),
        id_token=id_token,
        previous_token=request.cookies.get(session_cookie_name(settings)),
    )
    audit.record(db, actor=actor, action="login.success", target_type="user", target_id=user.id)
    request.state.new_session_token = token
    if settings.mandate_source == "suomifi":
        destination = _start_suomifi(request, db, row, actor, claims)
    else:
        try:
            organisations = ClaimsMandateSource().organisations(claims=claims)
        except MandateUnavailable as exc:
            _record_mandate_query(db, actor=actor, user_id=user.id, source="claims", failure=exc)
            service.end(db, user_session=row, reason=EndReason.logout)
            db.commit()
            raise
        _record_mandate_query(
            db, actor=actor, user_id=user.id, source="claims", organisations=organisations
        )
        destination = _continue_with(request, db, row, actor, organisations)
    db.commit()
    return destination


def _start_suomifi(
    request: Request, db: Session, row: UserSession, actor: Actor, claims: Mapping[str, Any]
) -> str:
    """Register the person with e-Authorizations (the identity code goes only there, never to our
    database) and send the browser to DVV's page where they pick the organisation."""
    mandates: SuomiFiClient = request.app.state.mandate_client
    hetu = claims.get("national_id_num")
    try:
        if not isinstance(hetu, str) or not hetu:
            raise MandateUnavailable("register", "bad_response")
        registered = mandates.register(hetu)
    except (MandateUnavailable, ValueError) as exc:
        failure = (
            exc
            if isinstance(exc, MandateUnavailable)
            else MandateUnavailable("register", "bad_response")
        )
        _record_mandate_query(
            db, actor=actor, user_id=row.user_id, source="suomifi", failure=failure
        )
        service.end(db, user_session=row, reason=EndReason.logout)
        db.commit()
        raise failure from exc
    request.session[SUOMIFI_SESSION] = registered.session_id
    audit.record(
        db,
        actor=actor,
        action="mandate.register",
        target_type="user",
        target_id=row.user_id,
        detail=json.dumps({"request_id": registered.request_id}),
    )
    return mandates.authorize_url(
        registered.user_id, str(request.url_for("mandate_callback")), current_language()
    )


def _act_for(
    request: Request, db: Session, row: Any, actor: Actor, business_id: str, mandate_name: str
) -> None:
    settings = _settings(request)
    company = companies.ensure_company(
        db,
        business_id=business_id,
        fallback_name=mandate_name,
        register=request.app.state.company_register,
        association_forms=settings.association_company_forms,
        actor=actor,
    )
    service.choose_organisation(
        db, user_session=row, business_id=company.business_id, name=company.name
    )


@router.get("/auth/callback", name="employer_callback")
async def employer_callback(request: Request, db: SessionDep) -> Response:
    settings = _settings(request)
    try:
        claims, id_token = await _finish_oidc(request, "employer", settings.employer_oidc_issuer)
    except LOGIN_ERRORS as exc:
        return await run_in_threadpool(
            _login_failed, request, db, kind="employer", reason=type(exc).__name__
        )
    if not service.acr_satisfies(claims.get("acr"), settings.employer_acr_minimum):
        return await run_in_threadpool(_login_failed, request, db, kind="employer", reason="acr")
    try:
        destination = await run_in_threadpool(
            _complete_employer_login, request, db, claims, id_token
        )
    except MandateUnavailable:
        return _mandates_unavailable(request)
    response = RedirectResponse(destination, status_code=303)
    _set_session_cookie(request, response, request.state.new_session_token)
    return response


def _complete_staff_login(
    request: Request, db: Session, claims: Mapping[str, Any], id_token: str | None
) -> Response:
    settings = _settings(request)
    roles = service.staff_roles(
        claims, claim=settings.staff_roles_claim, groups=settings.staff_role_groups
    )
    user = service.upsert_user(
        db,
        kind=UserKind.staff,
        issuer=settings.staff_oidc_issuer,
        subject=str(claims["sub"]),
        name=claims.get("name"),
        email=claims.get("email"),
    )
    actor = Actor(kind="staff", user_id=str(user.id), provider=user.issuer, roles=roles)
    if not roles:
        audit.record(
            db,
            actor=actor,
            action="login.no_role",
            target_type="user",
            target_id=user.id,
            outcome=Outcome.denied,
        )
        db.commit()
        return render(
            request,
            "errors/403.html",
            {
                "status_code": 403,
                "title": gettext(N_("You do not have access to this page")),
                "message": gettext(
                    N_("Your account has no role in this service. Ask your supervisor for access.")
                ),
                "request_id": None,
            },
            status_code=403,
        )
    _row, token = service.start_session(
        db,
        user=user,
        policy=session_policy(settings),
        roles=roles,
        provider_sid=claims.get("sid"),
        id_token=id_token,
        previous_token=request.cookies.get(session_cookie_name(settings)),
        unit=service.staff_unit(claims, claim=settings.staff_unit_claim),
    )
    audit.record(db, actor=actor, action="login.success", target_type="user", target_id=user.id)
    db.commit()
    response = RedirectResponse(str(request.session.pop(LOGIN_NEXT, "/admin")), status_code=303)
    _set_session_cookie(request, response, token)
    return response


@router.get("/admin/auth/callback", name="staff_callback")
async def staff_callback(request: Request, db: SessionDep) -> Response:
    settings = _settings(request)
    try:
        claims, id_token = await _finish_oidc(request, "staff", settings.staff_oidc_issuer)
    except LOGIN_ERRORS as exc:
        return await run_in_threadpool(
            _login_failed, request, db, kind="staff", reason=type(exc).__name__
        )
    response: Response = await run_in_threadpool(
        _complete_staff_login, request, db, claims, id_token
    )
    return response


@router.post("/logout", name="logout")
async def logout(request: Request, db: SessionDep) -> Response:
    """End the session here, then at the provider (RP-initiated logout)."""
    auth: Auth | None = await run_in_threadpool(current_auth, request, db)
    destination = "/"
    if auth is not None:
        id_token = auth.session.id_token
        provider = "employer" if auth.session.kind == UserKind.employer else "staff"
        await run_in_threadpool(_end_for_logout, db, auth)
        try:
            metadata = await client(request.app.state.oauth, provider).load_server_metadata()
            end_session = metadata.get("end_session_endpoint")
        except LOGIN_ERRORS:
            end_session = None
        if end_session:
            params = {"post_logout_redirect_uri": str(request.url_for("landing"))}
            if id_token:
                params["id_token_hint"] = id_token
            destination = f"{end_session}?{urlencode(params)}"
    response = RedirectResponse(destination, status_code=303)
    _clear_session_cookie(request, response)
    request.session.clear()
    return response


def _end_for_logout(db: Session, auth: Auth) -> None:
    service.end(db, user_session=auth.session, reason=EndReason.logout)
    audit.record(db, actor=auth.actor, action="logout", target_type="user", target_id=auth.user.id)
    db.commit()


@router.post("/auth/backchannel-logout", name="backchannel_logout")
@csrf_exempt
async def backchannel_logout(request: Request, db: SessionDep) -> Response:
    """OIDC back-channel logout: the provider ends a login; its logout token is checked in full."""
    form = await request.form()
    token = form.get("logout_token")
    if not isinstance(token, str) or not token:
        return PlainTextResponse("No logout token", status_code=400)
    settings = _settings(request)
    # (issuer, audience) -> which of our clients; one provider may serve both (the test provider).
    clients = {
        (
            settings.employer_oidc_issuer.rstrip("/"),
            settings.employer_oidc_client_id,
        ): UserKind.employer,
        (settings.staff_oidc_issuer.rstrip("/"), settings.staff_oidc_client_id): UserKind.staff,
    }
    try:
        unverified = json.loads(_jwt_payload(token))
        issuer = str(unverified.get("iss", "")).rstrip("/")
        audiences = {aud: kind for (iss, aud), kind in clients.items() if iss == issuer}
        if not audiences:
            raise ValueError("unknown issuer")
        jwks = await client(request.app.state.oauth, next(iter(audiences.values()))).fetch_jwk_set()
        claims = jwt.decode(
            token,
            JsonWebKey.import_key_set(jwks),
            claims_options={
                "iss": {"essential": True, "value": str(unverified["iss"])},
                "aud": {"essential": True, "values": list(audiences)},
                "iat": {"essential": True},
            },
        )
        claims.validate(leeway=60)
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events or "nonce" in claims:
            raise ValueError("not a logout token")
        if not claims.get("sub") and not claims.get("sid"):
            raise ValueError("no sub or sid")
        if abs(int(claims["iat"]) - int(time.time())) > LOGOUT_TOKEN_MAX_AGE:
            raise ValueError("stale logout token")
        aud = claims["aud"]
        kind = audiences[aud if isinstance(aud, str) else next(a for a in aud if a in audiences)]
    except (*LOGIN_ERRORS, TypeError, StopIteration) as exc:
        log.warning(
            "backchannel_logout_refused", error=type(exc).__name__, description=str(exc)[:200]
        )
        return PlainTextResponse("Invalid logout token", status_code=400)
    ended = await run_in_threadpool(
        _end_backchannel, db, issuer, kind, claims.get("sub"), claims.get("sid")
    )
    log.info("backchannel_logout", sessions_ended=ended)
    return PlainTextResponse("OK", headers={"Cache-Control": "no-store"})


def _jwt_payload(token: str) -> bytes:
    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def _end_backchannel(
    db: Session, issuer: str, kind: UserKind, subject: str | None, sid: str | None
) -> int:
    ended = service.end_for_provider_logout(db, issuer=issuer, kind=kind, subject=subject, sid=sid)
    audit.record(
        db,
        actor=ANONYMOUS,
        action="logout.backchannel",
        target_type="session",
        detail=f"ended={ended}",
    )
    db.commit()
    return ended


def _mandates_unavailable(request: Request) -> Response:
    return render(
        request,
        "auth/login_failed.html",
        {
            "retry": "/login",
            "reason": gettext(
                N_("The Suomi.fi e-Authorizations service did not answer. Try again in a moment.")
            ),
        },
        status_code=503,
    )


@employer_router.get("/auth/mandates/callback", name="mandate_callback")
def mandate_callback(
    request: Request,
    auth: EmployerLoginAuth,
    db: SessionDep,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    """Back from DVV's selection page: fetch the chosen organisations and the person's roles."""
    mandates: SuomiFiClient = request.app.state.mandate_client
    session_id = request.session.pop(SUOMIFI_SESSION, None)
    redirect_uri = str(request.url_for("mandate_callback"))
    try:
        if error or not code or not session_id:
            raise MandateUnavailable("authorize", "bad_response")
        access_token = mandates.exchange_code(code, redirect_uri)
        roles = mandates.organization_roles(str(session_id), access_token)
    except MandateUnavailable as exc:
        _record_mandate_query(
            db, actor=auth.actor, user_id=auth.user.id, source="suomifi", failure=exc
        )
        db.commit()
        return _mandates_unavailable(request)
    _record_mandate_query(
        db,
        actor=auth.actor,
        user_id=auth.user.id,
        source="suomifi",
        organisations=roles.organisations,
    )
    destination = _continue_with(request, db, auth.session, auth.actor, roles.organisations)
    db.commit()
    return RedirectResponse(destination, status_code=303)


# --- Organisation choice (employer logged in, organisation not necessarily chosen) -------------


@employer_router.get("/employer/organisations", name="choose_organisation")
def choose_organisation_form(
    request: Request, auth: EmployerLoginAuth, next: str | None = None
) -> Response:
    organisations = auth.session.organisations or []
    if not organisations:
        return RedirectResponse("/employer/no-organisations", status_code=303)
    return render(
        request,
        "auth/choose_organisation.html",
        {
            "organisations": organisations,
            "current": auth.session.business_id,
            "next": safe_local_path(next, "/employer"),
            "errors": {},
        },
    )


@employer_router.post("/employer/organisations", name="choose_organisation_send")
async def choose_organisation(
    request: Request, auth: EmployerLoginAuth, db: SessionDep
) -> Response:
    form = await request.form()
    business_id = form.get("business_id")
    next_path = safe_local_path(str(form.get("next") or ""), "/employer")
    organisation = service.organisation_of(auth.session, str(business_id or ""))
    if organisation is None:
        # Not among this person's mandates: the same answer as for an unknown id.
        organisations = auth.session.organisations or []
        return render(
            request,
            "auth/choose_organisation.html",
            {
                "organisations": organisations,
                "current": auth.session.business_id,
                "next": next_path,
                "errors": {"business_id": gettext(N_("Choose one of the organisations."))},
            },
            status_code=422,
        )
    await run_in_threadpool(_choose, request, db, auth, organisation)
    return RedirectResponse(next_path, status_code=303)


def _choose(request: Request, db: Session, auth: Auth, organisation: Mapping[str, Any]) -> None:
    _act_for(
        request,
        db,
        auth.session,
        auth.actor,
        str(organisation["business_id"]),
        str(organisation["name"]),
    )
    audit.record(
        db,
        actor=auth.actor,
        action="organisation.choose",
        target_type="company",
        target_id=organisation["business_id"],
    )
    db.commit()


@employer_router.get("/employer/no-organisations", name="no_organisations")
def no_organisations(request: Request, auth: EmployerLoginAuth) -> Response:
    if auth.session.organisations:
        return RedirectResponse("/employer/organisations", status_code=303)
    return render(request, "auth/no_organisations.html")
