"""A tiny threaded HTTP server on loopback for protocol fakes (trade register, e-Authorizations, ...).

A fake registers handlers by method and path prefix; each handler gets a `FakeRequest` and returns
a `FakeResponse`. Every request is recorded, so tests can assert what the client really sent.
`delay` makes every answer slow (for timeout tests); `down()` makes the server answer 503.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    method: str
    raw_path: str  # path with the query string, exactly as sent
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> FakeResponse:
        return cls(status=status, body=json.dumps(data, ensure_ascii=False).encode())

    @classmethod
    def text(cls, text: str, status: int = 200) -> FakeResponse:
        return cls(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")


Handler = Callable[[FakeRequest], FakeResponse]


class FakeServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []
        self.requests: list[FakeRequest] = []
        self.delay: float = 0.0
        self.is_down = False
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path_prefix: str, handler: Handler) -> None:
        self.routes.append((method.upper(), path_prefix, handler))

    def down(self, is_down: bool = True) -> None:
        self.is_down = is_down

    def _dispatch(self, request: FakeRequest) -> FakeResponse:
        self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.is_down:
            return FakeResponse.json(
                {"message": "Service Unavailable", "errorcode": 503}, status=503
            )
        # Longest matching prefix wins, so specific routes can sit beside general ones.
        candidates = [
            (prefix, handler)
            for method, prefix, handler in self.routes
            if method == request.method and request.path.startswith(prefix)
        ]
        if not candidates:
            return FakeResponse.json({"message": "not found"}, status=404)
        _prefix, handler = max(candidates, key=lambda c: len(c[0]))
        return handler(request)

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    raw_path=self.path,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake._dispatch(request)
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(response.body)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._server = None
