"""Employer login with MANDATE_SOURCE=suomifi: the organisations come from e-Authorizations."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.config import Settings
from app.deps import get_session
from app.main import create_app
from tests.conftest import login
from tests.fakes.suomifi import API_KEY, CLIENT_ID, OAUTH_SECRET, FakeSuomiFi

HETU = "150385-9345"


@pytest.fixture
def dvv() -> Iterator[FakeSuomiFi]:
    with FakeSuomiFi().running() as fake:
        yield fake


@pytest.fixture
def suomifi_app(settings: Settings, dvv: FakeSuomiFi, idp: str, db: Session) -> Iterator[FastAPI]:
    httpx.put(
        f"{idp}/users/suomifi-person",
        json={"name": "Sanna Suomi", "acr": "substantial", "national_id_num": HETU},
    ).raise_for_status()
    app = create_app(
        settings.model_copy(
            update={
                "mandate_source": "suomifi",
                "suomifi_base_url": dvv.base_url,
                "suomifi_client_id": CLIENT_ID,
                "suomifi_api_key": SecretStr(API_KEY),
                "suomifi_oauth_secret": SecretStr(OAUTH_SECRET),
            }
        )
    )
    # The test's own transaction, rolled back at the end, as for the main app.
    app.dependency_overrides[get_session] = lambda: db
    yield app
    app.state.engine.dispose()
    app.state.mandate_client.close()
    app.state.company_register.close()


def through_selection(client: TestClient, answer: httpx.Response) -> httpx.Response:
    """Follow the browser through DVV's selection page back to the portal."""
    assert answer.status_code == 303, answer.text
    with httpx.Client() as browser:
        selected = browser.get(answer.headers["location"], follow_redirects=False)
    assert selected.status_code == 302
    back = httpx.URL(selected.headers["location"])
    response: httpx.Response = client.get(
        f"{back.path}?{back.query.decode()}", follow_redirects=False
    )
    return response


def test_one_organisation_from_e_authorizations(
    suomifi_app: FastAPI, dvv: FakeSuomiFi, db: Session
) -> None:
    dvv.set_organisations(
        HETU,
        [
            {
                "name": "Kahvila Esimerkki Oy",
                "identifier": "2956285-9",
                "complete": True,
                "roles": ["NIMKO"],
            }
        ],
    )
    client = TestClient(suomifi_app)
    done = through_selection(client, login(client, "suomifi-person"))
    assert done.status_code == 303
    assert done.headers["location"] == "/employer"
    assert "Kahvila Esimerkki Oy (2956285-9)" in client.get("/employer").text
    register = next(r for r in dvv.requests if "/user/register/" in r.path)
    assert register.path.endswith(f"/{CLIENT_ID}/{HETU}")
    events = db.exec(
        select(AuditEvent).where(col(AuditEvent.action).in_(["mandate.register", "mandate.query"]))
    ).all()
    assert {e.action for e in events} >= {"mandate.register", "mandate.query"}
    assert all(HETU not in (e.detail or "") for e in events)


def test_several_organisations_lead_to_the_choice(suomifi_app: FastAPI, dvv: FakeSuomiFi) -> None:
    dvv.set_organisations(
        HETU,
        [
            {
                "name": "Rakennus Demo Oy",
                "identifier": "3045112-8",
                "complete": True,
                "roles": ["NIMKO"],
            },
            {
                "name": "Kallion Nuorisoyhdistys ry",
                "identifier": "1234567-1",
                "complete": True,
                "roles": ["PJ"],
            },
        ],
    )
    client = TestClient(suomifi_app)
    done = through_selection(client, login(client, "suomifi-person"))
    assert done.headers["location"].startswith("/employer/organisations")


def test_empty_answer_means_no_organisations(suomifi_app: FastAPI, dvv: FakeSuomiFi) -> None:
    dvv.set_organisations(HETU, [])
    client = TestClient(suomifi_app)
    done = through_selection(client, login(client, "suomifi-person"))
    assert done.headers["location"] == "/employer/no-organisations"


def test_e_authorizations_down_is_a_clear_message(suomifi_app: FastAPI, dvv: FakeSuomiFi) -> None:
    dvv.server.down()
    client = TestClient(suomifi_app)
    answer = login(client, "suomifi-person")
    assert answer.status_code == 503
    assert "Suomi.fi-valtuudet-palvelu ei vastannut" in answer.text
    assert client.cookies.get("portal_session") is None
