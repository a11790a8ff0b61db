"""After sending: the read-only view with the applicant's timeline and the decision (H21–H22),
the organisation's lists and the dashboard, copying (H23), deleting, messages (H24), another
company's applications (404) and the audit rows (H72)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.subsidies import events, messages, service, timeline
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Attachment,
    DeMinimisAid,
    Message,
    MessageKind,
)
from tests.subsidies import factories as f
from tests.subsidies.test_application_submit import _me

S = ApplicationStatus


def _move(db: Session, application: Application, target: S, **stamps: object) -> None:
    role = (
        "decider"
        if target in (S.accepted, S.rejected)
        or application.status
        in (
            S.accepted,
            S.rejected,
        )
        else "handler"
    )
    staff = f.staff_actor(db, subject=f"staff-{role}", roles=frozenset({role}))
    events.move(db, application=application, target=target, actor=staff, role=role, stamps=stamps)


def test_the_timeline_shows_the_applicant_where_the_application_is(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    f.employer_client(client, db)
    application = f.submitted_application(db, app.state.file_store, actor=_me(db))
    db.commit()
    path = f"/employer/subsidies/applications/{application.id}"
    page = client.get(path)
    assert "Waiting for handling" in page.text
    assert "Application sent: waiting for handling" in page.text
    assert "The City of Helsinki" in page.text
    assert "Decision" not in page.text
    _move(db, application, S.handling)
    _move(db, application, S.accepted, granted_amount=Decimal("4800.00"), decision="accepted")
    _move(db, application, S.handling)  # returned to handling: the decision was not final
    db.commit()
    page = client.get(path)
    assert "In handling" in page.text
    assert "Decision: accepted" not in page.text
    assert "4\xa0800,00" not in page.text
    api = client.get(f"/api/v1/subsidies/applications/{application.id}")
    assert api.json()["decision"] is None
    _move(db, application, S.accepted)
    db.commit()
    page = client.get(path)
    assert "Decision: accepted" in page.text
    assert "4\xa0800,00" in page.text
    assert "The Helsinki benefit was granted." in page.text
    body = client.get(f"/api/v1/subsidies/applications/{application.id}").json()
    assert body["decision"]["granted_amount"] == "4800.00"
    entries = client.get(f"/api/v1/subsidies/applications/{application.id}/timeline").json()
    assert [e["event"] for e in entries["entries"]] == ["created", "sent", "handling", "accepted"]
    assert entries["entries"][-1]["current"] is True
    assert entries["next_actor"] == "city"


def test_a_rejection_shows_its_reason(db: Session, app: FastAPI) -> None:
    actor = f.employer_actor(db)
    application = f.submitted_application(db, app.state.file_store, actor=actor)
    _move(db, application, S.handling)
    _move(db, application, S.rejected, decision="rejected", decision_reason="Ei työttömänä.")
    found = timeline.applicant_timeline(db, application=application)
    assert [e.event for e in found] == ["created", "sent", "handling", "rejected"]
    assert timeline.NEXT_ACTOR[application.status] is None


def test_the_lists_and_the_dashboard(client: TestClient, db: Session, app: FastAPI) -> None:
    f.employer_client(client, db)
    me = _me(db)
    sent = f.submitted_application(db, app.state.file_store, actor=me)
    draft = f.complete_application(
        db, app.state.file_store, actor=me, employee={"employee_first_name": "Onni"}
    )
    asked = f.submitted_application(
        db, app.state.file_store, actor=me, employee={"employee_first_name": "Iida"}
    )
    _move(db, asked, S.handling)
    _move(db, asked, S.additional_information_needed, information_deadline=service.today())
    db.commit()
    home = client.get("/employer")
    assert "Answer the handler's questions" in home.text
    assert "Onni Virtanen" in home.text
    assert f"Application {sent.application_number}" in home.text
    listing = client.get("/employer/subsidies")
    assert listing.status_code == 200
    for application in (sent, draft, asked):
        assert f"/employer/subsidies/applications/{application.id}" in listing.text
    reads = db.exec(select(AuditEvent).where(AuditEvent.action == "subsidy_application.list")).all()
    assert len(reads) == 2
    api = client.get("/api/v1/subsidies/applications").json()["items"]
    assert {i["status"] for i in api} == {"received", "draft", "additional_information_needed"}
    assert any(i["employee_name"] == "Iida Virtanen" for i in api)


def test_copy_as_a_new_application(client: TestClient, db: Session, app: FastAPI) -> None:
    f.employer_client(client, db)
    me = _me(db)
    source = f.submitted_application(
        db,
        app.state.file_store,
        actor=me,
        employer={"co_operation_negotiations": True, "co_operation_negotiations_description": "YT"},
    )
    service.save_step(
        db,
        application=source,
        step="de_minimis",
        data=f.de_minimis_step(
            de_minimis_aid=True,
            aids=[{"granter": "ELY", "amount": "1000", "granted_at": service.today()}],
        ),
        actor=f.staff_actor(db),
    )
    db.commit()
    copied = client.post(
        f"/employer/subsidies/applications/{source.id}/copy",
        data={"csrf_token": f.csrf_token(client)},
        follow_redirects=False,
    )
    assert copied.status_code == 303
    new_id = int(copied.headers["location"].split("/")[-1].split("?")[0])
    new = db.get(Application, new_id)
    assert new is not None
    assert new.status == S.draft
    assert new.application_number is None
    assert new.iban == source.iban
    assert new.contact_email == source.contact_email
    assert new.co_operation_negotiations_description == "YT"
    assert new.de_minimis_aid is True
    assert new.employee_hetu is None
    assert new.employee_first_name is None
    assert new.start_date is None
    assert new.monthly_pay is None
    assert (
        len(db.exec(select(DeMinimisAid).where(DeMinimisAid.application_id == new_id)).all()) == 1
    )
    assert db.exec(select(Attachment).where(Attachment.application_id == new_id)).all() == []
    assert "employer's information copied" in client.get(copied.headers["location"]).text
    api = client.post(
        f"/api/v1/subsidies/applications/{source.id}/copy",
        headers={"X-CSRF-Token": f.csrf_token(client)},
    )
    assert api.status_code == 201
    assert api.json()["employee"]["employee_hetu"] is None


def test_a_draft_is_deleted_after_confirmation(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    f.fill_in(client, path)
    assert "Delete permanently" in client.get(f"{path}/delete").text
    gone = client.post(
        f"{path}/delete", data={"csrf_token": f.csrf_token(client)}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == "/employer/subsidies?deleted=1"
    assert db.exec(select(Application)).all() == []
    assert db.exec(select(Attachment)).all() == []
    assert client.get(path).status_code == 404
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "subsidy_application.delete")
    ).one()


def test_another_companys_application_is_not_found(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    f.employer_client(client, db)
    application = f.submitted_application(db, app.state.file_store, actor=_me(db))
    draft = f.complete_application(db, app.state.file_store, actor=_me(db))
    attachment = db.exec(select(Attachment).where(Attachment.application_id == draft.id)).first()
    assert attachment is not None
    db.commit()
    f.logout(client)
    f.employer_client(client, db, sub="employer-two-orgs", business_id=f.OTHER_COMPANY)
    token = f.csrf_token(client)
    for target in (application, draft):
        path = f"/employer/subsidies/applications/{target.id}"
        api = f"/api/v1/subsidies/applications/{target.id}"
        assert client.get(path).status_code == 404
        assert client.get(f"{path}/steps/employee").status_code == 404
        assert client.get(f"{path}/steps/summary").status_code == 404
        assert client.get(f"{path}/messages").status_code == 404
        assert f.post_step(client, path, "employer", f.employer_form()).status_code == 404
        assert client.post(f"{path}/copy", data={"csrf_token": token}).status_code == 404
        assert client.post(f"{path}/submit", data={"csrf_token": token}).status_code == 404
        assert client.post(f"{path}/delete", data={"csrf_token": token}).status_code == 404
        assert client.get(api).status_code == 404
        assert client.get(f"{api}/timeline").status_code == 404
        assert (
            client.put(f"{api}/steps/period", json={}, headers={"X-CSRF-Token": token}).status_code
            == 404
        )
        assert client.delete(api, headers={"X-CSRF-Token": token}).status_code == 404
    draft_path = f"/employer/subsidies/applications/{draft.id}"
    assert client.get(f"{draft_path}/attachments/{attachment.id}").status_code == 404
    assert (
        client.post(
            f"{draft_path}/attachments/{attachment.id}/delete", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert f.upload(client, draft_path, "other_attachment").status_code == 404
    assert client.get("/api/v1/subsidies/applications").json()["items"] == []
    assert db.get(Application, draft.id) is not None


def test_reads_and_writes_of_employee_data_are_audited(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    f.fill_in(client, path)
    application = db.exec(select(Application)).one()
    client.get(f"{path}/steps/employee")
    client.get(f"{path}/steps/summary")
    attachment = db.exec(select(Attachment)).first()
    assert attachment is not None
    client.get(f"{path}/attachments/{attachment.id}")
    rows = db.exec(
        select(AuditEvent)
        .where(
            AuditEvent.target_type == "subsidy_application",
            AuditEvent.target_id == str(application.id),
        )
        .order_by(col(AuditEvent.id))
    ).all()
    actions = [r.action for r in rows]
    assert "subsidy_application.create" in actions
    assert actions.count("subsidy_application.read") >= 2
    assert "subsidy_application.attachment.add" in actions
    assert "subsidy_application.attachment.read" in actions
    update = next(
        r for r in rows if r.action == "subsidy_application.update" and r.detail == "step=employee"
    )
    assert "employee_hetu" in (update.fields or "")
    assert all(r.business_id == f.COMPANY and r.actor_kind == "employer" for r in rows)
    read = next(r for r in rows if r.action == "subsidy_application.read")
    assert read.fields is not None
    assert "employee_hetu" in read.fields
    assert application.employee_hetu is not None
    assert application.employee_hetu not in str([r.model_dump() for r in rows])


def test_messages_with_the_handler(client: TestClient, db: Session, app: FastAPI) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    assert client.get(f"{path}/messages", follow_redirects=False).status_code == 303
    refused = client.post(
        f"{path}/messages", data={"csrf_token": f.csrf_token(client), "content": "Hei"}
    )
    assert refused.status_code == 409  # no messages on a draft (H24)
    application = f.submitted_application(db, app.state.file_store, actor=_me(db))
    handler = f.staff_actor(db)
    messages.post(
        db,
        application=application,
        actor=handler,
        kind=MessageKind.handler_message,
        content="Tervetuloa",
        notify=False,
    )
    messages.post(
        db, application=application, actor=handler, kind=MessageKind.note, content="SISÄINEN"
    )
    db.commit()
    sent_path = f"/employer/subsidies/applications/{application.id}"
    assert "1 new message" in client.get(sent_path).text
    page = client.get(f"{sent_path}/messages")
    assert "Tervetuloa" in page.text
    assert "SISÄINEN" not in page.text
    empty = client.post(
        f"{sent_path}/messages", data={"csrf_token": f.csrf_token(client), "content": " "}
    )
    assert empty.status_code == 422
    written = client.post(
        f"{sent_path}/messages",
        data={"csrf_token": f.csrf_token(client), "content": "Kiitos viestistä"},
        follow_redirects=False,
    )
    assert written.status_code == 303
    assert "Kiitos viestistä" in client.get(written.headers["location"]).text
    api = client.get(f"/api/v1/subsidies/applications/{application.id}/messages").json()
    assert [m["content"] for m in api] == ["Tervetuloa", "Kiitos viestistä"]
    posted = client.post(
        f"/api/v1/subsidies/applications/{application.id}/messages",
        json={"content": "Kolmas"},
        headers={"X-CSRF-Token": f.csrf_token(client)},
    )
    assert posted.status_code == 201
    mine = db.exec(select(Message).where(Message.kind == MessageKind.applicant_message)).all()
    assert len(mine) == 2
