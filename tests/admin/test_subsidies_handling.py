"""Handling a Helsinki-lisä application in the back office: the detail with every section and
its audit, files, taking it into handling and the take-over rule (H29), asking for more
information with the e-mail in the application's language (H26), locking, cancelling (H48),
the "checked" marks (H30), staff edits with the change history (H27), messages and notes
(H24, H25)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import attributes
from sqlmodel import Session, select

from app.documents.storage import FileStore
from app.errors import Conflict, NotFound, PermissionDenied
from app.subsidies import handling, messages, service
from app.subsidies.models import (
    ApplicationStatus,
    FieldChange,
    Message,
    MessageKind,
    ReviewMark,
)
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf

S = ApplicationStatus


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


class TestDetail:
    def test_every_section_is_shown_and_the_view_of_employee_data_is_audited(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        code = sf.hetu("110280", 345)
        application = f.sent(db, store, employee={"employee_hetu": code})
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert page.status_code == 200
        for text in (
            f"Helsinki benefit application {application.application_number}",
            "Kahvila Esimerkki Oy",
            "2956285-9",
            "FI21 1234 5600 0007 85",
            "Eija",
            "eija@example.com",
            "Aino",
            "Virtanen",
            code,
            "Kokki",
            "Matkailu-, ravintola- ja vapaa-ajan palveluja",
            "Employment contract",
            "Take into handling",
            "Status history",
            "Change history",
            "Applicant terms, version",
        ):
            assert text in page.text, text
        rows = f.audit_rows(db, "subsidy_application.read", application.id)
        assert rows
        assert rows[-1].fields
        assert "employee_hetu" in rows[-1].fields
        assert code not in (rows[-1].fields or "") + (rows[-1].detail or "")

    def test_a_file_download_is_audited(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.sent(db, store)
        attachment = service.attachments_of(db, application)[0]
        answer = client.get(f"{f.BASE}/{application.id}/attachments/{attachment.id}")
        assert answer.status_code == 200
        assert answer.content == sf.PDF
        assert "attachment;" in answer.headers["content-disposition"]
        assert f.audit_rows(db, "subsidy_application.attachment.read", application.id)

    def test_employers_drafts_are_not_for_staff(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        draft = sf.complete_application(db, store)
        db.commit()
        assert client.get(f"{f.BASE}/{draft.id}").status_code == 404
        assert client.get(f"{f.BASE}/999999").status_code == 404


class TestTakeAndTakeOver:
    def test_taking_assigns_the_handler(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.sent(db, store)
        assert f.post(client, f"{f.BASE}/{application.id}/take").status_code == 303
        fresh = f.fresh(db, application)
        assert fresh.status == S.handling
        assert fresh.handler_id == int(f.staff(db).user_id or 0)
        assert fresh.handling_started_at is not None
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "You are handling this application." in page.text
        assert "Ask for more information" in page.text
        # Taking it twice is refused: it is no longer waiting.
        assert f.post(client, f"{f.BASE}/{application.id}/take").status_code == 409

    def test_another_handler_must_take_over_before_acting(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client, "staff-handler")
        application = f.in_handling(db, store, "staff-handler")
        hanna = int(f.staff(db).user_id or 0)
        f.staff_login(client, "staff-admin")
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Hanna Käsittelijä is handling this application." in page.text
        assert "Take over the handling" in page.text
        assert "Ask for more information" not in page.text
        # Acting without taking over is refused with the reason.
        for url, data in (
            ("request-information", {"message": "Lisää tietoja", "steps": "employee"}),
            ("lock", {}),
            ("cancel", {"reason": "Ei käy"}),
            ("review", {"section": "employee", "checked": "true"}),
            ("sections/period", {"start_date": "2026-01-01"}),
        ):
            answer = f.post(client, f"{f.BASE}/{application.id}/{url}", data)
            assert answer.status_code == 409, url
        assert client.get(f"{f.BASE}/{application.id}/request-information").status_code == 409
        refused = f.post(
            client,
            f"{f.BASE}/{application.id}/messages",
            {"kind": "handler_message", "content": "Hei"},
        )
        assert refused.status_code == 409
        assert (
            "Another handler is handling this application"
            in client.post(
                f"{f.BASE}/{application.id}/lock",
                data={"csrf_token": f.token(client)},
                headers=f.EN,
            ).text
        )
        fresh = f.fresh(db, application)
        assert fresh.status == S.handling
        assert fresh.handler_id == hanna
        # A note is fine: it changes nothing of the application.
        note = f.post(
            client, f"{f.BASE}/{application.id}/messages", {"kind": "note", "content": "Katsoin"}
        )
        assert note.status_code == 303
        # The explicit take-over reassigns it, and then the first handler is the other one.
        assert f.post(client, f"{f.BASE}/{application.id}/take-over").status_code == 303
        fresh = f.fresh(db, application)
        assert fresh.handler_id == int(f.staff(db, "staff-admin").user_id or 0)
        assert f.audit_rows(db, "subsidy_application.take_over", application.id)
        f.staff_login(client, "staff-handler")
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Antti Ylläpitäjä is handling this application." in page.text
        assert f.post(client, f"{f.BASE}/{application.id}/lock").status_code == 409

    def test_two_take_overs_at_once_one_wins(self, db: Session, store: FileStore) -> None:
        application = f.in_handling(db, store, "staff-handler")
        hanna = application.handler_id
        admin = f.staff(db, "staff-admin")
        decider = f.staff(db, "staff-decider")
        handling.take_over(db, application=application, actor=admin)
        # The decider's request read the application before the admin's take-over.
        attributes.set_committed_value(application, "handler_id", hanna)
        with pytest.raises(Conflict):
            handling.take_over(db, application=application, actor=decider)
        assert f.fresh(db, application).handler_id == int(admin.user_id or 0)
        with pytest.raises(handling.AlreadyYours):
            handling.take_over(db, application=f.fresh(db, application), actor=admin)


class TestMoreInformation:
    def test_request_reopens_steps_posts_the_message_and_emails_in_the_applications_language(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.in_handling(db, store, employer={"language": "sv"})
        form = client.get(f"{f.BASE}/{application.id}/request-information", headers=f.EN)
        assert form.status_code == 200
        missing = f.post(client, f"{f.BASE}/{application.id}/request-information", {"message": ""})
        assert missing.status_code == 422
        answer = client.post(
            f"{f.BASE}/{application.id}/request-information",
            data={
                "csrf_token": f.token(client),
                "message": "Lähetä palkkalaskelma, kiitos.",
                "steps": ["employee", "attachments"],
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        fresh = f.fresh(db, application)
        assert fresh.status == S.additional_information_needed
        assert fresh.reopened_steps == ["employee", "attachments"]
        assert fresh.information_deadline == service.today() + timedelta(days=7)
        sent = db.exec(
            select(Message).where(
                Message.application_id == application.id,
                Message.kind == MessageKind.handler_message,
            )
        ).all()
        assert [m.content for m in sent] == ["Lähetä palkkalaskelma, kiitos."]
        mails = f.outbox(db, "subsidies.information_request")
        assert len(mails) == 1
        mail = mails[0]
        assert mail.language == "sv"
        assert mail.to_address == "eija@example.com"
        deadline = fresh.information_deadline
        assert deadline is not None
        assert f"{deadline.day}.{deadline.month}.{deadline.year}" in mail.body_text
        assert f"/employer/subsidies/applications/{application.id}" in mail.body_text
        assert "palkkalaskelma" not in mail.body_text + (mail.body_html or "")
        assert "Helsingfors" in mail.body_text or "Helsinki" in mail.body_text
        # No second e-mail for the message itself.
        assert f.outbox(db, "subsidies.message") == []
        # The employer may now change the reopened steps only.
        employer = sf.employer_actor(db)
        assert service.can_edit_step(fresh, "employee", employer)
        assert not service.can_edit_step(fresh, "period", employer)

    def test_at_least_one_step_must_be_chosen(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.in_handling(db, store)
        answer = f.post(
            client, f"{f.BASE}/{application.id}/request-information", {"message": "Lisää"}
        )
        assert answer.status_code == 422
        assert f.fresh(db, application).status == S.handling

    def test_locking_returns_it_to_handling(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.information_needed(db, store)
        assert f.post(client, f"{f.BASE}/{application.id}/lock").status_code == 303
        fresh = f.fresh(db, application)
        assert fresh.status == S.handling
        assert not service.can_edit_step(fresh, "employee", sf.employer_actor(db))


class TestCancel:
    def test_the_reason_is_required_and_cancelled_is_final(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.sent(db, store)
        assert client.get(f"{f.BASE}/{application.id}/cancel").status_code == 200
        refused = f.post(client, f"{f.BASE}/{application.id}/cancel", {"reason": " "})
        assert refused.status_code == 422
        assert f.fresh(db, application).status == S.received
        done = f.post(client, f"{f.BASE}/{application.id}/cancel", {"reason": "Hakija perui."})
        assert done.status_code == 303
        fresh = f.fresh(db, application)
        assert fresh.status == S.cancelled
        assert fresh.cancel_reason == "Hakija perui."
        assert fresh.archived
        assert fresh.cancelled_at is not None
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Hakija perui." in page.text
        for action in ("Take into handling", "Cancel the application", "Return to handling"):
            assert action not in page.text
        assert f.post(client, f"{f.BASE}/{application.id}/take").status_code == 409


class TestMarksAndEdits:
    def test_review_marks_persist_and_can_be_removed(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.in_handling(db, store)
        answer = f.post(
            client, f"{f.BASE}/{application.id}/review", {"section": "employee", "checked": "true"}
        )
        assert answer.status_code == 303
        again = f.post(
            client, f"{f.BASE}/{application.id}/review", {"section": "employee", "checked": "true"}
        )
        assert again.status_code == 303
        marks = db.exec(select(ReviewMark).where(ReviewMark.application_id == application.id)).all()
        assert [m.section for m in marks] == ["employee"]
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Remove the checked mark" in page.text
        f.post(client, f"{f.BASE}/{application.id}/review", {"section": "employee"})
        db.expire_all()
        assert (
            db.exec(select(ReviewMark).where(ReviewMark.application_id == application.id)).all()
            == []
        )
        assert (
            f.post(client, f"{f.BASE}/{application.id}/review", {"section": "nope"}).status_code
            == 404
        )

    def test_a_staff_edit_goes_to_the_change_history_with_the_reason(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.in_handling(db, store)
        form = client.get(f"{f.BASE}/{application.id}/sections/employee", headers=f.EN)
        assert form.status_code == 200
        assert "Reason for the change" in form.text
        data = sf.employee_form(monthly_pay="2 700,00", job_title="Keittiöpäällikkö")
        data["reason"] = "Palkka korjattu puhelimessa."
        invalid = f.post(
            client, f"{f.BASE}/{application.id}/sections/employee", {**data, "working_hours": "5"}
        )
        assert invalid.status_code == 422
        answer = f.post(client, f"{f.BASE}/{application.id}/sections/employee", data)
        assert answer.status_code == 303, answer.text
        changes = db.exec(
            select(FieldChange).where(FieldChange.application_id == application.id)
        ).all()
        by_field = {c.field_name: c for c in changes}
        assert by_field["monthly_pay"].old_value == "2500.00"
        assert by_field["monthly_pay"].new_value == "2700.00"
        assert by_field["job_title"].reason == "Palkka korjattu puhelimessa."
        assert by_field["job_title"].actor_is_staff
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Keittiöpäällikkö" in page.text
        assert "Palkka korjattu puhelimessa." in page.text
        for step in ("employer", "de_minimis", "period"):
            assert client.get(f"{f.BASE}/{application.id}/sections/{step}").status_code == 200
        assert client.get(f"{f.BASE}/{application.id}/sections/attachments").status_code == 404

    def test_the_change_history_table_scrolls_within_reach_of_the_keyboard(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        """Six columns overflow the detail page's column: the scrolling container must be
        focusable and named (axe: scrollable-region-focusable), found by the browser story."""
        f.staff_login(client)
        application = f.in_handling(db, store)
        data = sf.employee_form(monthly_pay="2 700,00")
        data["reason"] = "Palkka korjattu."
        answer = f.post(client, f"{f.BASE}/{application.id}/sections/employee", data)
        assert answer.status_code == 303, answer.text
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert (
            '<div class="hds-table-container" tabindex="0" role="region"'
            ' aria-labelledby="changes-caption">' in page.text
        )
        assert (
            '<caption class="hds-table__caption" id="changes-caption">'
            "Fields changed after the application was sent</caption>" in page.text
        )

    def test_a_received_application_is_taken_before_it_is_changed(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.sent(db, store)
        assert client.get(f"{f.BASE}/{application.id}/sections/employee").status_code == 409


class TestMessages:
    def test_a_handler_message_is_emailed_without_its_content_and_a_note_is_not(
        self, client: TestClient, db: Session, store: FileStore
    ) -> None:
        f.staff_login(client)
        application = f.in_handling(db, store, employer={"language": "en"})
        answer = f.post(
            client,
            f"{f.BASE}/{application.id}/messages",
            {"kind": "handler_message", "content": "Salainen sisältö"},
        )
        assert answer.status_code == 303
        note = f.post(
            client, f"{f.BASE}/{application.id}/messages", {"kind": "note", "content": "Sisäinen"}
        )
        assert note.status_code == 303
        mails = f.outbox(db, "subsidies.message")
        assert len(mails) == 1
        assert mails[0].language == "en"
        assert "new message" in mails[0].subject
        assert "Salainen" not in mails[0].body_text + (mails[0].body_html or "")
        seen_by_applicant = messages.for_applicant(db, application=application)
        assert [m.content for m in seen_by_applicant] == ["Salainen sisältö"]
        page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
        assert "Sisäinen" in page.text
        assert "Internal note" in page.text
        empty = f.post(client, f"{f.BASE}/{application.id}/messages", {"kind": "note"})
        assert empty.status_code == 422

    def test_applicant_messages_come_only_from_the_employer_of_a_sent_application(
        self, db: Session, store: FileStore
    ) -> None:
        employer = sf.employer_actor(db)
        draft = sf.draft_application(db, actor=employer)
        with pytest.raises(messages.MessagesClosed):
            messages.post(
                db,
                application=draft,
                actor=employer,
                kind=MessageKind.applicant_message,
                content="Hei",
            )
        application = f.sent(db, store, actor=employer)
        sf.company(db, sf.OTHER_COMPANY, "Rakennus Demo Oy")
        stranger = sf.employer_actor(db, subject="stranger", business_id=sf.OTHER_COMPANY)
        with pytest.raises(NotFound):
            messages.post(
                db,
                application=application,
                actor=stranger,
                kind=MessageKind.applicant_message,
                content="Hei",
            )
        with pytest.raises(PermissionDenied):
            messages.post(
                db, application=application, actor=employer, kind=MessageKind.note, content="x"
            )
        with pytest.raises(PermissionDenied):
            messages.post(
                db,
                application=application,
                actor=f.staff(db, "staff-handler"),
                kind=MessageKind.applicant_message,
                content="x",
            )
        sent = messages.post(
            db,
            application=application,
            actor=employer,
            kind=MessageKind.applicant_message,
            content="Kysymys",
        )
        assert f.outbox(db, "subsidies.message") == []
        assert messages.unread_by_staff(db, application_ids=[application.id or 0]) == {
            application.id: 1
        }
        messages.for_staff(db, application=application)
        assert messages.unread_by_staff(db, application_ids=[application.id or 0]) == {}
        assert sent.seen_by_applicant_at is not None
