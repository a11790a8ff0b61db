"""The ASGI application: `app.main:app`, built by create_app(settings)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from app import crypto, error_handlers, i18n
from app.admin import audit as admin_audit
from app.admin import email_templates as admin_email_templates
from app.admin import reports as admin_reports
from app.admin import subsidies as admin_subsidies
from app.admin import summer_voucher as admin_summer_voucher
from app.admin import summer_voucher_claims as admin_summer_voucher_claims
from app.admin import summer_voucher_youth as admin_summer_voucher_youth
from app.admin import tet as admin_tet
from app.admin import views as admin_views
from app.auth import views as auth_views
from app.auth.mandates import SuomiFiClient
from app.auth.oidc import build_oauth
from app.cache import PublicPageCache
from app.companies import ytj
from app.config import Settings, UnsafeSettingsError, get_settings
from app.db import make_engine
from app.documents.storage import LocalFileStore
from app.employer import api as employer_api
from app.employer import views as employer_views
from app.logs import configure_logging
from app.middleware import RequestContextMiddleware
from app.notifications.config import MailSettings
from app.notifications.sender import make_sender
from app.notifications.worker import outbox_worker
from app.pages import api as pages_api
from app.pages import views as pages_views
from app.payments import api as payments_api
from app.payments import views as payments_views
from app.security import BodySizeLimitMiddleware, content_security_policy, verify_csrf
from app.subsidies import api as subsidy_api
from app.subsidies import decision_api as subsidy_decision_api
from app.subsidies import estimate_api as subsidies_estimate_api
from app.subsidies import estimate_views as subsidies_estimate_views
from app.subsidies import staff_api as subsidy_staff_api
from app.subsidies import views as subsidy_views
from app.summer_voucher import api as summer_voucher_api
from app.summer_voucher import claim_api as summer_voucher_claim_api
from app.summer_voucher import claim_views as summer_voucher_claim_views
from app.summer_voucher import population
from app.summer_voucher import staff_api as summer_voucher_staff_api
from app.summer_voucher import views as summer_voucher_views
from app.system import router as system_router
from app.templating import build_templates
from app.tet import api as tet_api
from app.tet import public_views as tet_public_views
from app.tet import views as tet_views

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class CachedStaticFiles(StaticFiles):
    """Vendored CSS and small scripts: cacheable for a day (pages themselves are never cached)."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = "public, max-age=86400"
        return response


_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Everything made while starting (modules, routes, templates, catalogs, rule tables) lives
    as long as the process: moved out of the collector's sight, a full collection no longer
    walks those hundreds of thousands of objects (pauses of up to ~100 ms under load). Once
    per process: a test run starts many apps, whose objects must stay collectable."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    reasons = settings.unsafe_reasons()
    if reasons:
        raise UnsafeSettingsError(
            "Refusing to start in production:\n" + "\n".join(f"- {r}" for r in reasons)
        )
    configure_logging(level=settings.log_level, json=settings.log_json)
    crypto.configure(settings)
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = None
        i18n.catalogs()  # compiled now, not by the first request (about a second)
        _freeze_startup_objects()
        if settings.outbox_worker:
            # Sends queued e-mail from this process (make run); production runs it as its own job.
            worker = asyncio.create_task(
                outbox_worker(engine, make_sender(MailSettings()), stop=stop)
            )
        yield
        stop.set()
        if worker is not None:
            await worker
        engine.dispose()
        app.state.company_register.close()
        if app.state.mandate_client is not None:
            app.state.mandate_client.close()

    app = FastAPI(
        title="Helsinki employer e-services",
        version="0.1.0",
        debug=False,  # tracebacks never reach users, whatever DEBUG says
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json documents the API
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.templates = build_templates(
        strict=not settings.is_production, auto_reload=settings.debug
    )
    app.state.oauth = build_oauth(settings)
    app.state.company_register = ytj.from_settings(settings)
    app.state.population_register = population.from_settings(settings)
    app.state.file_store = LocalFileStore(settings.files_dir)
    app.state.mandate_client = (
        SuomiFiClient.from_settings(settings) if settings.mandate_source == "suomifi" else None
    )

    error_handlers.install(app)
    app.include_router(system_router)
    app.include_router(pages_api.router)
    app.include_router(pages_views.router)
    app.include_router(auth_views.router)
    app.include_router(auth_views.employer_router)
    app.include_router(employer_views.router)
    app.include_router(employer_api.router)
    app.include_router(admin_views.router)
    app.include_router(admin_audit.router)
    app.include_router(admin_email_templates.router)
    app.include_router(admin_reports.router)
    app.include_router(admin_summer_voucher.router)
    app.include_router(admin_summer_voucher.exports_router)
    app.include_router(admin_summer_voucher_youth.router)
    app.include_router(admin_summer_voucher_claims.router)
    app.include_router(admin_tet.router)
    app.include_router(payments_views.router)
    app.include_router(payments_api.router)
    app.include_router(admin_subsidies.decision_router)
    app.include_router(admin_subsidies.router)
    app.include_router(subsidy_staff_api.decision_router)
    app.include_router(subsidy_staff_api.router)
    app.include_router(summer_voucher_views.router)
    app.include_router(summer_voucher_claim_views.router)
    app.include_router(summer_voucher_claim_api.router)
    app.include_router(summer_voucher_api.router)
    app.include_router(summer_voucher_staff_api.router)
    app.include_router(subsidies_estimate_views.router)
    app.include_router(subsidies_estimate_api.router)
    app.include_router(subsidy_views.terms_router)
    app.include_router(subsidy_views.router)
    app.include_router(subsidy_api.terms_router)
    app.include_router(subsidy_api.router)
    app.include_router(subsidy_decision_api.router)
    app.include_router(tet_views.router)
    app.include_router(tet_public_views.router)
    app.include_router(tet_api.router)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: the request context wraps everything.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        # Secure cookies (and so the __Host- prefix) need HTTPS: production only, as tests speak http.
        session_cookie="__Host-portal_state" if settings.is_production else "portal_state",
        same_site="lax",
        https_only=settings.is_production,
        max_age=8 * 3600,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Pupils' TET search, for anonymous visitors: answers kept half a second (app/cache.py).
    app.add_middleware(
        PublicPageCache,
        paths=("/tet", "/api/v1/tet/postings", "/api/v1/tet/classifications"),
        prefixes=("/tet/postings/", "/api/v1/tet/postings/"),
        seconds=settings.public_cache_seconds,
        limit=settings.rate_limits.get("tet_search"),
    )
    app.add_middleware(
        RequestContextMiddleware,
        hsts=not settings.is_development,
        csp=content_security_policy(settings.identity_provider_origins),
    )
    return app


app = create_app()
