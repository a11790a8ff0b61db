"""Security headers, CSRF on every unsafe request, body size limits, local redirects, request ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from starlette.types import Message

from app.config import Environment, Settings
from app.main import create_app
from app.pages.models import AccessibilityFeedback
from app.security import Anonymous, csrf_exempt, safe_local_path


def feedback_count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AccessibilityFeedback)).one()


class TestHeaders:
    @pytest.mark.parametrize("path", ["/", "/api/v1/ping", "/no-such-page", "/healthz"])
    def test_every_response_has_the_security_headers(self, client: TestClient, path: str) -> None:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
        assert "unsafe-inline" not in script_src
        assert "unsafe-eval" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert headers["cache-control"] == "no-store"

    def test_no_hsts_in_development(self, settings: Settings) -> None:
        dev = settings.model_copy(update={"app_env": Environment.development})
        with TestClient(create_app(dev)) as client:
            headers = client.get("/").headers
        assert "strict-transport-security" not in headers
        assert headers["x-content-type-options"] == "nosniff"


class TestCsrf:
    def test_form_without_token_is_refused_and_nothing_is_stored(
        self, client: TestClient, db: Session
    ) -> None:
        before = feedback_count(db)
        response = client.post("/accessibility/feedback", data={"message": "Hei"})
        assert response.status_code == 403
        assert feedback_count(db) == before

    def test_token_of_another_session_is_refused(
        self, app: object, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        other = TestClient(client.app)
        other_token = other.get("/api/v1/csrf").json()["csrf_token"]
        csrf()  # this client has a session and a token of its own
        response = client.post(
            "/accessibility/feedback", data={"message": "Hei", "csrf_token": other_token}
        )
        assert response.status_code == 403

    def test_form_field_token_is_accepted(
        self, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Hei", "csrf_token": csrf()},
            follow_redirects=False,
        )
        assert response.status_code == 303

    def test_multipart_form_with_token_is_accepted(
        self, client: TestClient, csrf: Callable[[], str], db: Session
    ) -> None:
        before = feedback_count(db)
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Kuvakaappaus liitteenä", "csrf_token": csrf()},
            files={"screenshot": ("shot.png", b"\x89PNG\r\n\x1a\n", "image/png")},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert feedback_count(db) == before + 1

    def test_multipart_form_without_token_is_refused(
        self, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        csrf()
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Hei"},
            files={"screenshot": ("shot.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        )
        assert response.status_code == 403

    def test_json_api_needs_the_header(self, client: TestClient, csrf: Callable[[], str]) -> None:
        refused = client.post("/api/v1/accessibility-feedback", json={"message": "Hei"})
        assert refused.status_code == 403
        assert refused.json()["detail"]["code"] == "csrf_failed"
        accepted = client.post(
            "/api/v1/accessibility-feedback",
            json={"message": "Hei"},
            headers={"X-CSRF-Token": csrf()},
        )
        assert accepted.status_code == 201

    def test_exempt_endpoint_needs_no_token(self, settings: Settings) -> None:
        app = create_app(settings)

        @app.post("/api/v1/test-exempt", dependencies=[Anonymous])
        @csrf_exempt
        def exempt() -> dict[str, str]:
            return {"ok": "yes"}

        @app.post("/api/v1/test-protected", dependencies=[Anonymous])
        def protected() -> dict[str, str]:
            return {"ok": "yes"}

        try:
            client = TestClient(app)
            assert client.post("/api/v1/test-exempt").status_code == 200
            assert client.post("/api/v1/test-protected").status_code == 403
        finally:
            app.state.engine.dispose()


class TestBodyLimit:
    @pytest.fixture
    def small_client(self, settings: Settings) -> Iterator[TestClient]:
        with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 1000}))) as client:
            yield client

    def test_declared_length_over_the_limit_is_refused_at_once(
        self, small_client: TestClient
    ) -> None:
        token = small_client.get("/api/v1/csrf").json()["csrf_token"]
        response = small_client.post(
            "/accessibility/feedback",
            data={"message": "x" * 5000, "csrf_token": token},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 413
        assert "The data sent was too large" in response.text

    def test_streamed_body_is_cut_off_without_reading_to_the_end(self, settings: Settings) -> None:
        # At the ASGI level, because TestClient buffers a streamed body before sending it.
        app = create_app(settings.model_copy(update={"max_body_bytes": 1000}))
        chunks_read = 0
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal chunks_read
            chunks_read += 1
            return {"type": "http.request", "body": b"x" * 500, "more_body": chunks_read < 1000}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/accessibility-feedback",
            "raw_path": b"/api/v1/accessibility-feedback",
            "query_string": b"",
            "root_path": "",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1),
            "headers": [
                (b"content-type", b"application/json"),
                (b"transfer-encoding", b"chunked"),
                (b"accept-language", b"en"),
            ],
        }
        # In a thread of its own: the browser tests' Playwright keeps an event loop in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, app(scope, receive, send)).result()
        app.state.engine.dispose()
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        assert start["status"] == 413
        assert json.loads(body)["detail"]["code"] == "payload_too_large"
        assert chunks_read <= 3


class TestLocalRedirects:
    @pytest.mark.parametrize(
        "target",
        [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "http:evil",
            "javascript:alert(1)",
            "\\\\evil",
            "/ok\r\nSet-Cookie: x=1",
            "evil.example",
            "",
            None,
            "/%0d%0a",
            "/\tevil",
        ],
    )
    def test_only_local_paths_are_targets(self, target: str | None) -> None:
        result = safe_local_path(target)
        assert result == "/" or (result.startswith("/") and not result.startswith("//"))
        if target not in ("/%0d%0a",):
            assert result == "/"

    def test_local_path_with_query_is_kept(self) -> None:
        assert safe_local_path("/tet/search?q=kauppa&page=2") == "/tet/search?q=kauppa&page=2"


class TestRequestId:
    def test_response_carries_a_request_id(self, client: TestClient) -> None:
        first = client.get("/api/v1/ping").headers["x-request-id"]
        second = client.get("/api/v1/ping").headers["x-request-id"]
        assert first != second
        assert len(first) == 32

    def test_a_well_formed_incoming_id_is_kept_and_a_bad_one_replaced(
        self, client: TestClient
    ) -> None:
        kept = client.get("/api/v1/ping", headers={"X-Request-ID": "lb-1234abcd"})
        assert kept.headers["x-request-id"] == "lb-1234abcd"
        replaced = client.get("/api/v1/ping", headers={"X-Request-ID": "bad id\nwith newline"})
        assert replaced.headers["x-request-id"] != "bad id\nwith newline"


class TestRateLimit:
    def test_past_the_limit_answers_429_with_retry_after(
        self, settings: Settings, db: Session
    ) -> None:
        from app.deps import get_session

        limited_app = create_app(
            settings.model_copy(
                update={"rate_limits": {"youth_apply": (3, 600), "youth_activate": (3, 600)}}
            )
        )
        limited_app.dependency_overrides[get_session] = lambda: db
        try:
            client = TestClient(limited_app)
            token = client.get("/api/v1/csrf").json()["csrf_token"]
            answers = [
                client.post(
                    "/summer-voucher/apply",
                    data={"csrf_token": token},
                    headers={"Accept-Language": "en"},
                )
                for _ in range(4)
            ]
        finally:
            limited_app.state.engine.dispose()
        assert [a.status_code for a in answers[:3]] != [429, 429, 429]
        assert answers[3].status_code == 429
        assert 1 <= int(answers[3].headers["retry-after"]) <= 600
        assert "You have sent too many requests" in answers[3].text
