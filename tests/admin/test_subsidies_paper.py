"""A paper application entered by staff (H31): the employer found in the trade register by
business id, the parts entered through the same validation as the employer's wizard, the scanned
paper application attached, the handler terms confirmed, and the application sent into the
queue with its number and origin=handler."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.documents.storage import FileStore
from app.subsidies.models import Application, ApplicationStatus, Origin
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf

S = ApplicationStatus
REGISTERED = "3100007-0"  # Handelshuset Gammal Ab in the trade-register fake
UNKNOWN = "7654321-2"  # well formed, not in the register


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def upload(client: TestClient, application_id: int, kind: str) -> int:
    answer = client.post(
        f"{f.BASE}/{application_id}/attachments",
        data={"csrf_token": f.token(client), "kind": kind},
        files={"file": (f"{kind}.pdf", sf.PDF, "application/pdf")},
        follow_redirects=False,
    )
    return int(answer.status_code)


def test_a_paper_application_is_entered_and_sent(client: TestClient, db: Session) -> None:
    f.staff_login(client, "staff-handler")
    page = client.get(f"{f.BASE}/paper", headers=f.EN)
    assert page.status_code == 200
    bad = f.post(
        client,
        f"{f.BASE}/paper",
        {"business_id": "123", "paper_application_date": sf.recent_start().isoformat()},
    )
    assert bad.status_code == 422
    unknown = client.post(
        f"{f.BASE}/paper",
        data={
            "business_id": UNKNOWN,
            "paper_application_date": sf.recent_start().isoformat(),
            "csrf_token": f.token(client),
        },
        headers=f.EN,
    )
    assert unknown.status_code == 422
    assert "No company with this business id was found" in unknown.text
    future = f.post(
        client,
        f"{f.BASE}/paper",
        {"business_id": REGISTERED, "paper_application_date": "2999-01-01"},
    )
    assert future.status_code == 422
    created = f.post(
        client,
        f"{f.BASE}/paper",
        {
            "business_id": REGISTERED,
            "paper_application_date": sf.recent_start().isoformat(),
            "language": "sv",
        },
    )
    assert created.status_code == 303, created.text
    application_id = int(created.headers["location"].rsplit("/", 1)[1])
    application = db.get(Application, application_id)
    assert application is not None
    assert application.status == S.draft
    assert application.origin == Origin.handler
    assert application.company_name == "Handelshuset Gammal Ab"
    assert application.language == "sv"
    detail = client.get(f"{f.BASE}/{application_id}", headers=f.EN)
    assert detail.status_code == 200
    assert "Paper application being entered" in detail.text
    # The queue does not list it yet; the paper page does.
    assert application_id not in f.linked_ids(client.get(f.BASE, params={"tab": "all"}).text)
    assert f"{f.BASE}/{application_id}" in client.get(f"{f.BASE}/paper").text
    # Sending now lists what is missing.
    missing = client.get(f"{f.BASE}/{application_id}/send", headers=f.EN)
    assert missing.status_code == 200
    assert "Still missing" in missing.text
    steps = {
        "employer": sf.employer_form(language="sv"),
        "de_minimis": {"de_minimis_aid": "false", "rows": "1"},
        "employee": sf.employee_form(),
        "period": sf.period_form(),
    }
    for step, data in steps.items():
        answer = f.post(client, f"{f.BASE}/{application_id}/sections/{step}", data)
        assert answer.status_code == 303, (step, answer.text[:2000])
    assert upload(client, application_id, "employment_contract") == 303
    assert upload(client, application_id, "full_application") == 303
    ready = client.get(f"{f.BASE}/{application_id}/send", headers=f.EN)
    assert "Every part of the application is filled in." in ready.text
    unticked = f.post(client, f"{f.BASE}/{application_id}/send", {})
    assert unticked.status_code == 422
    from app.subsidies.models import TermsKind

    sent = f.post(
        client, f"{f.BASE}/{application_id}/send", sf.consent_form(db, TermsKind.handler_terms)
    )
    assert sent.status_code == 303, sent.text
    db.expire_all()
    application = db.exec(select(Application).where(Application.id == application_id)).one()
    assert application.status == S.received
    assert application.application_number is not None
    assert application.paper_application_date == sf.recent_start()
    page = client.get(f.BASE, params={"q": str(application.application_number)}, headers=f.EN)
    assert application_id in f.linked_ids(page.text)
    assert "Paper" in page.text


def test_an_employer_never_sees_a_paper_draft(client: TestClient, db: Session) -> None:
    f.staff_login(client)
    created = f.post(
        client,
        f"{f.BASE}/paper",
        {"business_id": sf.COMPANY, "paper_application_date": sf.recent_start().isoformat()},
    )
    assert created.status_code == 303
    application_id = int(created.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()
    sf.employer_client(client, db)
    assert client.get(f"/employer/subsidies/applications/{application_id}").status_code == 404
