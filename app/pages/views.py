"""Public HTML pages: landing, accessibility statement and feedback, privacy notice, language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n
from app.deps import SessionDep
from app.errors import NotFound
from app.forms import parse_form
from app.pages import service
from app.pages.schemas import FeedbackIn
from app.security import ANONYMOUS, Anonymous, safe_local_path
from app.templating import render

router = APIRouter(dependencies=[Anonymous], include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600


@router.get("/", name="landing")
def landing(request: Request) -> Response:
    """The front door: the three services for employers, youth and pupils."""
    return render(request, "pages/landing.html")


@router.get("/accessibility", name="accessibility")
def accessibility(request: Request) -> Response:
    return render(request, "pages/accessibility.html")


@router.get("/privacy", name="privacy")
def privacy(request: Request) -> Response:
    return render(request, "pages/privacy.html")


@router.get("/lang/{lang}", name="switch_language")
def switch_language(request: Request, lang: str, next: str | None = None) -> Response:
    """Keep the chosen language in a cookie and return to the same page."""
    if lang not in i18n.LANGUAGES:
        raise NotFound()
    response = RedirectResponse(safe_local_path(next), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        lang,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.app_env != "development"
        and request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/accessibility/feedback", name="feedback_form")
def feedback_form(request: Request, page: str | None = None) -> Response:
    return render(
        request,
        "pages/feedback.html",
        {"values": {"page": safe_local_path(page, default="")}, "errors": {}},
    )


@router.post("/accessibility/feedback", name="feedback_send")
async def feedback_send(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    result = parse_form(FeedbackIn, form)
    if result.data is None:
        return render(
            request,
            "pages/feedback.html",
            {"values": result.values, "errors": result.errors},
            status_code=422,
        )
    service.give_feedback(session, feedback=result.data, actor=ANONYMOUS)
    session.commit()
    return RedirectResponse(request.url_for("feedback_thanks").path, status_code=303)


@router.get("/accessibility/feedback/thanks", name="feedback_thanks")
def feedback_thanks(request: Request) -> Response:
    return render(request, "pages/feedback_thanks.html")
