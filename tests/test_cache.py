"""The short cache of public pages (app/cache.py), around a tiny application that counts
how often it is really called."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app import cache, i18n

CALLS: list[str] = []


async def page(request: Request) -> Response:
    CALLS.append(request.url.path)
    body = f"{request.url.path}?{request.url.query} {i18n.current_language()} {len(CALLS)}"
    if request.query_params.get("status"):
        return PlainTextResponse(body, status_code=int(request.query_params["status"]))
    response = PlainTextResponse(body)
    if request.query_params.get("cookie"):
        response.set_cookie("state", "x")
    return response


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    CALLS.clear()
    fake = Clock()
    monkeypatch.setattr("app.cache.time.monotonic", fake)
    monkeypatch.setattr("app.cache.time.time", fake)
    return fake


CACHES: dict[int, cache.PublicPageCache] = {}


def cache_of(c: TestClient) -> cache.PublicPageCache:
    return CACHES[id(c)]


def client(seconds: float = 1.0, limit: tuple[int, int] | None = None) -> TestClient:
    inner = Starlette(
        routes=[Route("/tet", page), Route("/tet/postings/{id}", page), Route("/other", page)]
    )
    wrapped = cache.PublicPageCache(
        inner, paths=("/tet",), prefixes=("/tet/postings/",), seconds=seconds, limit=limit
    )

    async def with_language(scope, receive, send):  # type: ignore[no-untyped-def]
        # The outer middleware sets the language from the cookie; this stands in for it.
        cookie = dict(scope.get("headers", ())).get(b"cookie", b"")
        i18n.set_language("sv" if b"lang=sv" in cookie else "fi")
        await wrapped(scope, receive, send)

    test_client = TestClient(with_language)
    CACHES[id(test_client)] = wrapped
    return test_client


def test_the_same_question_within_the_time_is_answered_from_the_cache(clock: Clock) -> None:
    c = client()
    first = c.get("/tet?q=kauppa")
    assert c.get("/tet?q=kauppa").text == first.text
    assert len(CALLS) == 1
    clock.now += 1.01
    assert c.get("/tet?q=kauppa").text != first.text
    assert len(CALLS) == 2


def test_the_key_is_path_query_and_language(clock: Clock) -> None:
    c = client()
    c.get("/tet?q=a")
    c.get("/tet?q=b")
    c.get("/tet/postings/1")
    c.get("/tet?q=a", headers={"cookie": "lang=sv"})
    assert len(CALLS) == 4
    assert c.get("/tet?q=a", headers={"cookie": "lang=sv"}).text.split()[1] == "sv"
    assert len(CALLS) == 4


def test_only_anonymous_cookieless_gets_of_the_listed_paths(clock: Clock) -> None:
    c = client()
    for _ in range(2):
        c.get("/other")
        c.get("/tet", headers={"cookie": "portal_session=abc"})
        c.get("/tet", headers={"cookie": "lang=fi; portal_state=abc"})
        c.get("/tet", headers={"authorization": "Bearer x"})
    assert len(CALLS) == 8


def test_only_plain_successes_are_kept(clock: Clock) -> None:
    c = client()
    for _ in range(2):
        c.get("/tet?status=404")
        c.get("/tet?status=429")
        c.get("/tet?cookie=1")
    assert len(CALLS) == 6


def test_turned_off_with_zero_seconds(clock: Clock) -> None:
    c = client(seconds=0)
    c.get("/tet")
    c.get("/tet")
    assert len(CALLS) == 2


def test_past_the_limit_requests_go_on_to_the_application(clock: Clock) -> None:
    c = client(limit=(3, 60))
    for _ in range(5):
        c.get("/tet")
    # One real call filled the cache, three hits were within the limit, then the application
    # (whose database counter answers 429 past the limit) sees the rest.
    assert len(CALLS) == 2


def test_while_one_request_renews_the_others_get_the_previous_answer(clock: Clock) -> None:
    c = client()
    first = c.get("/tet").text
    clock.now += 1.5
    renewing = cache_of(c).renewing
    renewing.add(("/tet", b"", "fi"))  # as if a request were renewing it right now
    assert c.get("/tet").text == first
    assert len(CALLS) == 1
    clock.now += 1.0  # now more than twice as old: not served any more
    assert c.get("/tet").text != first
    renewing.clear()
