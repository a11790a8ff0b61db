"""Health, the no-op ping, OpenAPI, structured logs and the demo data."""

from __future__ import annotations

import io
import json
import logging

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.companies.models import Company
from app.config import Settings
from app.demo import DEMO_COMPANIES, DEMO_TET_POSTINGS, load_demo_data
from app.logs import build_formatter
from app.main import create_app
from app.tet import service as tet
from app.tet.schemas import SearchIn


def test_health_after_a_real_query(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_cannot_be_reached(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    app = create_app(unreachable)
    try:
        response = TestClient(app).get("/healthz")
    finally:
        app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


def test_page_needing_the_database_is_503_when_it_is_down(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    app = create_app(unreachable)
    try:
        client = TestClient(app)
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Hei", "csrf_token": token},
            headers={"Accept-Language": "en"},
        )
    finally:
        app.state.engine.dispose()
    assert response.status_code == 503
    assert "The service is temporarily unavailable" in response.text
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text


def test_ping_is_a_no_op(client: TestClient) -> None:
    response = client.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/healthz", "/api/v1/ping", "/api/v1/csrf", "/api/v1/accessibility-feedback"} <= set(
        spec["paths"]
    )
    assert all(p.startswith(("/api/v1/", "/healthz")) for p in spec["paths"])  # pages are not API
    assert "503" in spec["paths"]["/healthz"]["get"]["responses"]
    assert client.get("/docs").status_code == 404  # the interactive docs would load a CDN


def test_every_log_line_of_a_request_carries_its_request_id(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(json=True))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = client.get("/no-such-page")
        logging.getLogger("app.test").info("outside any request")
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request_lines = [entry for entry in lines if entry.get("logger") not in ("httpx", "app.test")]
    assert request_lines, lines
    assert all(entry["request_id"] == response.headers["x-request-id"] for entry in request_lines)
    access = next(e for e in request_lines if e["event"] == "request")
    assert access["status"] == 404
    assert access["path"] == "/no-such-page"
    assert all({"timestamp", "level", "event"} <= set(entry) for entry in lines)


def test_demo_data_loads_once(db: Session) -> None:
    first = load_demo_data(db)
    db.flush()
    second = load_demo_data(db)
    db.flush()
    assert second == {"companies": 0, "summer_voucher_years": 0, "schools": 0, "tet_postings": 0}
    # The pupils' search has the demo postings at once.
    assert first["tet_postings"] == len(DEMO_TET_POSTINGS)
    query = SearchIn(field=["construction"])
    page = tet.search(db, criteria=tet.criteria_for(db, query), query=query, today=tet.today())
    assert [p.title for p in page.results.items] == ["Rakennusapulainen"]
    assert first["companies"] <= len(DEMO_COMPANIES)
    ids = [c.business_id for c in DEMO_COMPANIES]
    total = db.exec(
        select(func.count()).select_from(Company).where(col(Company.business_id).in_(ids))
    ).one()
    assert total == len(DEMO_COMPANIES)
    association = db.exec(select(Company).where(Company.is_association)).all()
    assert [c.name for c in association] == ["Kallion Nuorisoyhdistys ry"]
