"""The outermost layer of every request: request id, language, access log, headers, last-resort errors."""

from __future__ import annotations

import logging
import random
import re
import time
from http.cookies import SimpleCookie

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.logs import get_logger, request_id_var
from app.security import security_headers

log = get_logger("app.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


_LANGUAGE_COOKIE = f"{i18n.LANGUAGE_COOKIE}=".encode()


def _new_request_id() -> str:
    """32 hex digits that tell requests apart in the logs. Not a secret, so not from the
    system's random source: os.urandom (uuid4) lets go of the interpreter lock, and the event
    loop then waits for a busy worker thread to give it back (up to 5 ms) on every request."""
    return "%032x" % random.getrandbits(128)  # noqa: UP031 - an identifier, not a secret


def _language(cookie_header: bytes, accept: bytes | None) -> str:
    """The language cookie first, then Accept-Language, then Finnish."""
    if _LANGUAGE_COOKIE in cookie_header:  # else no need to parse the cookies at all
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header.decode("latin-1"))
        except Exception:
            cookies = SimpleCookie()
        morsel = cookies.get(i18n.LANGUAGE_COOKIE)
        if morsel and morsel.value in i18n.LANGUAGES:
            return morsel.value
    return i18n.negotiate(accept.decode("latin-1") if accept is not None else None)


def language_for(scope: Scope) -> str:
    """The language cookie first, then Accept-Language, then Finnish."""
    cookie_header = b""
    accept = None
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie_header = value
        elif name == b"accept-language":
            accept = value
    return _language(cookie_header, accept)


class RequestContextMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware task and stream per request): every request passes here,
    so it reads the request's headers in one pass and adds the response's headers to the raw
    list without Starlette's header objects."""

    def __init__(self, app: ASGIApp, *, hsts: bool, csp: str) -> None:
        self.app = app
        self.hsts = hsts
        self.headers = security_headers(hsts=hsts, csp=csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = b""
        cookie_header = b""
        accept = None
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie_header = value
            elif name == b"accept-language":
                accept = value
            elif name == b"x-request-id":
                incoming = value
        request_id = incoming.decode("latin-1")
        if not _REQUEST_ID.match(request_id):
            request_id = _new_request_id()
        request_id_var.set(request_id)
        structlog.contextvars.clear_contextvars()
        i18n.set_language(_language(cookie_header, accept))
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        security = self.headers

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"x-request-id"
                ]
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in security if h[0] not in present)
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                if b"cache-control" not in present:
                    # Pages carry CSRF tokens and, once logged in, personal data: never cache.
                    headers.append((b"cache-control", b"no-store"))
                if b"content-language" not in present and not path.startswith("/static/"):
                    headers.append((b"content-language", i18n.current_language().encode()))
                message["headers"] = headers
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
            # Checked first: at a level above INFO, structlog would still run its processors
            # (time stamp, context) before the standard library drops the line.
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
