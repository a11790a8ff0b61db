"""A short cache of public pages for anonymous visitors (the pupils' TET search).

Pupils search without logging in, and many ask the same things (the front of the search, a
field of work). Each worker keeps the answers it gave to cookie-less GET requests of the listed
paths for `seconds` (PUBLIC_CACHE_SECONDS, 0.5 by default; 0 turns it off), keyed by path,
query string and language. When an answer expires, one request renews it while the others get
the expired one (never older than twice `seconds`), so a busy page is made twice a second, not
by every waiting request at once. A posting published now is found within a second.

Only what cannot differ between visitors is stored: requests with no cookie other than the
language choice (no session, no CSRF state), answers 200 without Set-Cookie and of at most
`max_body` bytes. Answers from the cache cost no database work, so they are not counted by the
database's rate limiter; they are counted per worker in memory against the same limit, and a
client past it goes on to the application, whose database counter decides (429).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n

_LANGUAGE_PREFIX = i18n.LANGUAGE_COOKIE.encode() + b"="


@dataclass(frozen=True)
class _Entry:
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _only_language_cookie(cookie_header: bytes) -> bool:
    return all(
        part.strip().startswith(_LANGUAGE_PREFIX) for part in cookie_header.split(b";") if part
    )


class PublicPageCache:
    def __init__(
        self,
        app: ASGIApp,
        *,
        paths: Sequence[str],
        prefixes: Sequence[str] = (),
        seconds: float,
        limit: tuple[int, int] | None = None,
        max_entries: int = 512,
        max_body: int = 512 * 1024,
    ) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.prefixes = tuple(prefixes)
        self.seconds = seconds
        self.limit = limit
        self.max_entries = max_entries
        self.max_body = max_body
        self.entries: OrderedDict[tuple[str, bytes, str], _Entry] = OrderedDict()
        self.hits: dict[str, int] = {}
        self.renewing: set[tuple[str, bytes, str]] = set()
        self.window = -1

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or self.seconds <= 0:
            return False
        path: str = scope["path"]
        if path not in self.paths and not path.startswith(self.prefixes):
            return False
        for name, value in scope.get("headers", ()):
            if name == b"cookie" and not _only_language_cookie(value):
                return False
            if name == b"authorization":
                return False
        return True

    def _within_limit(self, scope: Scope, now: float) -> bool:
        if self.limit is None:
            return True
        per_window, window_seconds = self.limit
        window = int(now // window_seconds)
        if window != self.window:
            self.window = window
            self.hits = {}
        client = scope.get("client")
        address = client[0] if client else "unknown"
        count = self.hits.get(address, 0) + 1
        self.hits[address] = count
        return count <= per_window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        key = (scope["path"], scope.get("query_string", b""), i18n.current_language())
        entry = self.entries.get(key)
        # One request renews an expired answer; the others meanwhile get the previous one, if it
        # expired less than `seconds` ago (so nothing is ever more than twice as old).
        fresh = entry is not None and (
            entry.expires > now or (key in self.renewing and entry.expires + self.seconds > now)
        )
        if entry is not None and fresh and self._within_limit(scope, time.time()):
            self.entries.move_to_end(key)
            await send(
                {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
            )
            await send({"type": "http.response.body", "body": entry.body})
            return

        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        storable = True

        async def capture(message: Message) -> None:
            nonlocal start, size, storable
            if message["type"] == "http.response.start":
                start = message
                storable = message["status"] == 200 and not any(
                    name.lower() == b"set-cookie" for name, _ in message.get("headers", ())
                )
            elif message["type"] == "http.response.body" and storable:
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_body:
                    storable = False
                    chunks.clear()
                else:
                    chunks.append(body)
            await send(message)

        renewer = key not in self.renewing
        self.renewing.add(key)
        try:
            await self.app(scope, receive, capture)
        finally:
            if renewer:
                self.renewing.discard(key)
        if storable and start is not None:
            self.entries[key] = _Entry(
                expires=now + self.seconds,
                status=start["status"],
                headers=list(start.get("headers", ())),
                body=b"".join(chunks),
            )
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
