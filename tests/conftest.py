"""Shared fixtures: a fresh, migrated database per run (SQLite or PostgreSQL), the app, a client.

TEST_DATABASE_URL selects the engine: unset or "sqlite" gives a new SQLite file; a PostgreSQL
URL names a server on which a database of our own is created and dropped at the end. Databases
are always built with `alembic upgrade head`, never create_all, so every run tests migrations.
Each test runs inside a transaction that is rolled back (routes may commit: savepoints).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
import werkzeug.serving
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from oidc_provider_mock import User
from oidc_provider_mock import app as oidc_provider_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import Environment, Settings
from app.demo import DEMO_USERS
from app.deps import get_session
from app.main import create_app
from app.summer_voucher.models import YearConfiguration
from tests.fakes.ytj import YtjFake

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE = os.environ.get("TEST_DATABASE_URL", "sqlite")
IS_POSTGRES = TEST_DATABASE.startswith("postgres")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="PostgreSQL-only; this run is on SQLite")
    for item in items:
        if "postgres" in item.keywords and not IS_POSTGRES:
            item.add_marker(skip_pg)


@contextmanager
def fresh_database(tmp_dir: Path, label: str) -> Iterator[str]:
    """A new, empty database for this run; dropped afterwards on PostgreSQL."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_dir / f'{label}.db'}"
        return
    server = make_url(TEST_DATABASE).set(drivername="postgresql+psycopg")
    name = f"portal_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": Environment.test,
        "database_url": database_url,
        "log_level": "INFO",
        "log_json": True,
        # Tests see every change at once; tests/test_cache.py turns the cache on.
        "public_cache_seconds": 0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db"), "test") as url:
        migrate(url)
        yield url


@dataclass(frozen=True)
class IdentityProvider:
    issuer: str
    signing_key: Any  # the provider's private RSA key, for forging-or-not logout tokens in tests


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    """The local test identity provider (oidc-provider-mock) with the demo users, in-process on a
    free loopback port: the same provider `make run` starts."""
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    users = [
        User(sub=str(u["sub"]), claims={k: v for k, v in u.items() if k != "sub"})
        for u in DEMO_USERS
    ]
    provider = oidc_provider_app(require_nonce=True, user_claims=users)
    with provider.test_request_context():
        provider.preprocess_request()  # runs the provider's setup, which holds its key storage
        signing_key = flask.g.oidc_provider_mock_storage.jwk
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield IdentityProvider(
            issuer=f"http://127.0.0.1:{server.server_port}", signing_key=signing_key
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def idp(identity_provider: IdentityProvider) -> str:
    """The test identity provider's issuer URL."""
    return identity_provider.issuer


@pytest.fixture(scope="session")
def ytj_fake() -> Iterator[YtjFake]:
    with YtjFake().running() as fake:
        yield fake


@pytest.fixture(scope="session")
def settings(
    database_url: str, idp: str, ytj_fake: YtjFake, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return make_settings(
        database_url,
        files_dir=tmp_path_factory.mktemp("files"),
        employer_oidc_issuer=idp,
        staff_oidc_issuer=idp,
        ytj_base_url=ytj_fake.base_url,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """The test's session, also used by the app; everything is rolled back at the end."""
    connection = app.state.engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    def override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = override
    try:
        yield session
    finally:
        app.dependency_overrides.pop(get_session, None)
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app: FastAPI, db: Session) -> TestClient:
    # Not entered as a context manager: the lifespan would dispose the shared engine's pool
    # while the test's own connection is still checked out.
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def csrf(client: TestClient) -> Callable[[], str]:
    """The client's CSRF token (from the API, so the session cookie is set)."""

    def token() -> str:
        response = client.get("/api/v1/csrf")
        assert response.status_code == 200
        return str(response.json()["csrf_token"])

    return token


def login(
    client: TestClient, sub: str, *, staff: bool = False, next_path: str | None = None
) -> httpx.Response:
    """Log in through the real test provider: start, pick the user on its form, come back.
    Returns the app's answer to the callback (a 303 to where the user goes next)."""
    start = client.get(
        "/admin/login" if staff else "/login",
        params={"next": next_path} if next_path else None,
        follow_redirects=False,
    )
    assert start.status_code in (302, 303), start.text
    authorize = start.headers["location"]
    with httpx.Client() as browser:
        answer = browser.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = httpx.URL(answer.headers["location"])
    response: httpx.Response = client.get(
        f"{callback.path}?{callback.query.decode()}", follow_redirects=False
    )
    return response


def open_summer_voucher_year(session: Session) -> YearConfiguration:
    """This year's Kesäseteli configuration, open all year, as staff would save it."""
    from datetime import date
    from decimal import Decimal

    from app.db import utcnow
    from app.security import SYSTEM
    from app.summer_voucher import service
    from app.summer_voucher.models import TargetGroup
    from app.summer_voucher.schemas import YearConfigurationIn

    year = utcnow().astimezone(service.HELSINKI).year
    return service.save_configuration(
        session,
        data=YearConfigurationIn(
            year=year,
            voucher_value=Decimal("350"),
            min_work_hours=60,
            min_work_compensation=Decimal("500"),
            target_groups=[TargetGroup.primary, TargetGroup.secondary],
            opens_on=date(year, 1, 1),
            closes_on=date(year, 12, 31),
        ),
        actor=SYSTEM,
    )


@pytest.fixture
def open_year(db: Session) -> YearConfiguration:
    config = open_summer_voucher_year(db)
    db.commit()  # inside the test's outer transaction, still rolled back at the end
    return config
