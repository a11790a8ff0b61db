"""Every employer and staff route x every kind of actor: only the declared audience gets in."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import login
from tests.test_policies import policies

STAFF_ROLE_OF = {
    "staff-handler": "handler",
    "staff-decider": "decider",
    "staff-payer": "payer",
    "staff-admin": "admin",
}
ACTORS = ["anonymous", "employer-one", "employer-two-orgs", *STAFF_ROLE_OF]


def allowed(policy: str, actor: str) -> bool:
    if actor == "anonymous":
        return False
    if policy in ("employer", "employer-login"):
        return actor.startswith("employer")
    if policy.startswith("staff:"):
        if actor not in STAFF_ROLE_OF:
            return False
        roles = policy.removeprefix("staff:")
        return roles == "any" or STAFF_ROLE_OF[actor] in roles.split(",")
    raise AssertionError(f"unknown policy {policy}")


def sign_in(client: TestClient, actor: str) -> None:
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


@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(app: FastAPI, client: TestClient, db: Session, actor: str) -> None:
    sign_in(client, actor)
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
