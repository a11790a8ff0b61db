"""Sending (H15–H20), double submits, the change history after sending (H27) and answering a
request for more information (H26)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.db import utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.subsidies import events, messages, service
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Counter,
    FieldChange,
    MessageKind,
    Origin,
    StatusEvent,
    TermsApproval,
)
from app.subsidies.schemas import SubmitIn
from tests.subsidies import factories as f

S = ApplicationStatus


def _counter(db: Session) -> int:
    return db.exec(select(Counter.value).where(Counter.name == events.APPLICATION_NUMBER)).one()


def test_a_submit_with_anything_missing_lists_it_step_by_step(
    client: TestClient, db: Session
) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    assert f.post_step(client, path, "employer", f.employer_form()).status_code == 303
    refused = client.post(f"{path}/submit", data={"csrf_token": f.csrf_token(client)})
    assert refused.status_code == 422
    text = refused.text
    assert "The application cannot be sent yet" in text
    for step in ("de_minimis", "employee", "period", "attachments"):
        assert f"{path}/steps/{step}#f-" in text
    assert f"{path}/steps/employer#f-" not in text  # that step is complete
    assert f"{path}/steps/employee#f-employee_hetu" in text
    assert f"{path}/steps/attachments#f-employment_contract" in text
    assert "Tick every box to continue." in text
    application = db.exec(select(Application)).one()
    db.refresh(application)
    assert application.status == S.draft
    assert application.application_number is None


def test_every_consent_is_needed(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    f.fill_in(client, path)
    consents = f.consent_form(db)
    answer = client.post(
        f"{path}/submit",
        data={
            "csrf_token": f.csrf_token(client),
            "terms_id": consents["terms_id"],
            "consent_ids": consents["consent_ids"][:-1],
        },
    )
    assert answer.status_code == 422
    assert answer.text.count("Tick every box to continue.") == 2  # the summary and the field
    assert "The application cannot be sent yet" not in answer.text
    assert (
        db.exec(select(TermsApproval).where(col(TermsApproval.application_id).isnot(None))).all()
        == []
    )


def test_sending_numbers_the_application_and_freezes_the_register_data(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    f.fill_in(client, path)
    before = _counter(db)
    sent = f.submit_form(client, path, db)
    assert sent.status_code == 303
    application = db.exec(select(Application)).one()
    db.refresh(application)
    assert application.status == S.received
    assert application.application_number == before + 1
    assert application.submitted_at is not None
    assert application.last_submitted_at == application.submitted_at
    assert application.company_name == "Kahvila Esimerkki Oy"
    assert application.official_city
    approval = db.exec(
        select(TermsApproval).where(TermsApproval.application_id == application.id)
    ).one()
    assert approval.consent_ids == [int(i) for i in f.consent_form(db)["consent_ids"]]
    (event,) = db.exec(
        select(StatusEvent).where(StatusEvent.application_id == application.id)
    ).all()
    assert (event.from_status, event.to_status, event.actor_is_staff) == (
        "draft",
        "received",
        False,
    )
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "subsidy_application.status.received")
    ).one()
    page = client.get(sent.headers["location"])
    assert f"Application number: {application.application_number}" in page.text
    # Locked now (H22).
    assert f.post_step(client, path, "employer", f.employer_form()).status_code == 409
    assert (
        client.post(f"{path}/delete", data={"csrf_token": f.csrf_token(client)}).status_code == 409
    )
    assert f.upload(client, path, "other_attachment").status_code == 409
    step_page = client.get(f"{path}/steps/employer", follow_redirects=False)
    assert step_page.status_code == 303
    # The next application gets the next number.
    second = f.submitted_application(db, app.state.file_store, actor=_me(db))
    assert second.application_number == application.application_number + 1


def _me(db: Session, business_id: str = f.COMPANY) -> Any:
    from app.auth.models import User
    from app.security import Actor

    me = db.exec(select(User).where(User.kind == "employer", User.subject == "employer-one")).one()
    return Actor(kind="employer", user_id=str(me.id), provider="x", business_id=business_id)


def test_a_double_submit_sends_once(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    f.fill_in(client, path)
    first = f.submit_form(client, path, db)
    second = f.submit_form(client, path, db)  # the other tab, or the second click
    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["location"].endswith("/sent?already=1")
    assert "It was sent only once" in client.get(second.headers["location"]).text
    application = db.exec(select(Application)).one()
    db.refresh(application)
    api = client.post(
        f"/api/v1/subsidies/applications/{application.id}/submit",
        json={"consent_ids": []},
        headers={"X-CSRF-Token": f.csrf_token(client)},
    )
    assert api.status_code == 409
    assert api.json()["detail"]["code"] == "already_submitted"
    assert len(db.exec(select(StatusEvent)).all()) == 1


def test_two_submits_at_once_get_one_number(db: Session, app: FastAPI) -> None:
    """The other tab's submit committed after this one read the draft: the conditional status
    update refuses the second, and its number is given back with its rollback."""
    actor = f.employer_actor(db)
    application = f.complete_application(db, app.state.file_store, actor=actor)
    db.commit()
    before = _counter(db)
    table: sa.Table = Application.__table__  # type: ignore[attr-defined]
    db.execute(
        sa.update(table)
        .where(table.c.id == application.id)
        .values(status="received", application_number=before + 1)
        .execution_options(synchronize_session=False)
    )
    counter: sa.Table = Counter.__table__  # type: ignore[attr-defined]
    db.execute(
        sa.update(counter)
        .where(counter.c.name == events.APPLICATION_NUMBER)
        .values(value=before + 1)
    )
    assert application.status == S.draft  # what this request read
    with pytest.raises(service.AlreadySubmitted), db.begin_nested():
        service.submit(db, application=application, data=f.applicant_consents(db), actor=actor)
    assert _counter(db) == before + 1
    assert db.exec(select(StatusEvent)).all() == []


def test_an_employer_cannot_send_staffs_paper_draft(db: Session, app: FastAPI) -> None:
    actor = f.employer_actor(db)
    paper = service.create_draft(
        db, actor=f.staff_actor(db), language="fi", company=f.company(db), origin=Origin.handler
    )
    with pytest.raises(InvalidTransition):
        service.submit(db, application=paper, data=SubmitIn(), actor=actor)
    assert not service.visible_to_employer(paper)


# --- After sending: staff edits and the change history (H27) --------------------------------------


def test_changes_after_sending_are_written_to_the_history(db: Session, app: FastAPI) -> None:
    actor = f.employer_actor(db)
    application = f.submitted_application(db, app.state.file_store, actor=actor)
    handler = f.staff_actor(db)
    with pytest.raises(service.ApplicationLocked):
        service.save_step(
            db, application=application, step="employee", data=f.employee_step(), actor=actor
        )
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(monthly_pay="2600", employee_last_name="Virtanen-Koski"),
        actor=handler,
        reason="Palkka tarkistettu työsopimuksesta",
    )
    changes = db.exec(select(FieldChange).order_by(col(FieldChange.field_name))).all()
    assert [(c.field_name, c.old_value, c.new_value) for c in changes] == [
        ("employee_last_name", "Virtanen", "Virtanen-Koski"),
        ("monthly_pay", "2500.00", "2600.00"),
    ]
    assert all(
        c.actor_is_staff and c.reason == "Palkka tarkistettu työsopimuksesta" for c in changes
    )
    assert changes[0].actor_name == "Hanna Käsittelijä"
    assert application.employee_last_name_index == service.last_name_index("virtanen-koski")
    # Drafts have no history.
    draft = f.complete_application(db, app.state.file_store, actor=actor)
    service.save_step(
        db, application=draft, step="period", data=f.period_step(months=3), actor=actor
    )
    assert (
        len(db.exec(select(FieldChange).where(FieldChange.application_id == draft.id)).all()) == 0
    )


# --- More information (H26) ------------------------------------------------------------------------


def _ask_for_information(db: Session, application: Application, steps: list[str] | None) -> None:
    handler = f.staff_actor(db)
    events.move(db, application=application, target=S.handling, actor=handler, role="handler")
    messages.post(
        db,
        application=application,
        actor=handler,
        kind=MessageKind.handler_message,
        content="Lisää palkkatiedot, kiitos.",
        notify=False,
    )
    events.move(
        db,
        application=application,
        target=S.additional_information_needed,
        actor=handler,
        role="handler",
        stamps={
            "reopened_steps": steps,
            "information_requested_at": utcnow() - timedelta(seconds=1),
            "information_deadline": service.today() + timedelta(days=7),
        },
    )


def test_the_applicant_answers_a_request_for_more_information(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    f.employer_client(client, db)
    application = f.submitted_application(db, app.state.file_store, actor=_me(db))
    number = application.application_number
    _ask_for_information(db, application, ["employee", "attachments"])
    db.commit()
    path = f"/employer/subsidies/applications/{application.id}"
    page = client.get(path)
    assert "The handler asks for more information" in page.text
    assert "Lisää palkkatiedot, kiitos." in page.text
    deadline = service.today() + timedelta(days=7)
    assert f"{deadline.day}.{deadline.month}.{deadline.year}" in page.text
    assert f"{path}/steps/employee" in page.text
    assert f'{path}/steps/employer"' not in page.text
    # Only the reopened steps.
    assert f.post_step(client, path, "employer", f.employer_form()).status_code == 409
    assert client.get(f"{path}/steps/employer", follow_redirects=False).status_code == 303
    changed = f.post_step(client, path, "employee", f.employee_form(monthly_pay="2 700"))
    assert changed.status_code == 303
    assert changed.headers["location"].endswith("/steps/attachments")
    assert f.upload(client, path, "other_attachment", name="palkkalaskelma.pdf").status_code == 303
    history = {c.field_name: c for c in db.exec(select(FieldChange)).all()}
    assert history["monthly_pay"].new_value == "2700.00"
    assert not history["monthly_pay"].actor_is_staff
    assert history["attachments"].new_value == "palkkalaskelma.pdf (other_attachment)"
    consents = client.get(f"{path}/steps/consents")
    assert (
        "The terms you accepted when you first sent the application still apply." in consents.text
    )
    resent = client.post(
        f"{path}/submit", data={"csrf_token": f.csrf_token(client)}, follow_redirects=False
    )
    assert resent.status_code == 303, resent.text
    db.refresh(application)
    assert application.status == S.handling
    assert application.application_number == number
    assert application.last_submitted_at is not None
    assert application.submitted_at is not None
    assert application.last_submitted_at > application.submitted_at
    assert "The application was sent again" in client.get(resent.headers["location"]).text
    last = db.exec(select(StatusEvent).order_by(col(StatusEvent.id).desc())).first()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor_is_staff) == (
        "additional_information_needed",
        "handling",
        False,
    )
    view = client.get(path)
    assert "Sent again with more information" in view.text


def test_all_steps_open_when_the_handler_names_none(db: Session, app: FastAPI) -> None:
    actor = f.employer_actor(db)
    application = f.submitted_application(db, app.state.file_store, actor=actor)
    _ask_for_information(db, application, None)
    assert service.editable_steps(application, actor) == list(service.EDIT_STEPS)
    service.save_step(
        db,
        application=application,
        step="period",
        data=f.period_step(start=service.today() - timedelta(days=400)),
        actor=actor,
    )
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(is_living_in_helsinki=False),
        actor=actor,
    )
    # Sent again, it is checked as a whole; the four-month limit was for the first submission.
    with pytest.raises(ValidationFailed) as refused:
        service.submit(db, application=application, data=SubmitIn(), actor=actor)
    assert [e["loc"] for e in refused.value.errors] == [("employee", "is_living_in_helsinki")]
    assert application.status == S.additional_information_needed


def test_staff_send_a_paper_application_with_the_handler_terms(db: Session, app: FastAPI) -> None:
    """H31 through the same service: staff edit their own paper draft, the scan is required
    instead of the employee's consent, the start date limit does not apply, and the handler
    terms are accepted."""
    from app.documents.uploads import check_upload
    from app.subsidies import attachments, terms
    from app.subsidies.models import AttachmentType, TermsKind

    handler = f.staff_actor(db)
    paper = service.create_draft(
        db, actor=handler, language="sv", company=f.company(db), origin=Origin.handler
    )
    steps: list[tuple[str, Any]] = [
        ("employer", f.employer_step()),
        ("de_minimis", f.de_minimis_step()),
        ("employee", f.employee_step()),
        ("period", f.period_step(start=service.today() - timedelta(days=200))),
    ]
    for step, data in steps:
        service.save_step(db, application=paper, step=step, data=data, actor=handler)
    attachments.add(
        db,
        application=paper,
        kind=AttachmentType.employment_contract,
        upload=check_upload(f.PDF, "sopimus.pdf"),
        store=app.state.file_store,
        actor=handler,
    )
    found = service.submit_problems(db, application=paper, actor=handler)
    assert [p["loc"] for p in service.all_problems(found)] == [("attachments", "full_application")]
    attachments.add(
        db,
        application=paper,
        kind=AttachmentType.full_application,
        upload=check_upload(f.PDF, "hakemus.pdf"),
        store=app.state.file_store,
        actor=handler,
    )
    handler_terms = terms.in_force(db, kind=TermsKind.handler_terms)
    assert handler_terms is not None
    ids = [c.id or 0 for c in terms.consents_of(db, terms=handler_terms)]
    service.submit(
        db,
        application=paper,
        data=SubmitIn(terms_id=handler_terms.id, consent_ids=ids),
        actor=handler,
    )
    assert paper.status == S.received
    assert paper.application_number is not None
    approval = db.exec(select(TermsApproval).where(TermsApproval.application_id == paper.id)).one()
    assert approval.terms_id == handler_terms.id
    event = db.exec(select(StatusEvent).where(StatusEvent.application_id == paper.id)).one()
    assert event.actor_is_staff
