"""Many people write at once through the app, on a database file (or PostgreSQL database) of its
own, with a session and a client per person: every write is acknowledged and none is refused
with "database is locked" (503). On SQLite, requests that change data take the write lock when
their transaction begins, and reading requests (whose audit rows are writes) just before they
write; see app.db, SQLITE_BEGIN."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.audit import AuditEvent
from app.db import SQLITE_BEGIN
from app.deps import get_session
from app.main import create_app
from app.summer_voucher import api, views
from app.summer_voucher.models import YouthApplication
from app.summer_voucher.population import Address, Person
from tests.conftest import fresh_database, login, make_settings, migrate, open_summer_voucher_year

APPLICANTS = 24
HANDLERS = 4
PAGE_VIEWS = 5  # per handler, while the applications come in
API = "/api/v1/summer-voucher/youth-applications"
FORM = "/summer-voucher/apply"
QUEUE = "/admin/summer-voucher/youth"
_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"

T = TypeVar("T")


def hetu(n: int) -> str:
    """A valid code of someone born on 1.1.2010 (16 this year or so; the age does not matter)."""
    digits, individual = "010110", f"{100 + n:03d}"
    return f"{digits}A{individual}{_CHECK[int(digits + individual) % 31]}"


class Everyone:
    """A register that knows every code, as a Helsinki resident, after a short delay: the time
    between an application's checks and its insert, when other writers get in."""

    def find(self, code: str, *, end_user: str | None = None) -> Person | None:
        time.sleep(0.01)
        return Person(
            hetu=code,
            first_names="Testi",
            last_name="Nuori",
            home_municipality_code="091",
            home_municipality_name="Helsinki",
            address=Address(street="Testikatu 1", postcode="00100", post_office="Helsinki"),
            is_alive=True,
            non_disclosure=False,
        )


@contextmanager
def app_with_own_database(
    tmp_path_factory: pytest.TempPathFactory, idp: str, label: str
) -> Iterator[FastAPI]:
    """An app on a migrated database of its own, whose requests use their own sessions (the
    `client` fixture shares one session, and one transaction, for the whole test)."""
    with fresh_database(tmp_path_factory.mktemp(label), label) as url:
        migrate(url)
        settings = make_settings(
            url,
            files_dir=tmp_path_factory.mktemp(f"{label}-files"),
            employer_oidc_issuer=idp,
            staff_oidc_issuer=idp,
            rate_limits={"youth_apply": (10_000, 600), "youth_activate": (10_000, 600)},
        )
        application = create_app(settings)
        try:
            yield application
        finally:
            application.state.engine.dispose()


@pytest.fixture(scope="module")
def busy_app(tmp_path_factory: pytest.TempPathFactory, idp: str) -> Iterator[FastAPI]:
    with app_with_own_database(tmp_path_factory, idp, "concurrent") as application:
        application.state.population_register = Everyone()
        with Session(application.state.engine) as session:
            open_summer_voucher_year(session)
            session.commit()
        yield application


def at_once(jobs: list[Callable[[], T]]) -> list[T]:
    """Run `jobs` in threads of their own, started together."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def application(code: str, email: str) -> dict[str, object]:
    return {
        "first_name": "Testi",
        "last_name": "Nuori",
        "hetu": code,
        "postcode": "00100",
        "is_unlisted_school": True,
        "unlisted_school": "Testikoulu",
        "target_group": "primary_target_group",
        "phone": "040 123 4567",
        "email": email,
        "terms_accepted": True,
    }


def csrf_token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def count(app: FastAPI, statement: Any) -> int:
    with Session(app.state.engine) as session:
        return int(session.exec(statement).one())


def stored(app: FastAPI, email_domain: str) -> int:
    with Session(app.state.engine) as session:
        rows = session.exec(select(YouthApplication)).all()
        return sum(1 for row in rows if row.email.endswith(email_domain))  # encrypted at rest


LISTINGS = (
    select(func.count())
    .select_from(AuditEvent)
    .where(col(AuditEvent.action) == "youth_application.list")
)


def test_simultaneous_applications_and_page_views_are_all_answered(busy_app: FastAPI) -> None:
    def applicant(n: int) -> Callable[[], list[httpx.Response]]:
        client = TestClient(busy_app)
        token = csrf_token(client)
        data = application(hetu(n), f"youth{n}@concurrent.example")
        if n % 2:  # half through the form, half through the JSON API
            form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}
            form |= {"school": "", "csrf_token": token}
            return lambda: [client.post(FORM, data=form, follow_redirects=False)]
        return lambda: [client.post(API, json=data, headers={"X-CSRF-Token": token})]

    def handler() -> Callable[[], list[httpx.Response]]:
        client = TestClient(busy_app)
        assert login(client, "staff-handler", staff=True).status_code == 303
        return lambda: [client.get(QUEUE) for _ in range(PAGE_VIEWS)]

    listed_before = count(busy_app, LISTINGS)
    jobs = [applicant(n) for n in range(APPLICANTS)] + [handler() for _ in range(HANDLERS)]
    batches = at_once(jobs)

    answers = [response for batch in batches for response in batch]
    assert [(r.status_code, r.text[:300]) for r in answers if r.status_code >= 400] == []
    assert not [r for r in answers if "database is locked" in r.text]
    assert [batch[0].status_code for batch in batches[:APPLICANTS]] == [
        303 if n % 2 else 201 for n in range(APPLICANTS)
    ]
    assert [r.status_code for batch in batches[APPLICANTS:] for r in batch] == [200] * (
        HANDLERS * PAGE_VIEWS
    )
    assert stored(busy_app, "@concurrent.example") == APPLICANTS
    assert count(busy_app, LISTINGS) - listed_before == HANDLERS * PAGE_VIEWS  # all audited


def test_the_same_person_at_once_is_stored_once_and_the_rest_refused(busy_app: FastAPI) -> None:
    """On SQLite too, the write lock is not held through the register query, so the checks
    before it and the insert after it are not one transaction: the unique index decides."""

    def applicant(n: int) -> Callable[[], httpx.Response]:
        client = TestClient(busy_app)
        token = csrf_token(client)
        data = application(hetu(500), f"same{n}@same.example")
        return lambda: client.post(API, json=data, headers={"X-CSRF-Token": token})

    answers = at_once([applicant(n) for n in range(12)])
    assert sorted(r.status_code for r in answers) == [201] + [409] * 11, [
        r.text[:300] for r in answers
    ]
    assert stored(busy_app, "@same.example") == 1


@pytest.mark.parametrize(
    ("method", "endpoint", "expected"),
    [
        ("GET", None, "on_first_write"),
        ("POST", None, "immediate"),
        ("POST", api.apply, "on_first_write"),  # the register query runs between checks
        ("POST", views.apply_send, "on_first_write"),  # and insert, without the lock
    ],
)
def test_how_a_request_session_takes_the_write_lock(
    busy_app: FastAPI, method: str, endpoint: Callable[..., Any] | None, expected: str
) -> None:
    async def bind_options() -> dict[str, Any]:
        scope = {"type": "http", "method": method, "endpoint": endpoint, "app": busy_app}
        sessions = cast(AsyncGenerator[Session, None], get_session(Request(scope)))
        session = await anext(sessions)
        try:
            return dict(session.get_bind().get_execution_options())
        finally:
            await sessions.aclose()

    options = asyncio.run(bind_options())
    if busy_app.state.engine.dialect.name == "sqlite":
        assert options[SQLITE_BEGIN] == expected
    else:
        assert SQLITE_BEGIN not in options  # PostgreSQL: the engine as it is
