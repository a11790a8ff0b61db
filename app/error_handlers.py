"""Turn every failure into a response: JSON under /api, a page in the user's language elsewhere."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.errors import AppError, AppRedirect, NotFound, ServiceUnavailable, ValidationFailed
from app.forms import localized_errors
from app.i18n import N_, current_language, gettext
from app.logs import get_logger, request_id_var

log = get_logger("app.errors")

TITLES = {
    400: N_("The request could not be handled"),
    401: N_("Log in to continue"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    405: N_("The request could not be handled"),
    409: N_("The information has changed"),
    413: N_("The data sent was too large"),
    422: N_("Check the information you entered"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
    503: N_("The service is temporarily unavailable"),
}
HTTP_MESSAGES = {
    400: N_("The request was not understood. Go back and try again."),
    404: N_("The page was not found."),
    405: N_("The request was not understood. Go back and try again."),
    413: N_("The data sent was too large."),
    429: N_("You have sent too many requests. Wait a moment and try again."),
}
HTTP_CODES = {
    400: "bad_request",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
}
INTERNAL_MESSAGE = N_("An unexpected error occurred. The error has been logged; try again later.")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request, status: int, message: str, code: str, extra: dict[str, Any] | None = None
) -> Response:
    request_id = request_id_var.get()
    if is_api(request):
        body: dict[str, Any] = {
            "detail": {"code": code, "message": gettext(message), "request_id": request_id}
        }
        if extra:
            body["detail"].update(extra)
        return JSONResponse(body, status_code=status)
    templates = getattr(request.app.state, "templates", None) if "app" in request.scope else None
    context = {
        "status_code": status,
        "title": gettext(TITLES.get(status, TITLES[500])),
        "message": gettext(message),
        "request_id": request_id,
    }
    if templates is None:
        return Response(
            f"{context['title']}: {context['message']}", status_code=status, media_type="text/plain"
        )
    name = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    response = templates.TemplateResponse(
        request, name, {"lang": current_language(), **context}, status_code=status
    )
    return cast(Response, response)


def response_for_exception(request: Request, exc: Exception) -> Response:
    """The last resort for anything not handled deeper: never a stack trace to the user."""
    if isinstance(exc, AppError):
        return app_error_handler(request, exc)
    if isinstance(exc, StarletteHTTPException):
        return http_exception_handler(request, exc)
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        log.error("database_unavailable", error=type(exc).__name__)
        return app_error_handler(request, ServiceUnavailable())
    log.exception("unhandled_error", exc_info=exc)
    return error_response(request, 500, INTERNAL_MESSAGE, "internal_error")


def app_error_handler(request: Request, exc: Exception) -> Response:
    exc = cast(AppError, exc)  # registered for AppError only
    if isinstance(exc, AppRedirect) and not is_api(request):
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{exc.location}?next={quote(back, safe='')}", status_code=303)
    if isinstance(exc, ValidationFailed) and is_api(request):
        return JSONResponse({"detail": localized_errors(exc.errors)}, status_code=422)
    if exc.status_code >= 500:
        log.error("app_error", code=exc.code, status=exc.status_code)
    response = error_response(request, exc.status_code, exc.message, exc.code)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def http_exception_handler(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)  # registered for HTTPException only
    if exc.status_code == 404:
        return app_error_handler(request, NotFound())
    message = HTTP_MESSAGES.get(exc.status_code, HTTP_MESSAGES[400])
    response = error_response(
        request, exc.status_code, message, HTTP_CODES.get(exc.status_code, "http_error")
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def validation_exception_handler(request: Request, exc: Exception) -> Response:
    exc = cast(RequestValidationError, exc)  # registered for RequestValidationError only
    if is_api(request):
        return JSONResponse({"detail": localized_errors(exc.errors())}, status_code=422)
    return error_response(
        request, 422, N_("Check the information you entered."), "validation_failed"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
