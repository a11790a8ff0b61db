"""Every employer and staff route x every kind of actor: only the declared audience gets in."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import login
from tests.subsidies import factories as subsidy_factories
from tests.test_policies import policies

STAFF_ROLE_OF = {
    "staff-handler": "handler",
    "staff-decider": "decider",
    "staff-payer": "payer",
    "staff-admin": "admin",
    "staff-tet": "tet",
}
ACTORS = ["anonymous", "employer-one", "employer-two-orgs", *STAFF_ROLE_OF]


def allowed(policy: str, actor: str) -> bool:
    if actor == "anonymous":
        return False
    if policy in ("employer", "employer-login"):
        return actor.startswith("employer")
    if policy == "tet-editor":  # an employer for an organisation, or staff of a city unit
        return actor.startswith("employer") or STAFF_ROLE_OF.get(actor) == "tet"
    if policy.startswith("staff:"):
        if actor not in STAFF_ROLE_OF:
            return False
        roles = policy.removeprefix("staff:")
        return roles == "any" or STAFF_ROLE_OF[actor] in roles.split(",")
    raise AssertionError(f"unknown policy {policy}")


def sign_in(client: TestClient, actor: str, db: Session) -> None:
    if actor == "anonymous":
        return
    if actor in STAFF_ROLE_OF:
        login(client, actor, staff=True)
        return
    answer = login(client, actor)
    if answer.headers["location"].startswith("/employer/organisations"):
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        client.post(
            "/employer/organisations", data={"business_id": "3045112-8", "csrf_token": token}
        )
    # Helsinki-lisä: every employer route but the terms' needs the terms of service accepted
    # (H2; tests/subsidies test the gate itself).
    subsidy_factories.accept_terms(client, db)


@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(app: FastAPI, client: TestClient, db: Session, actor: str) -> None:
    sign_in(client, actor, db)
    user_id = 999_999  # nobody's: ending "their" sessions must not log the actor out mid-walk
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    checked = 0
    for (method, path), policy in policies(app).items():
        if policy in (None, "anonymous"):
            continue
        url = re.sub(r"\{user_id\}", str(user_id), path)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = client.request(
                method, url, data={"csrf_token": token}, follow_redirects=False
            )
        location = response.headers.get("location", "")
        let_in = not (
            response.status_code in (401, 403)
            or (response.status_code == 303 and location.startswith(("/login", "/admin/login")))
        )
        assert let_in is allowed(policy, actor), (
            actor,
            method,
            path,
            response.status_code,
            location,
        )
        if actor == "anonymous":
            expected = "/admin/login?next=" if policy.startswith("staff:") else "/login?next="
            if path.startswith("/api/"):
                assert response.status_code == 401
            else:
                assert location.startswith(expected), (path, location)
        checked += 1
    assert checked >= 6


# Helsinki-lisä, the employer's side (issue #5): every page and API route is for employers
# acting for an organisation (and, but for the terms, needs the terms of service accepted).
SUBSIDY_EMPLOYER_ROUTES = [
    ("GET", "/api/v1/subsidies/applications"),
    ("POST", "/api/v1/subsidies/applications"),
    ("DELETE", "/api/v1/subsidies/applications/{application_id}"),
    ("GET", "/api/v1/subsidies/applications/{application_id}"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/applicant-terms"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/attachments"),
    ("POST", "/api/v1/subsidies/applications/{application_id}/attachments"),
    ("DELETE", "/api/v1/subsidies/applications/{application_id}/attachments/{attachment_id}"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/attachments/{attachment_id}"),
    ("POST", "/api/v1/subsidies/applications/{application_id}/copy"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/messages"),
    ("POST", "/api/v1/subsidies/applications/{application_id}/messages"),
    ("PATCH", "/api/v1/subsidies/applications/{application_id}/steps/de_minimis"),
    ("PUT", "/api/v1/subsidies/applications/{application_id}/steps/de_minimis"),
    ("PATCH", "/api/v1/subsidies/applications/{application_id}/steps/employee"),
    ("PUT", "/api/v1/subsidies/applications/{application_id}/steps/employee"),
    ("PATCH", "/api/v1/subsidies/applications/{application_id}/steps/employer"),
    ("PUT", "/api/v1/subsidies/applications/{application_id}/steps/employer"),
    ("PATCH", "/api/v1/subsidies/applications/{application_id}/steps/period"),
    ("PUT", "/api/v1/subsidies/applications/{application_id}/steps/period"),
    ("POST", "/api/v1/subsidies/applications/{application_id}/submit"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/submit-problems"),
    ("GET", "/api/v1/subsidies/applications/{application_id}/timeline"),
    ("GET", "/api/v1/subsidies/{application_id}/decision"),
    ("GET", "/api/v1/subsidies/terms-of-service"),
    ("POST", "/api/v1/subsidies/terms-of-service"),
    ("GET", "/employer/subsidies"),
    ("POST", "/employer/subsidies/applications"),
    ("GET", "/employer/subsidies/applications/{application_id}"),
    ("POST", "/employer/subsidies/applications/{application_id}/attachments"),
    ("GET", "/employer/subsidies/applications/{application_id}/attachments/{attachment_id}"),
    (
        "POST",
        "/employer/subsidies/applications/{application_id}/attachments/{attachment_id}/delete",
    ),
    ("POST", "/employer/subsidies/applications/{application_id}/copy"),
    ("GET", "/employer/subsidies/applications/{application_id}/decision-letter"),
    ("GET", "/employer/subsidies/applications/{application_id}/delete"),
    ("POST", "/employer/subsidies/applications/{application_id}/delete"),
    ("GET", "/employer/subsidies/applications/{application_id}/messages"),
    ("POST", "/employer/subsidies/applications/{application_id}/messages"),
    ("GET", "/employer/subsidies/applications/{application_id}/sent"),
    ("GET", "/employer/subsidies/applications/{application_id}/steps/{step}"),
    ("POST", "/employer/subsidies/applications/{application_id}/steps/{step}"),
    ("POST", "/employer/subsidies/applications/{application_id}/submit"),
    ("GET", "/employer/subsidies/new"),
    ("GET", "/employer/subsidies/terms"),
    ("POST", "/employer/subsidies/terms"),
]


def test_helsinki_lisa_employer_routes_are_for_employers(app: FastAPI) -> None:
    table = policies(app)
    for route in SUBSIDY_EMPLOYER_ROUTES:
        assert table.get(route) == "employer", route
    ours = {
        route
        for route in table
        if route[1].startswith(("/employer/subsidies", "/api/v1/subsidies/applications"))
    }
    assert ours <= set(SUBSIDY_EMPLOYER_ROUTES), ours - set(SUBSIDY_EMPLOYER_ROUTES)


# Public routes open to every actor, logged in or not (the access walk above skips them).
PUBLIC_ROUTES = [
    ("GET", "/subsidies/estimate", 200),
    ("POST", "/subsidies/estimate", 422),  # an empty form: the page with its error summary
    ("POST", "/api/v1/subsidies/estimate", 422),  # an empty body: field messages
]


@pytest.mark.parametrize("actor", ACTORS)
def test_public_routes_let_everyone_in(
    app: FastAPI, client: TestClient, db: Session, actor: str
) -> None:
    sign_in(client, actor, db)
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    table = policies(app)
    for method, path, status in PUBLIC_ROUTES:
        assert table[(method, path)] == "anonymous", path
        if method == "GET":
            response = client.get(path, follow_redirects=False)
        elif path.startswith("/api/"):
            response = client.post(path, json={}, follow_redirects=False)
        else:
            response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == status, (actor, method, path, response.status_code)


# Helsinki-lisä staff routes (issue #5 §5, §8): handlers, deciders and admins; the decision and
# returning it for deciders and admins only.
HANDLING = "staff:admin,decider,handler"
DECIDING = "staff:admin,decider"
SUBSIDY_STAFF_ROUTES = [
    ("GET", "/admin/subsidies", HANDLING),
    ("GET", "/admin/subsidies/paper", HANDLING),
    ("POST", "/admin/subsidies/paper", HANDLING),
    ("GET", "/admin/subsidies/{application_id}", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/attachments", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/attachments/{attachment_id}", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/attachments/{attachment_id}/delete", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/attachments/{attachment_id}/delete", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/calculation", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/calculation", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/cancel", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/cancel", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/decision", DECIDING),
    ("POST", "/admin/subsidies/{application_id}/decision", DECIDING),
    ("POST", "/admin/subsidies/{application_id}/decision/preview", DECIDING),
    ("POST", "/admin/subsidies/{application_id}/lock", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/messages", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/previous-benefits", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/previous-benefits", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/previous-benefits/{benefit_id}/delete", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/request-information", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/request-information", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/return", DECIDING),
    ("POST", "/admin/subsidies/{application_id}/return", DECIDING),
    ("POST", "/admin/subsidies/{application_id}/review", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/sections/{step}", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/sections/{step}", HANDLING),
    ("GET", "/admin/subsidies/{application_id}/send", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/send", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/take", HANDLING),
    ("POST", "/admin/subsidies/{application_id}/take-over", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications/{application_id}", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications/{application_id}/calculation", HANDLING),
    ("PUT", "/api/v1/subsidies/staff/applications/{application_id}/calculation", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/cancel", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications/{application_id}/decision", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/decision", DECIDING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/lock", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications/{application_id}/messages", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/messages", HANDLING),
    ("GET", "/api/v1/subsidies/staff/applications/{application_id}/previous-benefits", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/previous-benefits", HANDLING),
    (
        "DELETE",
        "/api/v1/subsidies/staff/applications/{application_id}/previous-benefits/{benefit_id}",
        HANDLING,
    ),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/request-information", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/return", DECIDING),
    ("PUT", "/api/v1/subsidies/staff/applications/{application_id}/review-marks", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/take", HANDLING),
    ("POST", "/api/v1/subsidies/staff/applications/{application_id}/take-over", HANDLING),
    *(
        ("PATCH", f"/api/v1/subsidies/staff/applications/{{application_id}}/steps/{step}", HANDLING)
        for step in ("employer", "de_minimis", "employee", "period")
    ),
]


def test_helsinki_lisa_staff_routes_have_their_roles(app: FastAPI) -> None:
    table = policies(app)
    for method, path, policy in SUBSIDY_STAFF_ROUTES:
        assert table.get((method, path)) == policy, (method, path)
    ours = {
        route
        for route in table
        if route[1].startswith(("/admin/subsidies", "/api/v1/subsidies/staff"))
    }
    listed = {(method, path) for method, path, _policy in SUBSIDY_STAFF_ROUTES}
    assert ours == listed, ours ^ listed
