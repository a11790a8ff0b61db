"""Forged ID tokens create no session: each way of being wrong is refused, and logged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.config import Settings
from app.deps import get_session
from app.main import create_app
from tests.fakes.oidc import MODES, ForgingProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[ForgingProvider]:
    with ForgingProvider(client_id="portal-employer").running() as running:
        yield running


@pytest.fixture
def forged_app(settings: Settings, provider: ForgingProvider, db: Session) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"employer_oidc_issuer": provider.issuer}))
    app.dependency_overrides[get_session] = lambda: db
    yield app
    app.state.engine.dispose()
    app.state.company_register.close()


def attempt(app: FastAPI) -> tuple[TestClient, httpx.Response]:
    client = TestClient(app)
    start = client.get("/login", follow_redirects=False)
    with httpx.Client() as browser:
        back = browser.get(start.headers["location"], follow_redirects=False)
    callback = httpx.URL(back.headers["location"])
    answer = client.get(f"{callback.path}?{callback.query.decode()}", follow_redirects=False)
    return client, answer


@pytest.mark.parametrize("mode", MODES)
def test_only_an_honest_id_token_creates_a_session(
    forged_app: FastAPI, provider: ForgingProvider, db: Session, mode: str
) -> None:
    provider.mode = mode
    client, answer = attempt(forged_app)
    if mode == "valid":
        assert answer.status_code == 303  # the fake itself works: the refusals below are real
        assert client.cookies.get("portal_session")
        return
    assert answer.status_code == 400
    assert client.cookies.get("portal_session") is None
    failures = db.exec(select(AuditEvent).where(col(AuditEvent.action) == "login.failed")).all()
    assert failures
