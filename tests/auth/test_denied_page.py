"""A refused request gets the 403 page, also when the request has a session of its own that is
closed before the page is made (the `client` fixture's shared session never is)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from tests.conftest import login
from tests.summer_voucher.test_concurrent_writes import app_with_own_database


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory, idp: str) -> Iterator[FastAPI]:
    with app_with_own_database(tmp_path_factory, idp, "denied") as application:
        yield application


def test_a_refused_staff_member_sees_the_403_page_and_the_attempt_is_logged(
    own_app: FastAPI,
) -> None:
    client = TestClient(own_app, raise_server_exceptions=False)
    login(client, "staff-payer", staff=True)
    page = client.get("/admin/summer-voucher/youth", headers={"Accept-Language": "en"})
    assert page.status_code == 403, page.text[:300]
    assert "Log out" in page.text  # the page still knows who is logged in
    with Session(own_app.state.engine) as session:
        denied = session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == "access.forbidden.get")
        ).all()
    assert [e.target_id for e in denied] == ["/admin/summer-voucher/youth"]
