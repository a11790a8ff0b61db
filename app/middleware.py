"""The outermost layer of every request: request id, language, access log, headers, last-resort errors."""

from __future__ import annotations

import re
import time
import uuid
from http.cookies import SimpleCookie

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.logs import get_logger, request_id_var
from app.security import security_headers

log = get_logger("app.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def language_for(scope: Scope) -> str:
    """The language cookie first, then Accept-Language, then Finnish."""
    cookie_header = ""
    accept = None
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie_header = value.decode("latin-1")
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:
            cookies = SimpleCookie()
        morsel = cookies.get(i18n.LANGUAGE_COOKIE)
        if morsel and morsel.value in i18n.LANGUAGES:
            return morsel.value
    return i18n.negotiate(accept)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, csp: str) -> None:
        self.app = app
        self.hsts = hsts
        self.headers = security_headers(hsts=hsts, csp=csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        structlog.contextvars.clear_contextvars()
        i18n.set_language(language_for(scope))
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                headers["x-request-id"] = request_id
                if "cache-control" not in headers:
                    # Pages carry CSRF tokens and, once logged in, personal data: never cache.
                    headers["cache-control"] = "no-store"
                if "content-language" not in headers and not path.startswith("/static/"):
                    headers["content-language"] = i18n.current_language()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if status_holder["started"]:
                log.exception("response_failed_after_start")
                raise
            from app.error_handlers import response_for_exception

            response = response_for_exception(Request(scope), exc)
            await response(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=path,
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
