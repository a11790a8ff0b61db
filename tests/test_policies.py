"""Deny by default: every route declares who may use it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from app.security import route_policy

# Routes that are not FastAPI endpoints: the OpenAPI document and the static files.
NON_API_ROUTES = {"/openapi.json", "/static"}


def policies(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """(method, path) -> policy name, over the effective routes (included routers expanded)."""
    found: dict[tuple[str, str], str | None] = {}
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            for method in sorted(context.methods or ()):
                found[(method, str(context.path))] = route_policy(context.dependant.dependencies)
        else:
            assert context.path in NON_API_ROUTES, f"unexpected non-API route {context.path}"
    return found


def test_every_route_declares_an_access_policy(app: FastAPI) -> None:
    table = policies(app)
    assert len(table) >= 10  # the walk really sees the routes of the included routers
    assert [route for route, policy in table.items() if policy is None] == []


def test_a_route_without_a_policy_is_caught(app: FastAPI) -> None:
    other = create_app(app.state.settings)

    @other.get("/forgotten")
    def forgotten() -> None:
        return None

    try:
        assert policies(other)[("GET", "/forgotten")] is None
    finally:
        other.state.engine.dispose()


def test_the_public_routes_are_the_expected_ones(app: FastAPI) -> None:
    public = {path for (_method, path), policy in policies(app).items() if policy == "anonymous"}
    assert public == {
        "/",
        "/accessibility",
        "/privacy",
        "/lang/{lang}",
        "/accessibility/feedback",
        "/accessibility/feedback/thanks",
        "/healthz",
        "/api/v1/ping",
        "/api/v1/csrf",
        "/api/v1/accessibility-feedback",
        # Login flows: they end in a session only after the provider's answer is verified.
        "/login",
        "/auth/callback",
        "/admin/login",
        "/admin/auth/callback",
        "/logout",
        "/auth/backchannel-logout",
        # Kesäseteli for young people: no login.
        "/summer-voucher",
        "/summer-voucher/apply",
        "/summer-voucher/thanks",
        "/summer-voucher/activate/{token}",
        "/summer-voucher/additional-info/{token}",
        "/api/v1/summer-voucher/youth-applications",
        "/api/v1/summer-voucher/activations/{token}",
        # Helsinki-lisä: the amount estimate before applying (no personal data).
        "/subsidies/estimate",
        "/api/v1/subsidies/estimate",
        # TET for pupils: the search, published postings and their images, the same as JSON.
        "/tet",
        "/tet/postings/{posting_id}",
        "/tet/postings/{posting_id}/image",
        "/api/v1/tet/postings",
        "/api/v1/tet/postings/{posting_id}",
        "/api/v1/tet/classifications",
    }


def test_employer_and_staff_routes_have_their_audiences(app: FastAPI) -> None:
    table = policies(app)
    assert table[("GET", "/employer")] == "employer"
    assert table[("GET", "/employer/organisations")] == "employer-login"
    assert table[("GET", "/admin")] == "staff:any"
    assert table[("GET", "/admin/sessions")] == "staff:admin"
    assert table[("POST", "/admin/users/{user_id}/end-sessions")] == "staff:admin"
