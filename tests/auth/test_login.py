"""Employer and staff login through the real test provider, sessions, organisation choice."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.companies.models import Company
from app.db import utcnow
from tests.conftest import login

COOKIE = "portal_session"


def live_session(db: Session, client: TestClient) -> UserSession:
    from app.auth.service import token_hash

    token = client.cookies.get(COOKIE)
    assert token
    return db.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).one()


class TestEmployerLogin:
    def test_one_organisation_is_chosen_automatically(
        self, client: TestClient, db: Session
    ) -> None:
        answer = login(client, "employer-one")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/employer"
        set_cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in set_cookie
        assert "samesite=lax" in set_cookie
        home = client.get("/employer")
        assert home.status_code == 200
        assert "Toimii organisaation Kahvila Esimerkki Oy (2956285-9) puolesta" in home.text
        assert home.headers["cache-control"] == "no-store"
        company = db.exec(select(Company).where(Company.business_id == "2956285-9")).one()
        assert company.register_refreshed_at is not None  # came from the trade register
        actions = [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]
        assert "mandate.query" in actions
        assert "login.success" in actions

    def test_the_cookie_holds_only_a_random_id(self, client: TestClient, db: Session) -> None:
        login(client, "employer-one")
        token = client.cookies.get(COOKIE)
        assert token
        assert len(token) >= 40
        row = live_session(db, client)
        assert token not in row.token_hash

    def test_several_organisations_ask_which_one(self, client: TestClient, db: Session) -> None:
        answer = login(client, "employer-two-orgs", next_path="/employer")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/employer/organisations?next=")
        page = client.get("/employer/organisations")
        assert "Rakennus Demo Oy (3045112-8)" in page.text
        assert "Kallion Nuorisoyhdistys ry (1234567-1)" in page.text
        # The dashboard waits for the choice.
        blocked = client.get("/employer", follow_redirects=False)
        assert blocked.status_code == 303
        assert blocked.headers["location"].startswith("/employer/organisations")
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        chosen = client.post(
            "/employer/organisations",
            data={"business_id": "1234567-1", "next": "/employer", "csrf_token": token},
            follow_redirects=False,
        )
        assert chosen.status_code == 303
        home = client.get("/employer")
        assert "Kallion Nuorisoyhdistys ry (1234567-1)" in home.text
        assert "Vaihda organisaatiota" in home.text
        association = db.exec(select(Company).where(Company.business_id == "1234567-1")).one()
        assert association.is_association

    def test_an_organisation_outside_the_mandates_cannot_be_chosen(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, "employer-two-orgs")
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        refused = client.post(
            "/employer/organisations", data={"business_id": "2956285-9", "csrf_token": token}
        )
        assert refused.status_code == 422
        assert live_session(db, client).business_id is None

    def test_no_organisations_gets_a_clear_page_with_logout(self, client: TestClient) -> None:
        answer = login(client, "no-orgs")
        assert answer.headers["location"] == "/employer/no-organisations"
        page = client.get("/employer/no-organisations", headers={"Accept-Language": "en"})
        assert "No authorisation to act for an organisation" in page.text
        assert 'action="/logout"' in page.text

    def test_return_target_is_kept_and_only_local(self, client: TestClient) -> None:
        assert (
            login(client, "employer-one", next_path="/employer?tab=1").headers["location"]
            == "/employer?tab=1"
        )
        other = TestClient(client.app)
        assert (
            login(other, "employer-one", next_path="//evil.example/x").headers["location"]
            == "/employer"
        )

    def test_the_request_to_the_provider_carries_pkce_nonce_state_and_language(
        self, client: TestClient
    ) -> None:
        client.cookies.set("lang", "sv")
        start = client.get("/login", follow_redirects=False)
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert query["ui_locales"] == ["sv"]
        assert query["code_challenge_method"] == ["S256"]
        assert query["code_challenge"][0]
        assert query["nonce"][0]
        assert query["state"][0]
        assert query["scope"] == ["openid profile email"]

    def test_login_rotates_the_session(self, client: TestClient, db: Session) -> None:
        login(client, "employer-one")
        first = client.cookies.get(COOKIE)
        login(client, "employer-one")
        second = client.cookies.get(COOKIE)
        assert first != second
        stale = TestClient(client.app, cookies={COOKIE: first or ""})
        assert stale.get("/employer", follow_redirects=False).status_code == 303


class TestApi:
    def test_anonymous_api_call_gets_401(self, client: TestClient) -> None:
        answer = client.get("/api/v1/employer/organisation")
        assert answer.status_code == 401
        assert answer.json()["detail"]["code"] == "login_required"

    def test_employer_reads_its_organisation(self, client: TestClient) -> None:
        login(client, "employer-two-orgs")
        assert (
            client.get("/api/v1/employer/organisation").json()["detail"]["code"]
            == "organisation_not_chosen"
        )
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        client.post(
            "/employer/organisations", data={"business_id": "1234567-1", "csrf_token": token}
        )
        body = client.get("/api/v1/employer/organisation").json()
        assert body["business_id"] == "1234567-1"
        assert body["is_association"] is True


class TestAnonymousAndCrossing:
    def test_anonymous_employer_page_goes_to_login_and_back(self, client: TestClient) -> None:
        answer = client.get("/employer", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Femployer"

    def test_anonymous_staff_page_goes_to_staff_login(self, client: TestClient) -> None:
        answer = client.get("/admin/sessions", follow_redirects=False)
        assert answer.headers["location"] == "/admin/login?next=%2Fadmin%2Fsessions"

    def test_staff_session_cannot_use_employer_pages(self, client: TestClient, db: Session) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get("/employer", follow_redirects=False).status_code == 403
        denied = db.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
        assert any(
            e.action == "access.forbidden.get" and e.target_id == "/employer" for e in denied
        )

    def test_employer_session_cannot_use_staff_pages(self, client: TestClient) -> None:
        login(client, "employer-one")
        assert client.get("/admin", follow_redirects=False).status_code == 403

    def test_same_sub_through_both_clients_is_two_users(
        self, client: TestClient, db: Session, idp: str
    ) -> None:
        httpx.put(
            f"{idp}/users/dual-person",
            json={"acr": "high", "groups": ["portal-admins"], "organizations": []},
        )
        login(client, "dual-person", staff=True)
        login(TestClient(client.app), "dual-person")
        users = db.exec(select(User).where(User.subject == "dual-person")).all()
        assert sorted(u.kind for u in users) == ["employer", "staff"]


class TestStaff:
    def test_roles_come_from_the_group_claim(self, client: TestClient, db: Session) -> None:
        answer = login(client, "staff-decider", staff=True)
        assert answer.headers["location"] == "/admin"
        assert live_session(db, client).role_set == {"decider"}
        page = client.get("/admin", headers={"Accept-Language": "en"})
        assert "Your roles: decider" in page.text

    def test_staff_member_without_a_mapped_role_gets_403(
        self, client: TestClient, idp: str, db: Session
    ) -> None:
        httpx.put(
            f"{idp}/users/staff-nobody", json={"name": "Ei Roolia", "groups": ["some-other-group"]}
        )
        answer = login(client, "staff-nobody", staff=True)
        assert answer.status_code == 403
        assert client.cookies.get(COOKIE) is None

    def test_only_admins_see_sessions(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get("/admin/sessions").status_code == 403

    def test_admin_ends_a_users_sessions(self, client: TestClient, db: Session) -> None:
        employer = TestClient(client.app)
        login(employer, "employer-one")
        assert employer.get("/employer").status_code == 200
        login(client, "staff-admin", staff=True)
        page = client.get("/admin/sessions")
        assert page.status_code == 200
        user = db.exec(
            select(User).where(User.subject == "employer-one", User.kind == "employer")
        ).one()
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        ended = client.post(
            f"/admin/users/{user.id}/end-sessions",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert ended.status_code == 303
        assert employer.get("/employer", follow_redirects=False).status_code == 303


class TestSessionLifetime:
    def test_idle_timeout(self, client: TestClient, db: Session) -> None:
        login(client, "employer-one")
        row = live_session(db, client)
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        db.add(row)
        db.flush()
        assert client.get("/employer", follow_redirects=False).status_code == 303
        db.refresh(row)
        assert row.end_reason == "idle"

    def test_absolute_timeout(self, client: TestClient, db: Session) -> None:
        login(client, "employer-one")
        row = live_session(db, client)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.flush()
        assert client.get("/employer", follow_redirects=False).status_code == 303
        db.refresh(row)
        assert row.end_reason == "expired"

    def test_logout_ends_the_session_here_and_at_the_provider(
        self, client: TestClient, db: Session, idp: str
    ) -> None:
        login(client, "employer-one")
        token = client.cookies.get(COOKIE)
        row = live_session(db, client)
        csrf = client.get("/api/v1/csrf").json()["csrf_token"]
        answer = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith(f"{idp}/oauth2/end_session?")
        assert "id_token_hint=" in location
        assert "post_logout_redirect_uri=" in location
        db.refresh(row)
        assert row.end_reason == "logout"
        assert row.id_token is None
        replay = TestClient(client.app, cookies={COOKIE: token or ""})
        for _ in range(3):
            assert replay.get("/employer", follow_redirects=False).status_code == 303


class TestForgedAnswers:
    def test_wrong_state_creates_no_session(self, client: TestClient, db: Session) -> None:
        start = client.get("/login", follow_redirects=False)
        with httpx.Client() as browser:
            answer = browser.post(
                start.headers["location"], data={"sub": "employer-one"}, follow_redirects=False
            )
        callback = httpx.URL(answer.headers["location"])
        params = dict(callback.params)
        params["state"] = "forged-state"
        failed = client.get("/auth/callback", params=params, headers={"Accept-Language": "en"})
        assert failed.status_code == 400
        assert "Login failed" in failed.text
        assert client.cookies.get(COOKIE) is None
        assert (
            db.exec(select(AuditEvent).where(AuditEvent.action == "login.failed")).first()
            is not None
        )

    def test_reused_code_creates_no_session(self, client: TestClient) -> None:
        start = client.get("/login", follow_redirects=False)
        with httpx.Client() as browser:
            answer = browser.post(
                start.headers["location"], data={"sub": "employer-one"}, follow_redirects=False
            )
        callback = httpx.URL(answer.headers["location"])
        url = f"{callback.path}?{callback.query.decode()}"
        assert client.get(url, follow_redirects=False).status_code == 303
        replay = TestClient(client.app)
        assert replay.get(url, follow_redirects=False).status_code == 400
        assert replay.cookies.get(COOKIE) is None

    def test_too_weak_assurance_creates_no_session(self, client: TestClient, idp: str) -> None:
        httpx.put(
            f"{idp}/users/weak-login", json={"name": "Heikko", "acr": "low", "organizations": []}
        )
        answer = login(client, "weak-login")
        assert answer.status_code == 400
        assert client.cookies.get(COOKIE) is None


@pytest.mark.parametrize(
    "path", ["/employer", "/employer/organisations", "/employer/no-organisations"]
)
def test_employer_pages_need_an_employer(client: TestClient, path: str) -> None:
    assert client.get(path, follow_redirects=False).headers["location"].startswith("/login?next=")


def test_identity_provider_down_is_a_clear_message(settings: object) -> None:
    from app.main import create_app

    down = create_app(settings.model_copy(update={"employer_oidc_issuer": "http://127.0.0.1:1"}))  # type: ignore[attr-defined]
    try:
        answer = TestClient(down).get(
            "/login", headers={"Accept-Language": "en"}, follow_redirects=False
        )
    finally:
        down.state.engine.dispose()
    assert answer.status_code == 503
    assert "The login service is not available right now" in answer.text


def test_ending_sessions_asks_first(client: TestClient) -> None:
    login(client, "staff-admin", staff=True)
    page = client.get("/admin/users/1/end-sessions", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "End the user's sessions?" in page.text
