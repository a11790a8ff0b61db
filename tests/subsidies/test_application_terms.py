"""H2: the terms of service are accepted once per user, company and version before anything
else of the Helsinki-lisä employer service works; a new version asks again."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.subsidies import terms
from app.subsidies.models import Terms, TermsApproval, TermsConsent, TermsKind
from tests.subsidies import factories as f


def _new_version(db: Session) -> Terms:
    row = Terms(
        kind=TermsKind.terms_of_service,
        version="2099-1",
        effective_from=terms.helsinki_today() - timedelta(days=0),
        body_fi="Uudet ehdot",
        body_sv="Nya villkor",
        body_en="New terms",
    )
    db.add(row)
    db.flush()
    db.add(TermsConsent(terms_id=row.id or 0, ordering=1, text_fi="K", text_sv="J", text_en="Yes"))
    db.add(TermsConsent(terms_id=row.id or 0, ordering=2, text_fi="K2", text_sv="J2", text_en="Y2"))
    db.commit()
    return row


def test_nothing_works_before_the_terms_are_accepted(client: TestClient, db: Session) -> None:
    f.employer_client(client, db, accept=False)
    for path in ("/employer/subsidies", "/employer/subsidies/new"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/employer/subsidies/terms?next=")
    created = client.post(
        "/employer/subsidies/applications",
        data={"csrf_token": f.csrf_token(client)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"].startswith("/employer/subsidies/terms")
    api = client.get("/api/v1/subsidies/applications")
    assert api.status_code == 403
    assert api.json()["detail"]["code"] == "terms_not_accepted"
    made = client.post(
        "/api/v1/subsidies/applications", headers={"X-CSRF-Token": f.csrf_token(client)}
    )
    assert made.status_code == 403
    # The home page offers the way in instead of a list.
    home = client.get("/employer")
    assert "Start using the Helsinki benefit service" in home.text
    assert db.exec(select(TermsApproval)).all() == []


def test_the_terms_page_needs_every_consent_and_comes_back(client: TestClient, db: Session) -> None:
    f.employer_client(client, db, accept=False)
    page = client.get("/employer/subsidies/terms?next=/employer/subsidies/new")
    assert page.status_code == 200
    assert "Terms of service of the Helsinki benefit" in page.text
    current = terms.in_force(db, kind=TermsKind.terms_of_service)
    assert current is not None
    refused = client.post(
        "/employer/subsidies/terms",
        data={"csrf_token": f.csrf_token(client), "terms_id": str(current.id), "next": "/x"},
    )
    assert refused.status_code == 422
    assert "Tick every box to continue." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert db.exec(select(TermsApproval)).all() == []
    consent_ids = [str(c.id) for c in terms.consents_of(db, terms=current)]
    accepted = client.post(
        "/employer/subsidies/terms",
        data={
            "csrf_token": f.csrf_token(client),
            "terms_id": str(current.id),
            "consent_ids": consent_ids,
            "next": "/employer/subsidies/new",
        },
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/employer/subsidies/new"
    approval = db.exec(select(TermsApproval)).one()
    assert approval.terms_id == current.id
    assert approval.application_id is None
    assert approval.consent_ids == [int(i) for i in consent_ids]
    assert client.get("/employer/subsidies/new").status_code == 200
    assert client.get("/api/v1/subsidies/applications").status_code == 200
    # Accepted once: the terms page sends the user on.
    assert client.get("/employer/subsidies/terms", follow_redirects=False).status_code == 303
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "subsidy_terms.accept")).all()
    assert len(events) == 1


def test_an_offsite_next_is_not_followed(client: TestClient, db: Session) -> None:
    f.employer_client(client, db, accept=False)
    current = terms.in_force(db, kind=TermsKind.terms_of_service)
    assert current is not None
    answer = client.post(
        "/employer/subsidies/terms",
        data={
            "csrf_token": f.csrf_token(client),
            "terms_id": str(current.id),
            "consent_ids": [str(c.id) for c in terms.consents_of(db, terms=current)],
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/employer/subsidies"


def test_a_new_version_asks_again_and_an_old_one_is_refused(
    client: TestClient, db: Session
) -> None:
    f.employer_client(client, db)
    assert client.get("/employer/subsidies").status_code == 200
    old = terms.in_force(db, kind=TermsKind.terms_of_service)
    new = _new_version(db)
    assert terms.in_force(db, kind=TermsKind.terms_of_service) == new
    answer = client.get("/employer/subsidies", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/employer/subsidies/terms")
    assert "New terms" in client.get("/employer/subsidies/terms").text
    # Consents of the version read earlier do not accept the new one.
    assert old is not None
    stale = client.post(
        "/employer/subsidies/terms",
        data={
            "csrf_token": f.csrf_token(client),
            "terms_id": str(old.id),
            "consent_ids": [str(c.id) for c in terms.consents_of(db, terms=new)],
        },
    )
    assert stale.status_code == 422
    assert "The terms have changed" in stale.text
    f.accept_terms(client, db)
    assert client.get("/employer/subsidies").status_code == 200
    assert len(db.exec(select(TermsApproval)).all()) == 2


def test_the_api_shows_and_accepts_the_terms(client: TestClient, db: Session) -> None:
    f.employer_client(client, db, accept=False)
    shown = client.get("/api/v1/subsidies/terms-of-service")
    assert shown.status_code == 200
    body = shown.json()
    assert body["accepted"] is False
    assert body["kind"] == "terms_of_service"
    headers = {"X-CSRF-Token": f.csrf_token(client)}
    refused = client.post(
        "/api/v1/subsidies/terms-of-service",
        json={"terms_id": body["id"], "consent_ids": []},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["consent_ids", body["consents"][0]["id"]]
    accepted = client.post(
        "/api/v1/subsidies/terms-of-service",
        json={"terms_id": body["id"], "consent_ids": [c["id"] for c in body["consents"]]},
        headers=headers,
    )
    assert accepted.status_code == 200
    assert accepted.json()["accepted"] is True
    assert client.get("/api/v1/subsidies/applications").status_code == 200


def test_the_acceptance_is_per_company(client: TestClient, db: Session) -> None:
    f.employer_client(client, db, sub="employer-two-orgs", business_id=f.OTHER_COMPANY)
    assert client.get("/employer/subsidies").status_code == 200
    f.logout(client)
    f.employer_client(client, db, sub="employer-two-orgs", business_id=f.ASSOCIATION, accept=False)
    answer = client.get("/employer/subsidies", follow_redirects=False)
    assert answer.status_code == 303
    rows = db.exec(select(TermsApproval).where(col(TermsApproval.application_id).is_(None))).all()
    assert len(rows) == 1
