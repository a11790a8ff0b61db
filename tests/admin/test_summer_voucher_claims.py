"""Handlers go through the employer claims: queue, detail, files, notes and timeline, taking a
claim, asking for more information and the decision, as pages and as JSON; and on the youth
application, the claims that used the voucher and the notes (kesaseteli.md §1.7, §5.3, K32,
K49-K53)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.db import utcnow
from app.documents.storage import FileStore
from app.errors import Conflict, InvalidTransition, NotFound
from app.notifications.models import OutboxMessage
from app.summer_voucher import claim_handling, claims
from app.summer_voucher.models import (
    Claim,
    ClaimAttachment,
    ClaimStatus,
    TimelineEntry,
    YearConfiguration,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.schemas import (
    ClaimDecisionIn,
    ClaimSubmitIn,
    InformationRequestIn,
    NoteIn,
)
from tests.conftest import login
from tests.summer_voucher import factories as f

BASE = "/admin/summer-voucher/claims"
API = "/api/v1/summer-voucher/claims"
YOUTH = "/admin/summer-voucher/youth"
EN = {"Accept-Language": "en"}


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def post(client: TestClient, url: str, **data: str) -> httpx.Response:
    response: httpx.Response = client.post(
        url, data={**data, "csrf_token": token(client)}, follow_redirects=False
    )
    return response


def sent_claim(
    db: Session,
    store: FileStore,
    *,
    business_id: str = "2956285-9",
    company_name: str = "Kahvila Esimerkki Oy",
    first_name: str = "Aino",
    last_name: str = "Virtanen",
) -> Claim:
    """A claim sent by an employer of the company, committed (routes may roll back)."""
    f.company(db, business_id, company_name)
    actor = f.employer(db, subject=f"employer-{business_id}", business_id=business_id)
    youth, voucher = f.accepted_youth(db, first_name=first_name, last_name=last_name)
    claim = f.submitted_claim(db, store, actor=actor, youth=youth, voucher=voucher)
    db.commit()
    return claim


def outbox(db: Session, kind: str) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def audit_rows(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )


def linked_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/admin/summer-voucher/claims/(\d+)"', html)]


def timeline_of(db: Session, claim: Claim) -> list[TimelineEntry]:
    return claims.timeline(db, claim=claim)


def request_info(db: Session, claim: Claim) -> None:
    claim_handling.request_information(
        db,
        claim=claim,
        data=InformationRequestIn(message="Lähetä allekirjoitettu työsopimus."),
        actor=f.staff(db),
        link="http://testserver/employer/summer-voucher/claims/1",
    )
    db.commit()


class TestAccess:
    def test_anonymous_is_sent_to_the_staff_login_and_the_api_answers_401(
        self, client: TestClient
    ) -> None:
        answer = client.get(BASE, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/login?next=")
        assert client.get(API).status_code == 401

    def test_staff_without_the_handler_or_admin_role_and_employers_are_refused(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-payer", staff=True)
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}/{claim.id}").status_code == 403
        assert client.get(API).status_code == 403
        assert post(client, f"{BASE}/{claim.id}/take").status_code == 403
        login(client, "employer-one")
        assert client.get(f"{BASE}/{claim.id}").status_code == 403
        assert client.get(f"{API}/{claim.id}").status_code == 403
        db.refresh(claim)
        assert claim.status == ClaimStatus.submitted
        assert audit_rows(db, "access.forbidden.get")

    def test_the_back_office_home_links_to_both_queues(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        home = client.get("/admin", headers=EN)
        assert f'href="{BASE}"' in home.text
        assert 'href="/admin/summer-voucher/youth"' in home.text
        assert "Summer job voucher: employer claims" in home.text

    def test_unknown_and_draft_claims_are_404(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        draft = f.filled_claim(db, store)
        db.commit()
        login(client, "staff-handler", staff=True)
        for claim_id in (987654, draft.id):
            assert client.get(f"{BASE}/{claim_id}").status_code == 404
            assert client.get(f"{API}/{claim_id}").status_code == 404
            assert post(client, f"{BASE}/{claim_id}/take").status_code == 404


class TestQueue:
    def test_tabs_count_default_statuses_and_filter(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        waiting = sent_claim(db, store, first_name="Aino", last_name="Virtanen")
        asked = sent_claim(
            db,
            store,
            business_id="3045112-8",
            company_name="Rakennus Demo Oy",
            first_name="Oskari",
            last_name="Lehtonen",
        )
        request_info(db, asked)
        decided = sent_claim(db, store, first_name="Eetu", last_name="Mäkinen")
        claim_handling.decide(
            db, claim=decided, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
        )
        db.commit()
        login(client, "staff-handler", staff=True)

        pending = client.get(BASE, headers=EN)
        assert pending.status_code == 200
        assert "To be handled (2)" in pending.text
        assert "Handled (1)" in pending.text
        # "More information requested" waits for the employer: not checked by default.
        assert linked_ids(pending.text) == [waiting.id]
        assert "Aino Virtanen" in pending.text  # decrypted for the list
        assert "Kahvila Esimerkki Oy" in pending.text
        assert "2956285-9" in pending.text
        assert claims.serial_of(db, waiting) in pending.text

        chosen = client.get(f"{BASE}?status=additional_information_requested", headers=EN)
        assert linked_ids(chosen.text) == [asked.id]
        assert 'value="additional_information_requested" checked' in chosen.text
        assert "Rakennus Demo Oy" in chosen.text
        assert "3045112-8" in chosen.text

        processed = client.get(f"{BASE}?tab=processed", headers=EN)
        assert linked_ids(processed.text) == [decided.id]
        assert "Eetu Mäkinen" in processed.text
        # a status of another tab does not leak into this one
        mixed = client.get(f"{BASE}?tab=processed&status=submitted")
        assert linked_ids(mixed.text) == [decided.id]

    def test_the_list_read_is_audited_without_names(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        client.get(BASE)
        (row,) = audit_rows(db, "summer_voucher_claim.queue")
        assert row.actor_kind == "staff"
        assert row.detail == "tab=pending;rows=1"
        assert row.fields == "employee_name"
        assert "Virtanen" not in (row.detail or "") + (row.fields or "")

    def test_paging_by_key_visits_every_row_once_in_order(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        companies = [
            ("2956285-9", "Kahvila Esimerkki Oy"),
            ("3045112-8", "Rakennus Demo Oy"),
            ("1234567-1", "Kallion Nuorisoyhdistys ry"),
        ]
        start = utcnow() - timedelta(hours=1)
        made = []
        for n in range(5):
            business_id, name = companies[n % 3]
            claim = sent_claim(
                db, store, business_id=business_id, company_name=name, last_name=f"Virta{n}"
            )
            claim.submitted_at = start + timedelta(minutes=n % 2)  # ties: the id decides
            db.add(claim)
            made.append(claim)
        db.commit()
        login(client, "staff-handler", staff=True)
        names = {c.id: companies[i % 3][1] for i, c in enumerate(made)}
        for sort in ("-received", "received", "company", "-company", "-business_id", "status"):
            seen: list[int] = []
            url: str | None = f"{BASE}?sort={sort}&limit=2"
            pages = 0
            while url:
                page = client.get(url)
                assert page.status_code == 200
                seen += linked_ids(page.text)
                nxt = re.search(
                    r'href="(/admin/summer-voucher/claims\?[^"]*after=[^"]*)"', page.text
                )
                url = nxt.group(1).replace("&amp;", "&") if nxt else None
                pages += 1
            assert pages == 3, sort
            assert len(seen) == 5 == len(set(seen)), sort
            rows = [db.get(Claim, i) for i in seen]
            if sort == "-received":
                keys = [(r.submitted_at, r.id) for r in rows if r]
                assert keys == sorted(keys, reverse=True)
            if sort == "received":
                keys = [(r.submitted_at, r.id) for r in rows if r]
                assert keys == sorted(keys)
            if sort == "company":
                ordered = [(names[i], i) for i in seen]
                assert ordered == sorted(ordered)
            if sort == "-company":
                ordered = [(names[i], i) for i in seen]
                assert ordered == sorted(ordered, reverse=True)

    def test_the_default_order_is_newest_first(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        older = sent_claim(db, store, last_name="Vanha")
        newer = sent_claim(db, store, last_name="Uusi")
        older.submitted_at = utcnow() - timedelta(days=2)
        db.add(older)
        db.commit()
        login(client, "staff-handler", staff=True)
        assert linked_ids(client.get(BASE).text) == [newer.id, older.id]
        body = client.get(API).json()
        assert [r["id"] for r in body["rows"]] == [newer.id, older.id]

    def test_a_broken_page_link_is_refused(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get(f"{BASE}?after=nonsense").status_code == 400
        assert client.get(f"{BASE}?after=5:not-a-date").status_code == 400
        assert client.get(f"{API}?after=nonsense").status_code == 400

    def test_queue_runs_three_queries_whatever_the_page_size(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        for n in range(4):
            sent_claim(db, store, last_name=f"Virta{n}")
        handler = f.staff(db)
        statements: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        connection = db.connection()
        event.listen(connection, "before_cursor_execute", count)
        try:
            page = claim_handling.queue(db, tab="pending", actor=handler)
        finally:
            event.remove(connection, "before_cursor_execute", count)
        assert len(page.rows) == 4
        assert all(row.serial for row in page.rows)
        assert page.counts == {"pending": 4, "processed": 0}
        assert len(statements) == 3


class TestDetail:
    def test_shows_every_part_of_the_claim_and_audits_the_read(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert page.status_code == 200
        text = page.text
        assert page.text.count("<h1") == 1
        for shown in (
            "Kahvila Esimerkki Oy",
            "2956285-9",
            "Aino Virtanen",
            "Kalliolan yläkoulu",  # the school, from the youth application
            "+358401234567",
            "00100",
            "Essi Esimerkki",
            "essi@example.com",
            "FI21 1234 5600 0007 85",
            "Kahvilan asiakaspalvelu",
            "350,00",  # what approving pays
            "sopimus.pdf",
            "palkka.png",
            claims.serial_of(db, claim) or "?",
        ):
            assert shown in text, shown
        youth_id = db.exec(select(YouthApplication.id)).first()
        assert f'href="{YOUTH}/{youth_id}"' in text
        # the moves open now, and only those
        assert f"{BASE}/{claim.id}/take" in text
        assert f"{BASE}/{claim.id}/decision?decision=accepted" in text
        assert f"{BASE}/{claim.id}/decision?decision=rejected" in text
        assert f"{BASE}/{claim.id}/request-information" in text
        (row,) = audit_rows(db, "summer_voucher_claim.read")
        assert row.actor_kind == "staff"
        assert row.target_id == str(claim.id)
        assert "iban" in (row.fields or "")
        assert "FI21" not in (row.fields or "") + (row.detail or "")

    def test_a_decided_claim_offers_no_moves(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        claim_handling.decide(
            db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
        )
        db.commit()
        login(client, "staff-handler", staff=True)
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert "The claim has been decided." in page.text
        assert f"{BASE}/{claim.id}/take" not in page.text
        assert f"{BASE}/{claim.id}/decision" not in page.text
        assert f"{BASE}/{claim.id}/request-information" not in page.text
        assert "Approved amount" in page.text


class TestAttachments:
    def test_upload_download_and_delete_in_any_status(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        claim_handling.decide(
            db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
        )
        db.commit()
        login(client, "staff-handler", staff=True)
        png = f.png_bytes()
        sent = client.post(
            f"{BASE}/{claim.id}/attachments",
            data={"kind": "payslip", "csrf_token": token(client)},
            files={"file": ("Palkkalaskelma elokuu.png", png, "image/png")},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        added = db.exec(
            select(ClaimAttachment).where(
                ClaimAttachment.claim_id == claim.id,
                col(ClaimAttachment.uploaded_by_staff).is_(True),
            )
        ).one()
        assert added.kind == "payslip"
        assert added.content_type == "image/png"
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        link = f"{BASE}/{claim.id}/attachments/{added.id}"
        assert f'href="{link}"' in page.text

        got = client.get(link)
        assert got.status_code == 200
        assert got.content == png
        assert got.headers["content-type"] == "image/png"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert "Palkkalaskelma%20elokuu.png" in got.headers["content-disposition"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert any(
            r.detail == f"attachment={added.id}"
            for r in audit_rows(db, "summer_voucher_claim.attachment.read")
        )

        confirm = client.get(f"{link}/delete", headers=EN)
        assert "This cannot be undone." in confirm.text
        deleted = post(client, f"{link}/delete")
        assert deleted.status_code == 303
        assert db.get(ClaimAttachment, added.id) is None
        assert client.get(link).status_code == 404

    def test_a_fake_pdf_and_a_missing_type_are_refused_with_a_message(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        before = len(claims.attachments_of(db, claim))
        login(client, "staff-handler", staff=True)
        for content, status, message in (
            (b"%PDF-1.4 this is not really a PDF", 422, "is damaged or is not really"),
            (b"MZ\x90\x00 an executable", 415, "must be a PDF, PNG or JPEG"),
        ):
            answer = client.post(
                f"{BASE}/{claim.id}/attachments",
                data={"kind": "employment_contract", "csrf_token": token(client)},
                files={"file": ("sopimus.pdf", content, "application/pdf")},
                headers=EN,
            )
            assert answer.status_code == status
            assert message in answer.text
            assert "error-summary" in answer.text
            assert 'value="employment_contract" checked' in answer.text
        no_kind = client.post(
            f"{BASE}/{claim.id}/attachments",
            data={"csrf_token": token(client)},
            files={"file": ("sopimus.pdf", f.PDF, "application/pdf")},
            headers=EN,
        )
        assert no_kind.status_code == 422
        assert "Choose one of the options." in no_kind.text
        assert len(claims.attachments_of(db, claim)) == before


class TestNotes:
    def test_only_the_author_may_edit_or_delete(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        added = post(
            client,
            f"{BASE}/{claim.id}/notes",
            content="Soitettu työnantajalle.",
            note_type="external_message",
            important="true",
        )
        assert added.status_code == 303
        note = db.exec(select(TimelineEntry).where(TimelineEntry.kind == "note")).one()
        assert (note.important, note.note_type) == (True, "external_message")
        assert note.actor_name == "Hanna Käsittelijä"
        edit = f"{BASE}/{claim.id}/notes/{note.id}"
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert "Soitettu työnantajalle." in page.text
        assert f'href="{edit}"' in page.text
        assert "important" in page.text

        login(client, "staff-admin", staff=True)
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert "Soitettu työnantajalle." in page.text
        assert f'href="{edit}"' not in page.text  # not theirs
        assert client.get(edit).status_code == 403
        assert post(client, edit, content="Muutettu").status_code == 403
        assert post(client, f"{edit}/delete").status_code == 403
        db.refresh(note)
        assert note.content == "Soitettu työnantajalle."
        assert audit_rows(db, "access.forbidden.post")

        login(client, "staff-handler", staff=True)
        form = client.get(edit, headers=EN)
        assert "Soitettu työnantajalle." in form.text
        assert post(client, edit, content="").status_code == 422
        changed = post(client, edit, content="Soitettu, ei vastausta.", note_type="internal")
        assert changed.status_code == 303
        edited = db.get(TimelineEntry, note.id)
        assert edited is not None
        db.refresh(edited)
        assert (edited.content, edited.note_type, edited.important) == (
            "Soitettu, ei vastausta.",
            "internal",
            False,
        )
        assert edited.edited_at is not None
        assert "This cannot be undone." in client.get(f"{edit}/delete", headers=EN).text
        assert post(client, f"{edit}/delete").status_code == 303
        assert db.exec(select(TimelineEntry).where(TimelineEntry.kind == "note")).all() == []
        actions = [r.action for r in db.exec(select(AuditEvent)).all()]
        for action in ("note.add", "note.edit", "note.delete"):
            assert f"summer_voucher_claim.{action}" in actions

    def test_an_empty_note_is_shown_with_the_values_kept(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        answer = client.post(
            f"{BASE}/{claim.id}/notes",
            data={"content": "  ", "important": "true", "csrf_token": token(client)},
            headers=EN,
        )
        assert answer.status_code == 422
        assert "error-summary" in answer.text
        assert (
            'id="f-important" name="important" value="true" class="hds-checkbox__input" checked'
            in (answer.text)
        )
        assert 'aria-invalid="true"' in answer.text

    def test_a_status_entry_is_not_a_note(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        (status_entry,) = timeline_of(db, claim)
        login(client, "staff-handler", staff=True)
        assert client.get(f"{BASE}/{claim.id}/notes/{status_entry.id}").status_code == 404

    def test_timeline_is_newest_first_and_filtered(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        post(client, f"{BASE}/{claim.id}/take")
        post(client, f"{BASE}/{claim.id}/notes", content="Liitteet tarkistettu.")
        entries = timeline_of(db, claim)
        assert [(e.kind, e.to_status) for e in entries] == [
            ("note", None),
            ("status", "handling"),
            ("status", "submitted"),
        ]
        page = client.get(f"{BASE}/{claim.id}", headers=EN).text
        note_at = page.index("Liitteet tarkistettu.")
        taken_at = page.index("Status changed: Submitted → In handling")
        sent_at = page.index("Status changed: Draft → Submitted")
        assert note_at < taken_at < sent_at
        assert "Hanna Käsittelijä" in page
        notes_only = client.get(f"{BASE}/{claim.id}?timeline=note", headers=EN).text
        assert "Liitteet tarkistettu." in notes_only
        assert "Status changed" not in notes_only
        status_only = client.get(f"{BASE}/{claim.id}?timeline=status", headers=EN).text
        assert "Liitteet tarkistettu." not in status_only
        assert "Status changed: Submitted → In handling" in status_only


class TestMoves:
    def test_take(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        assert post(client, f"{BASE}/{claim.id}/take").status_code == 303
        db.refresh(claim)
        assert claim.status == ClaimStatus.handling
        assert claim.handler_id is not None
        assert post(client, f"{BASE}/{claim.id}/take").status_code == 409

    def test_request_information_emails_the_contact_person(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        form = client.get(f"{BASE}/{claim.id}/request-information", headers=EN)
        assert form.status_code == 200
        assert "essi@example.com" in form.text
        empty = client.post(
            f"{BASE}/{claim.id}/request-information",
            data={"message": "", "csrf_token": token(client)},
            headers=EN,
        )
        assert empty.status_code == 422
        assert "error-summary" in empty.text
        assert outbox(db, "summer_voucher.claim_information_request") == []
        message = "Lähetä allekirjoitettu työsopimus <b>PDF:nä</b>."
        done = post(client, f"{BASE}/{claim.id}/request-information", message=message)
        assert done.status_code == 303
        db.refresh(claim)
        assert claim.status == ClaimStatus.additional_information_requested
        assert claim.information_request == message
        (mail,) = outbox(db, "summer_voucher.claim_information_request")
        assert mail.to_address == "essi@example.com"
        assert mail.language == "fi"
        assert message in mail.body_text
        link = f"http://testserver/employer/summer-voucher/claims/{claim.id}"
        assert link in mail.body_text
        assert mail.body_html is not None
        assert link in mail.body_html
        assert "&lt;b&gt;PDF:nä&lt;/b&gt;" in mail.body_html  # escaped in HTML
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert "More information was requested from the employer" in page.text
        # asking again is not possible until the employer answers
        again = post(client, f"{BASE}/{claim.id}/request-information", message="Vielä")
        assert again.status_code == 409
        assert client.get(f"{BASE}/{claim.id}/request-information").status_code == 409
        assert len(outbox(db, "summer_voucher.claim_information_request")) == 1

    def test_the_request_email_is_in_the_claims_language(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        claim.language = "en"
        db.add(claim)
        request_info(db, claim)
        (mail,) = outbox(db, "summer_voucher.claim_information_request")
        assert mail.language == "en"
        assert mail.subject == "More information is needed for your summer job voucher claim"

    def test_approving_fixes_the_amount(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        confirm = client.get(f"{BASE}/{claim.id}/decision?decision=accepted", headers=EN)
        assert confirm.status_code == 200
        assert "350,00" in confirm.text
        assert "cannot be undone" in confirm.text
        assert 'value="accepted" checked' in confirm.text
        done = post(client, f"{BASE}/{claim.id}/decision", decision="accepted")
        assert done.status_code == 303
        db.refresh(claim)
        assert claim.status == ClaimStatus.accepted
        assert claim.amount == Decimal("350.00")
        assert claim.decided_at is not None
        assert claim.handler_id is not None
        assert timeline_of(db, claim)[0].to_status == "accepted"
        # deciding an approved claim again is refused
        again = post(client, f"{BASE}/{claim.id}/decision", decision="rejected", reason="Ei")
        assert again.status_code == 409
        assert client.get(f"{BASE}/{claim.id}/decision").status_code == 409
        db.refresh(claim)
        assert claim.status == ClaimStatus.accepted
        assert "summer_voucher_claim.status.accepted" in [
            r.action for r in db.exec(select(AuditEvent)).all()
        ]

    def test_rejecting_needs_a_reason(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        missing = client.post(
            f"{BASE}/{claim.id}/decision",
            data={"decision": "rejected", "reason": "", "csrf_token": token(client)},
            headers=EN,
        )
        assert missing.status_code == 422
        assert "error-summary" in missing.text
        assert 'value="rejected" checked' in missing.text
        db.refresh(claim)
        assert claim.status == ClaimStatus.submitted
        done = post(
            client,
            f"{BASE}/{claim.id}/decision",
            decision="rejected",
            reason="Työsuhde ei täytä ehtoja.",
        )
        assert done.status_code == 303
        db.refresh(claim)
        assert claim.status == ClaimStatus.rejected
        assert claim.decision_reason == "Työsuhde ei täytä ehtoja."
        assert claim.amount is None
        assert claim.decided_at is not None

    def test_approving_while_waiting_for_the_employer_is_refused(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        request_info(db, claim)
        login(client, "staff-handler", staff=True)
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert f"{BASE}/{claim.id}/decision?decision=rejected" in page.text
        assert f"{BASE}/{claim.id}/decision?decision=accepted" not in page.text
        refused = post(client, f"{BASE}/{claim.id}/decision", decision="accepted")
        assert refused.status_code == 409
        db.refresh(claim)
        assert claim.status == ClaimStatus.additional_information_requested

    def test_a_concurrent_decision_loses_with_409(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        # Another handler decides in the meantime: the row changes, this copy does not know.
        db.execute(
            sa.update(Claim)
            .where(col(Claim.id) == claim.id)
            .values(status=ClaimStatus.rejected, decision_reason="Toinen käsittelijä")
            .execution_options(synchronize_session=False)
        )
        assert claim.status == ClaimStatus.submitted
        with pytest.raises(Conflict):
            claim_handling.decide(
                db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
            )
        db.expire_all()
        fresh = db.get(Claim, claim.id)
        assert fresh is not None
        assert fresh.status == ClaimStatus.rejected
        assert fresh.amount is None

    def test_the_service_refuses_moves_outside_the_table(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        handler = f.staff(db)
        claim_handling.decide(
            db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=handler
        )
        with pytest.raises(InvalidTransition):
            claim_handling.take(db, claim=claim, actor=handler)
        payer = f.staff(db, subject="claim-payer", roles=frozenset({"payer"}))
        other = sent_claim(db, store, last_name="Toinen")
        with pytest.raises(InvalidTransition):
            claim_handling.take(db, claim=other, actor=payer)


class TestYouthSide:
    def test_the_youth_detail_lists_the_claims_that_used_the_voucher(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        youth, voucher = f.accepted_youth(db)
        claim = f.submitted_claim(db, store, youth=youth, voucher=voucher)
        db.commit()
        login(client, "staff-handler", staff=True)
        page = client.get(f"{YOUTH}/{youth.id}", headers=EN)
        assert page.status_code == 200
        assert "Employer claims that used the summer job voucher" in page.text
        assert f'href="{BASE}/{claim.id}"' in page.text
        assert "Kahvila Esimerkki Oy" in page.text
        assert "Submitted" in page.text
        other, _ = f.accepted_youth(db, first_name="Ville")
        db.commit()
        empty = client.get(f"{YOUTH}/{other.id}", headers=EN)
        assert "No employer has claimed this voucher." in empty.text

    def test_drafts_are_not_listed(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        youth, voucher = f.accepted_youth(db)
        f.filled_claim(db, store, youth=youth, voucher=voucher)
        assert youth.id is not None
        assert claim_handling.claims_using_voucher(db, youth_application_id=youth.id) == []

    def test_youth_notes_author_only_and_the_timeline(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        youth, _ = f.accepted_youth(db, status=YouthStatus.additional_information_provided)
        db.commit()
        login(client, "staff-handler", staff=True)
        added = post(client, f"{YOUTH}/{youth.id}/notes", content="Koulutodistus pyydetty.")
        assert added.status_code == 303
        note = db.exec(
            select(TimelineEntry).where(TimelineEntry.youth_application_id == youth.id)
        ).one()
        assert note.claim_id is None
        edit = f"{YOUTH}/{youth.id}/notes/{note.id}"
        page = client.get(f"{YOUTH}/{youth.id}", headers=EN)
        assert "Koulutodistus pyydetty." in page.text
        assert f'href="{edit}"' in page.text
        post(client, f"{YOUTH}/{youth.id}/reject")
        entries = claim_handling.youth_timeline(db, application_id=youth.id or 0)
        assert [(e.kind, e.to_status) for e in entries] == [("status", "rejected"), ("note", None)]
        status_only = client.get(f"{YOUTH}/{youth.id}?timeline=status", headers=EN).text
        assert "Status changed: Additional information provided → Rejected" in status_only
        assert "Koulutodistus pyydetty." not in status_only

        login(client, "staff-admin", staff=True)
        assert client.get(edit).status_code == 403
        assert post(client, edit, content="Muutettu").status_code == 403
        assert post(client, f"{edit}/delete").status_code == 403

        login(client, "staff-handler", staff=True)
        assert post(client, edit, content="Todistus saatu.").status_code == 303
        db.refresh(note)
        assert note.content == "Todistus saatu."
        assert note.edited_at is not None
        assert post(client, f"{edit}/delete").status_code == 303
        assert claim_handling.youth_timeline(db, application_id=youth.id or 0, kinds=["note"]) == []
        # a note of another application is not found through this one
        other, _ = f.accepted_youth(db, first_name="Ville")
        db.commit()
        post(client, f"{YOUTH}/{other.id}/notes", content="Toisen hakemuksen huomio.")
        other_note = db.exec(
            select(TimelineEntry).where(TimelineEntry.youth_application_id == other.id)
        ).one()
        assert client.get(f"{YOUTH}/{youth.id}/notes/{other_note.id}").status_code == 404

    def test_the_same_note_service_works_for_both_targets(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        youth, _ = f.accepted_youth(db, first_name="Ville")
        handler = f.staff(db)
        on_claim = claim_handling.add_note(
            db, target=claim, data=NoteIn(content="Huomio"), actor=handler
        )
        on_youth = claim_handling.add_note(
            db, target=youth, data=NoteIn(content="Huomio"), actor=handler
        )
        assert (on_claim.claim_id, on_claim.youth_application_id) == (claim.id, None)
        assert (on_youth.claim_id, on_youth.youth_application_id) == (None, youth.id)
        with pytest.raises(NotFound):
            claim_handling.get_note(db, target=youth, note_id=on_claim.id or 0)


class TestApi:
    def test_list_detail_take_notes_and_decide(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        headers = {"X-CSRF-Token": token(client)}
        listed = client.get(API).json()
        assert listed["counts"] == {"pending": 1, "processed": 0}
        (row,) = listed["rows"]
        assert row["id"] == claim.id
        assert row["employee_name"] == "Aino Virtanen"
        assert row["company_name"] == "Kahvila Esimerkki Oy"
        assert row["status"] == "submitted"
        assert client.get(f"{API}?tab=processed").json()["rows"] == []

        detail = client.get(f"{API}/{claim.id}").json()
        assert detail["company"]["business_id"] == "2956285-9"
        assert detail["claim"]["iban"] == "FI2112345600000785"
        assert detail["youth"]["school"] == "Kalliolan yläkoulu"
        assert detail["value"] == "350.00"
        assert set(detail["actions"]) == {
            "handling",
            "additional_information_requested",
            "accepted",
            "rejected",
        }
        assert len(detail["attachments"]) == 2
        assert audit_rows(db, "summer_voucher_claim.read")

        taken = client.post(f"{API}/{claim.id}/take", headers=headers)
        assert taken.status_code == 200
        assert taken.json()["status"] == "handling"
        note = client.post(
            f"{API}/{claim.id}/notes",
            json={"content": "Tarkistettu", "note_type": "internal", "important": True},
            headers=headers,
        )
        assert note.status_code == 201
        assert note.json()["kind"] == "note"
        assert note.json()["actor_name"] == "Hanna Käsittelijä"
        kinds = [
            e["kind"] for e in client.get(f"{API}/{claim.id}?timeline=note").json()["timeline"]
        ]
        assert kinds == ["note"]

        no_reason = client.post(
            f"{API}/{claim.id}/decision", json={"decision": "rejected"}, headers=headers
        )
        assert no_reason.status_code == 422
        decided = client.post(
            f"{API}/{claim.id}/decision", json={"decision": "accepted"}, headers=headers
        )
        assert decided.status_code == 200
        assert decided.json()["status"] == "accepted"
        assert decided.json()["amount"] == "350.00"
        twice = client.post(
            f"{API}/{claim.id}/decision", json={"decision": "accepted"}, headers=headers
        )
        assert twice.status_code == 409
        assert twice.json()["detail"]["code"] == "invalid_transition"

    def test_request_information(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        headers = {"X-CSRF-Token": token(client)}
        empty = client.post(
            f"{API}/{claim.id}/request-information", json={"message": ""}, headers=headers
        )
        assert empty.status_code == 422
        asked = client.post(
            f"{API}/{claim.id}/request-information",
            json={"message": "Palkkalaskelma puuttuu."},
            headers=headers,
        )
        assert asked.status_code == 200
        assert asked.json()["status"] == "additional_information_requested"
        assert asked.json()["information_request"] == "Palkkalaskelma puuttuu."
        (mail,) = outbox(db, "summer_voucher.claim_information_request")
        assert f"/employer/summer-voucher/claims/{claim.id}" in mail.body_text

    def test_unsafe_calls_need_the_csrf_token(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        login(client, "staff-handler", staff=True)
        assert client.post(f"{API}/{claim.id}/take").status_code == 403
        db.refresh(claim)
        assert claim.status == ClaimStatus.submitted

    def test_the_api_is_documented(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        for path in (
            API,
            f"{API}/{{claim_id}}",
            f"{API}/{{claim_id}}/take",
            f"{API}/{{claim_id}}/request-information",
            f"{API}/{{claim_id}}/decision",
            f"{API}/{{claim_id}}/notes",
        ):
            assert path in paths, path
        decision = paths[f"{API}/{{claim_id}}/decision"]["post"]
        assert "200" in decision["responses"]
        assert not any(p.startswith(BASE) for p in paths)  # the pages are not in the API


class TestNotesOnFiles:
    """K52: a note may concern one of the claim's files, and then it is an internal note."""

    def test_an_internal_note_on_a_file(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        other = sent_claim(db, store, business_id="3045112-8", company_name="Rakennus Demo Oy")
        attachment = claims.attachments_of(db, claim)[0]
        foreign = claims.attachments_of(db, other)[0]
        login(client, "staff-handler", staff=True)
        detail = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert f'<option value="{attachment.id}">{attachment.filename}</option>' in detail.text

        external = client.post(
            f"{BASE}/{claim.id}/notes",
            data={
                "content": "Allekirjoitus puuttuu",
                "note_type": "external_message",
                "attachment_id": str(attachment.id),
                "csrf_token": token(client),
            },
            headers=EN,
        )
        assert external.status_code == 422
        assert "A note on a file can only be an internal note." in external.text
        assert "Allekirjoitus puuttuu" in external.text

        wrong_file = client.post(
            f"{BASE}/{claim.id}/notes",
            data={
                "content": "Väärä tiedosto",
                "attachment_id": str(foreign.id),
                "csrf_token": token(client),
            },
            headers=EN,
        )
        assert wrong_file.status_code == 422

        added = post(
            client,
            f"{BASE}/{claim.id}/notes",
            content="Allekirjoitus puuttuu",
            note_type="internal",
            attachment_id=str(attachment.id),
        )
        assert added.status_code == 303
        note = db.exec(select(TimelineEntry).where(TimelineEntry.kind == "note")).one()
        assert note.attachment_id == attachment.id
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert f"Concerning the file {attachment.filename}" in page.text

        # It stays internal when edited.
        edited = client.post(
            f"{BASE}/{claim.id}/notes/{note.id}",
            data={
                "content": "Allekirjoitus puuttuu yhä",
                "note_type": "external_message",
                "csrf_token": token(client),
            },
            headers=EN,
        )
        assert edited.status_code == 422
        db.refresh(note)
        assert note.note_type == "internal"

    def test_the_database_keeps_file_notes_internal(
        self, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        claim = sent_claim(db, store)
        attachment = claims.attachments_of(db, claim)[0]
        db.add(
            TimelineEntry(
                claim_id=claim.id,
                attachment_id=attachment.id,
                kind="note",
                actor_name="x",
                note_type="external_message",
                content="x",
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.flush()
        db.rollback()


class TestSeparateInvoicer:
    def test_invoicer_fields_are_required_when_chosen_and_shown_to_handlers(
        self, client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
    ) -> None:
        actor = f.employer(db)
        claim = f.filled_claim(db, store, actor=actor)
        claim.is_separate_invoicer = True
        problems = {e["loc"][0] for e in claims.submit_problems(db, claim=claim)}
        assert problems == {"invoicer_name", "invoicer_email", "invoicer_phone"}
        claim.invoicer_name = "Tilitoimisto Esimerkki Oy"
        claim.invoicer_email = "laskut@example.com"
        claim.invoicer_phone = "+358401112223"
        claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)
        db.commit()
        login(client, "staff-handler", staff=True)
        page = client.get(f"{BASE}/{claim.id}", headers=EN)
        assert "Tilitoimisto Esimerkki Oy" in page.text
