"""The employer's Helsinki-lisä pages over HTTP: terms, wizard, summary, sending, view (H2–H26)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.subsidies.models import Application, ApplicationStatus
from tests.subsidies import factories as f


def test_an_employer_applies_from_draft_to_sent(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    page = client.get(f"{path}/steps/employer")
    assert page.status_code == 200, page.text
    assert "Kahvila Esimerkki Oy" in page.text
    tasks = client.get(path)
    assert tasks.status_code == 200, tasks.text
    assert "Not started" in tasks.text
    f.fill_in(client, path)
    tasks = client.get(path)
    assert "Not started" not in tasks.text
    assert "Ready to send" in tasks.text, tasks.text
    summary = client.get(f"{path}/steps/summary")
    assert summary.status_code == 200, summary.text
    assert "The application cannot be sent yet" not in summary.text
    consents = client.get(f"{path}/steps/consents")
    assert consents.status_code == 200, consents.text
    sent = f.submit_form(client, path, db)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("/sent")
    confirmation = client.get(sent.headers["location"])
    application = db.exec(select(Application)).one()
    db.refresh(application)
    assert application.status == ApplicationStatus.received
    assert application.application_number is not None
    assert f"Application number: {application.application_number}" in confirmation.text
    view = client.get(path)
    assert "Waiting for handling" in view.text, view.text
