"""Who may use the TET posting editor (#6, T20–T22), with real logins: a company's
representatives see all of its postings, a city unit's staff their unit's, nobody else (404);
anonymous visitors go to the login; staff without the TET role, or without a unit, are refused."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import UserSession
from app.tet.models import TetPosting
from tests.test_policies import policies
from tests.tet.factories import COMPANY, OTHER_COMPANY, UNIT, make_posting
from tests.tet.test_manage_pages import MANAGE, csrf, post, sign_in


def manage_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted((method, path) for method, path in policies(app) if path.startswith(MANAGE))


def call(client: TestClient, method: str, path: str, posting_id: int) -> int:
    url = path.replace("{posting_id}", str(posting_id))
    if method == "GET":
        answer = client.get(url, follow_redirects=False)
    else:
        answer = client.post(url, data={"csrf_token": csrf(client)}, follow_redirects=False)
    status: int = answer.status_code
    return status


def test_every_editor_route_has_the_tet_editor_policy(app: FastAPI) -> None:
    routes = manage_routes(app)
    assert len(routes) >= 17
    table = policies(app)
    assert {table[route] for route in routes} == {"tet-editor"}


def test_anonymous_visitors_go_to_the_employer_login(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    posting = make_posting(db)
    db.commit()
    token = csrf(client)
    for method, path in manage_routes(app):
        url = path.replace("{posting_id}", str(posting.id))
        if method == "GET":
            answer = client.get(url, follow_redirects=False)
        else:
            answer = client.post(url, data={"csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 303, (method, path)
        assert answer.headers["location"].startswith("/login?next=%2Ftet%2Fmanage"), path


def test_another_companys_postings_answer_404_everywhere(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    theirs = make_posting(db, COMPANY, title="Kahvilan paikka")
    mine = make_posting(db, OTHER_COMPANY, title="Rakennuspaikka")
    db.commit()
    sign_in(client, "employer-two-orgs", business_id=OTHER_COMPANY.id)
    routes = [r for r in manage_routes(app) if "{posting_id}" in r[1]]
    assert len(routes) == 11
    for method, path in routes:
        assert call(client, method, path, theirs.id or 0) == 404, (method, path)
    db.expire_all()
    still = db.get(TetPosting, theirs.id)
    assert still is not None
    assert still.status == "published"
    listing = client.get(MANAGE).text
    assert "Rakennuspaikka" in listing
    assert "Kahvilan paikka" not in listing
    assert client.get(f"{MANAGE}/{mine.id}/edit").status_code == 200


def test_every_representative_of_the_company_sees_its_postings(
    client: TestClient, db: Session
) -> None:
    """Postings belong to the company, not to the person who made them."""
    posting = make_posting(db, COMPANY, title="Yhteinen paikka")
    db.commit()
    sign_in(client, "employer-one")
    assert "Yhteinen paikka" in client.get(MANAGE).text
    assert client.get(f"{MANAGE}/{posting.id}/edit").status_code == 200
    # Switching to another organisation switches the postings.
    sign_in(client, "employer-two-orgs", business_id="1234567-1")
    assert "Yhteinen paikka" not in client.get(MANAGE).text
    assert client.get(f"{MANAGE}/{posting.id}/edit").status_code == 404


def test_staff_see_their_units_postings_only(app: FastAPI, client: TestClient, db: Session) -> None:
    ours = make_posting(db, UNIT, title="Koulun keittiö")
    company = make_posting(db, COMPANY, title="Kahvilan paikka")
    db.commit()
    sign_in(client, "staff-tet", staff=True)
    listing = client.get(MANAGE)
    assert listing.status_code == 200
    assert "Koulun keittiö" in listing.text
    assert "Kahvilan paikka" not in listing.text
    assert "Kasvatuksen ja koulutuksen toimiala" in listing.text  # acting for the unit
    assert client.get(f"{MANAGE}/{ours.id}/edit").status_code == 200
    for method, path in manage_routes(app):
        if "{posting_id}" in path:
            assert call(client, method, path, company.id or 0) == 404, (method, path)


def test_staff_create_postings_for_their_unit(client: TestClient, db: Session) -> None:
    sign_in(client, "staff-tet", staff=True)
    post(client, f"{MANAGE}/confirm", {"confirm": "true"})
    answer = post(
        client,
        f"{MANAGE}/new",
        {
            "action": "draft",
            "title": "Kirjastoapulainen",
            "org_unit": "Kallion kirjasto",
            "street": "Viides linja 11",
            "postcode": "00530",
            "city": "Helsinki",
        },
    )
    assert answer.status_code == 303, answer.text
    posting = db.exec(select(TetPosting)).one()
    assert (posting.owner_kind, posting.owner_id) == (UNIT.kind, UNIT.id)
    assert posting.organisation_name == "Helsingin kaupunki"


def test_an_employer_cannot_reach_staff_postings(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    unit_posting = make_posting(db, UNIT, title="Koulun keittiö")
    db.commit()
    sign_in(client, "employer-one")
    assert "Koulun keittiö" not in client.get(MANAGE).text
    for method, path in manage_routes(app):
        if "{posting_id}" in path:
            assert call(client, method, path, unit_posting.id or 0) == 404, (method, path)


@pytest.mark.parametrize("sub", ["staff-handler", "staff-admin"])
def test_staff_without_the_tet_role_are_refused(client: TestClient, sub: str) -> None:
    sign_in(client, sub, staff=True)
    assert client.get(MANAGE).status_code == 403
    assert client.get(f"{MANAGE}/new").status_code == 403


def test_staff_without_a_unit_are_told_why(client: TestClient, db: Session) -> None:
    sign_in(client, "staff-tet", staff=True)
    for row in db.exec(select(UserSession).where(UserSession.kind == "staff")).all():
        row.unit = None
        db.add(row)
    db.commit()
    answer = client.get(MANAGE)
    assert answer.status_code == 403
    assert "Your account has no city unit" in answer.text


def test_a_posting_that_does_not_exist_answers_404(client: TestClient) -> None:
    sign_in(client)
    assert client.get(f"{MANAGE}/999999/edit").status_code == 404
    assert client.get(f"{MANAGE}/999999/image").status_code == 404


def test_the_next_address_of_the_confirmation_stays_on_this_site(client: TestClient) -> None:
    sign_in(client)
    answer = post(client, f"{MANAGE}/confirm", {"confirm": "true", "next": "https://evil.example/"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}/new"
    assert not re.match(r"https?://", answer.headers["location"])
