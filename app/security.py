"""Who may use a route, CSRF protection, local redirects, body size limits and security headers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import CsrfFailed

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_SESSION_KEY = "csrf"


@dataclass(frozen=True)
class Actor:
    """Who is acting: anonymous, an employer for a business id, staff with roles, or the system."""

    kind: str = "anonymous"  # anonymous | employer | staff | system
    user_id: str | None = None
    provider: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    business_id: str | None = None


ANONYMOUS = Actor()
SYSTEM = Actor(kind="system", user_id="system")

# --- Route access policies -------------------------------------------------------------------
# Every route declares who may use it with one of these dependencies; tests/test_policies.py
# fails when a route has none. The identity issue adds employer and staff policies.

F = TypeVar("F", bound=Callable[..., Any])


def access_policy(name: str) -> Callable[[F], F]:
    def mark(func: F) -> F:
        func.__access_policy__ = name  # type: ignore[attr-defined]
        return func

    return mark


@access_policy("anonymous")
def allow_anonymous() -> None:
    """Open to everyone, logged in or not (public pages, health, pupils' and youth pages)."""


Anonymous = Depends(allow_anonymous)


def route_policy(dependencies: list[Any]) -> str | None:
    for dep in dependencies:
        name = getattr(dep.call, "__access_policy__", None)
        if name:
            return str(name)
    return None


# --- CSRF --------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (kept in the signed state cookie)."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def csrf_exempt(func: F) -> F:
    """For the few endpoints called server-to-server with their own proof (back-channel logout)."""
    func.__csrf_exempt__ = True  # type: ignore[attr-defined]
    return func


async def verify_csrf(request: Request) -> AsyncIterator[None]:
    """Every unsafe request carries the session's token as a form field or the X-CSRF-Token header.

    Installed on the whole application, so a new route is protected without remembering to.
    Reading the form here is free: Starlette caches it for the endpoint (multipart included),
    and the uploaded files' temporary files are closed once the response is done.
    """
    if request.method in UNSAFE_METHODS and not getattr(
        request.scope.get("endpoint"), "__csrf_exempt__", False
    ):
        expected = request.session.get(CSRF_SESSION_KEY)
        sent = request.headers.get(CSRF_HEADER)
        if not sent:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get(CSRF_FIELD)
                sent = value if isinstance(value, str) else None
        if not expected or not sent or not secrets.compare_digest(str(sent), str(expected)):
            await request.close()
            raise CsrfFailed()
    try:
        yield
    finally:
        await request.close()


# --- Local redirect targets --------------------------------------------------------------------


def safe_local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site may be a redirect target (never //host, /\\host or a scheme)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in ("\\", "\r", "\n", "\t", "\x00")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- Body size limit ---------------------------------------------------------------------------


class BodySizeLimitMiddleware:
    """413 for bodies over the limit: at once from Content-Length, else while streaming.

    The body is never read to the end: with a declared length the app is not even called, and a
    streamed body is cut off as soon as the running total passes the limit. (FastAPI's own
    max_body_size answers a plain-text 413; this one goes through the localised error pages.)
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise HTTPException(status_code=413)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, so FastAPI's body parsing passes it on instead of a 400.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)


# --- Security headers ----------------------------------------------------------------------------


def content_security_policy(form_targets: Sequence[str] = ()) -> str:
    """No inline scripts, no framing. Forms may post only here, except that a form's redirect may
    lead to the identity providers (logout goes on to the provider's end-session page)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
        ]
    )


def security_headers(*, hsts: bool, csp: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers
