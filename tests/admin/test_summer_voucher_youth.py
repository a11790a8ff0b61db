"""Handlers go through the youth applications: queue, register check, accept, reject, and the
application for a person without a Finnish identity code (kesaseteli.md §1.4, K26-K31)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.db import utcnow
from app.notifications.models import OutboxMessage
from app.security import Actor
from app.summer_voucher import handling, serials
from app.summer_voucher.models import (
    Voucher,
    YearConfiguration,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.population import Person, RegisterUnavailable, hetu_birth_date
from tests.conftest import login

BASE = "/admin/summer-voucher/youth"
EETU = {"first_name": "Eetu", "last_name": "Virtanen", "hetu": "220410A3177", "postcode": "00510"}
# Lives in Espoo: the application needs a handler, who is warned "outside Helsinki".
OSKARI = {
    "first_name": "Oskari",
    "last_name": "Lehtonen",
    "hetu": "271110A241M",
    "postcode": "02150",
}
NEW = {
    "first_name": "Amira",
    "last_name": "Haddad",
    "birthdate": "2010-03-04",
    "home_municipality": "Helsinki",
    "postcode": "00500",
    "school": "Kallion lukio",
    "target_group": "primary_target_group",
    "phone": "040 765 4321",
    "email": "amira@example.com",
    "language": "en",
    "description": "Moved to Finland last year; residence permit checked.",
}


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def outbox(db: Session, kind: str) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def apply_and_activate(
    client: TestClient, db: Session, person: dict[str, str], email: str
) -> YouthApplication:
    """The youth's real flow: the form, then the link in the activation e-mail."""
    sent = client.post(
        "/summer-voucher/apply",
        data={
            **person,
            "school": "",
            "is_unlisted_school": "true",
            "unlisted_school": "Vallilan peruskoulu",
            "target_group": "primary_target_group",
            "phone": "040 123 4567",
            "email": email,
            "terms_accepted": "true",
            "csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    mail = next(m for m in outbox(db, "summer_voucher.activation") if m.to_address == email)
    match = re.search(r"http://testserver(/summer-voucher/activate/[\w-]+)", mail.body_text)
    assert match
    client.post(match.group(1), data={"csrf_token": csrf(client)})
    return db.exec(select(YouthApplication).where(YouthApplication.id == _id_of(db, email))).one()


def _id_of(db: Session, email: str) -> int:
    for row in db.exec(select(YouthApplication)).all():
        if row.email == email:  # encrypted at rest: compared after decryption
            assert row.id is not None
            return row.id
    raise AssertionError(email)


def give_additional_info(db: Session, application: YouthApplication) -> None:
    """What the youth's additional-information form stores (the form is another step's)."""
    application.status = YouthStatus.additional_information_provided
    application.additional_info_reasons = ["moving_to_helsinki"]
    application.additional_info_description = "Muutan Helsinkiin toukokuussa."
    application.additional_info_provided_at = utcnow()
    db.add(application)
    db.commit()


def create_without_hetu(client: TestClient, **overrides: str) -> str:
    answer = client.post(
        f"{BASE}/new", data={**NEW, **overrides, "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def audit_actions(db: Session, application_id: int | None) -> list[str]:
    return [
        e.action
        for e in db.exec(
            select(AuditEvent)
            .where(AuditEvent.target_id == str(application_id))
            .order_by(col(AuditEvent.id))
        ).all()
    ]


class TestAccess:
    def test_anonymous_is_sent_to_the_staff_login(self, client: TestClient) -> None:
        answer = client.get(BASE, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/login?next=")

    def test_a_payer_is_refused(self, client: TestClient) -> None:
        login(client, "staff-payer", staff=True)
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}/new").status_code == 403

    def test_the_back_office_home_links_to_the_queue_for_handlers(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        home = client.get("/admin", headers={"Accept-Language": "en"})
        assert f'href="{BASE}"' in home.text
        assert "Summer job voucher: youth applications" in home.text

    def test_unknown_application_is_404(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get(f"{BASE}/987654").status_code == 404
        assert client.get(f"{BASE}/987654/accept").status_code == 404
        post = client.post(f"{BASE}/987654/reject", data={"csrf_token": csrf(client)})
        assert post.status_code == 404


class TestQueue:
    def test_tabs_count_and_the_list_masks_the_identity_code(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        accepted = apply_and_activate(client, db, EETU, "eetu@example.com")
        assert accepted.status == YouthStatus.accepted
        waiting = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        give_additional_info(db, waiting)
        login(client, "staff-handler", staff=True)

        pending = client.get(BASE, headers={"Accept-Language": "en"})
        assert pending.status_code == 200
        assert "To be handled (1)" in pending.text
        assert "Handled (1)" in pending.text
        assert "271110A****" in pending.text
        assert "271110A241M" not in pending.text
        assert "Oskari Lehtonen" in pending.text
        assert "16 (2010)" in pending.text
        assert "220410A" not in pending.text  # accepted: on the other tab

        processed = client.get(f"{BASE}?tab=processed", headers={"Accept-Language": "en"})
        assert "220410A****" in processed.text
        assert "220410A3177" not in processed.text
        voucher = db.exec(select(Voucher)).one()
        assert serials.format_serial(voucher.serial_number) in processed.text

    def test_status_filter_is_in_the_url(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        waiting = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        assert waiting.status == YouthStatus.additional_information_requested
        login(client, "staff-handler", staff=True)
        # The defaults do not include "additional information requested": the youth acts next.
        assert "271110A****" not in client.get(BASE).text
        chosen = client.get(f"{BASE}?status=additional_information_requested")
        assert "271110A****" in chosen.text
        assert 'value="additional_information_requested" checked' in chosen.text

    def test_paging_by_key_visits_every_row_once_in_order(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, "staff-handler", staff=True)
        start = utcnow() - timedelta(hours=1)
        for n in range(5):
            create_without_hetu(client, email=f"p{n}@example.com")
            row = db.get(YouthApplication, _id_of(db, f"p{n}@example.com"))
            assert row is not None
            row.created_at = start + timedelta(minutes=n % 2)  # ties: the id decides
            db.add(row)
        db.commit()
        for sort in ("created", "-created", "status", "-target_group"):
            seen: list[int] = []
            url: str | None = f"{BASE}?sort={sort}&limit=2"
            pages = 0
            while url:
                page = client.get(url)
                assert page.status_code == 200
                seen += [
                    int(i)
                    for i in re.findall(r'href="/admin/summer-voucher/youth/(\d+)"', page.text)
                ]
                nxt = re.search(
                    r'href="(/admin/summer-voucher/youth\?[^"]*after=[^"]*)"', page.text
                )
                url = nxt.group(1).replace("&amp;", "&") if nxt else None
                pages += 1
            assert pages == 3
            assert len(seen) == 5 == len(set(seen)), sort
            rows = [db.get(YouthApplication, i) for i in seen]
            if sort == "created":
                keys = [(r.created_at, r.id) for r in rows if r]
                assert keys == sorted(keys)
            if sort == "-created":
                keys = [(r.created_at, r.id) for r in rows if r]
                assert keys == sorted(keys, reverse=True)

    def test_the_rows_escape_what_the_application_holds(self, client: TestClient) -> None:
        """The rows are made in Python, not by the autoescaping template: a name is text."""
        login(client, "staff-handler", staff=True)
        location = create_without_hetu(
            client, first_name='<script>alert("x")</script>', last_name="O'Brien & Co"
        )
        page = client.get(BASE, headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert (
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#x27;Brien &amp; Co" in page.text
        )
        application_id = location.rsplit("/", 1)[-1]
        assert (
            f'<a class="hds-link" href="{BASE}/{application_id}">No identity code<span'
            f' class="visually-hidden">: open application {application_id}</span></a>'
        ) in page.text
        assert "Additional information provided" in page.text  # the status, translated
        assert "9th grader (age 16)" in page.text  # the target group, translated

    def test_a_broken_page_link_is_refused(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get(f"{BASE}?after=nonsense").status_code == 400
        assert client.get(f"{BASE}?after=5:not-a-date").status_code == 400

    def test_queue_runs_one_query_whatever_the_page_size(self, db: Session) -> None:
        """The page with its voucher serials and every tab's count in one statement (a second
        one for the counts only when the page is empty), then the audit row of the read."""
        handler = Actor(kind="staff", roles=frozenset({"handler"}))
        now = utcnow()
        for n in range(6):
            data = handling.HandlerCreatedIn.model_validate({**NEW, "email": f"q{n}@example.com"})
            application = handling.create_without_hetu(db, data=data, actor=handler, now=now)
            if n % 2:
                handling.accept_by_handler(
                    db, application=application, actor=handler, now=now, handler_email=None
                )
        db.flush()
        statements: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        def measured(limit: int, **kwargs: Any) -> tuple[handling.Queue, list[str]]:
            statements.clear()
            connection = db.connection()
            event.listen(connection, "before_cursor_execute", count)
            try:
                page = handling.queue(db, tab="processed", actor=handler, limit=limit, **kwargs)
            finally:
                event.remove(connection, "before_cursor_execute", count)
            return page, [s.split(None, 1)[0].upper() for s in statements]

        small, small_queries = measured(1)
        queue, queries = measured(100)
        assert len(queue.rows) == 3
        assert all(row.serial for row in queue.rows)
        expected = {"pending": handling.TabCount(3), "processed": handling.TabCount(3)}
        assert queue.counts == small.counts == expected
        assert len(small.rows) == 1
        assert small.next_after is not None
        assert queries == small_queries == ["SELECT", "INSERT"]  # the page; the audit row
        # Only the shown columns are read: of the encrypted ones, names and identity code.
        page_query = statements[0].lower()
        for column in ("first_name", "last_name", "hetu", "serial_number"):
            assert column in page_query
        for column in ("email", "phone", "register_snapshot"):
            assert column not in page_query
        # An empty page has no row to carry the counts: they take a query of their own.
        past_the_end = handling._cursor(queue.rows[-1].application, handling.Sort.created)
        empty, empty_queries = measured(100, after=past_the_end)
        assert (empty.rows, empty.next_after) == ([], None)
        assert empty_queries == ["SELECT", "SELECT", "INSERT"]
        assert empty.counts == expected
        reads = db.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "youth_application.list")
            .order_by(col(AuditEvent.id))
        ).all()
        assert [r.detail for r in reads] == [
            "tab=processed;rows=1",
            "tab=processed;rows=3",
            "tab=processed;rows=0",
        ]
        assert {r.fields for r in reads} == {"first_name,hetu,last_name"}

    def test_tab_counts_stop_at_the_cap(
        self, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A large tab is not counted to the end on each view: past COUNT_CAP it says so."""
        login(client, "staff-handler", staff=True)
        for n in range(3):
            create_without_hetu(client, email=f"cap{n}@example.com")
        monkeypatch.setattr(handling, "COUNT_CAP", 2)
        counts = handling.tab_counts(db)
        assert counts == {
            "pending": handling.TabCount(2, capped=True),
            "processed": handling.TabCount(0),
        }
        page = client.get(BASE, headers={"Accept-Language": "en"})
        assert "To be handled (2+)" in page.text
        assert "Handled (0)" in page.text
        assert len(re.findall(rf'href="{BASE}/\d+"', page.text)) == 3  # all rows still listed
        monkeypatch.setattr(handling, "COUNT_CAP", 3)
        assert handling.tab_counts(db)["pending"] == handling.TabCount(3)

    def test_the_age_comes_from_the_code_or_the_typed_birth_date(self, db: Session) -> None:
        handler = Actor(kind="staff", roles=frozenset({"handler"}))
        now = utcnow()
        typed, coded = (
            handling.create_without_hetu(
                db,
                data=handling.HandlerCreatedIn.model_validate({**NEW, "email": email}),
                actor=handler,
                now=now,
            )
            for email in ("typed@example.com", "coded@example.com")
        )
        coded.hetu = OSKARI["hetu"]  # 27.11.2010
        coded.non_vtj_birthdate = None
        db.add(coded)
        db.flush()
        assert typed.id is not None
        assert coded.id is not None
        rows = {r.application.id: r for r in handling.queue(db, tab="pending", actor=handler).rows}
        assert (rows[typed.id].birth_year, rows[typed.id].age) == (2010, typed.year - 2010)
        assert (rows[coded.id].birth_year, rows[coded.id].age) == (2010, coded.year - 2010)
        # The queue reads a stored code without checking it again: the same date as the check.
        for birth, sign in (("271110", "A"), ("010199", "-"), ("311299", "+"), ("150204", "B")):
            digits = birth + sign + "123"
            code = digits + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(birth + "123") % 31]
            row = rows[coded.id].application._replace(hetu=code)
            assert handling._queue_birth_date(row) == hetu_birth_date(code), code


class TestDetail:
    def test_register_is_asked_again_and_warnings_shown_and_the_read_audited(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        application = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        login(client, "staff-handler", staff=True)
        page = client.get(f"{BASE}/{application.id}", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "The home municipality is not Helsinki." in page.text
        assert "Checked from the population register just now." in page.text
        assert "271110A241M" in page.text  # the task needs the full code here
        assert "Kauppamiehentie 4 C 18" in page.text
        # additional information requested: only rejecting is possible
        assert f"{BASE}/{application.id}/reject" in page.text
        assert f"{BASE}/{application.id}/accept" not in page.text
        read = db.exec(
            select(AuditEvent).where(
                AuditEvent.action == "youth_application.read",
                AuditEvent.target_id == str(application.id),
            )
        ).one()
        assert read.actor_kind == "staff"
        assert read.detail == "register=queried"
        assert "271110" not in (read.fields or "") + (read.detail or "")

    def test_when_the_register_is_down_the_stored_answer_is_shown(
        self,
        app: FastAPI,
        client: TestClient,
        db: Session,
        open_year: YearConfiguration,
    ) -> None:
        application = apply_and_activate(client, db, OSKARI, "oskari@example.com")

        class Down:
            def find(self, hetu: str, *, end_user: str | None = None) -> Person | None:
                raise RegisterUnavailable("down")

        # Set and restored by hand: pytest's monkeypatch deletes a starlette State attribute
        # on undo instead of restoring it.
        working = app.state.population_register
        app.state.population_register = Down()
        try:
            login(client, "staff-handler", staff=True)
            page = client.get(f"{BASE}/{application.id}", headers={"Accept-Language": "en"})
        finally:
            app.state.population_register = working
        assert page.status_code == 200
        assert "The population register is not answering." in page.text
        assert "The home municipality is not Helsinki." in page.text  # from the stored answer

    def test_listing_is_audited_without_personal_data(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        apply_and_activate(client, db, OSKARI, "oskari@example.com")
        login(client, "staff-handler", staff=True)
        client.get(f"{BASE}?status=additional_information_requested")
        (event_row,) = db.exec(
            select(AuditEvent).where(AuditEvent.action == "youth_application.list")
        ).all()
        assert event_row.detail == "tab=pending;rows=1"
        assert event_row.actor_kind == "staff"


class TestDecisions:
    def test_accept_creates_the_voucher_and_queues_its_email_once(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        application = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        give_additional_info(db, application)
        login(client, "staff-handler", staff=True)
        confirm = client.get(f"{BASE}/{application.id}/accept", headers={"Accept-Language": "en"})
        assert "This cannot be undone." in confirm.text
        done = client.post(
            f"{BASE}/{application.id}/accept",
            data={"csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        db.refresh(application)
        assert application.status == YouthStatus.accepted
        assert application.handler_id is not None
        voucher = db.exec(
            select(Voucher).where(Voucher.youth_application_id == application.id)
        ).one()
        (mail,) = outbox(db, "summer_voucher.voucher")
        assert mail.to_address == "oskari@example.com"
        assert serials.format_serial(voucher.serial_number) in mail.body_text
        again = client.post(f"{BASE}/{application.id}/accept", data={"csrf_token": csrf(client)})
        assert again.status_code == 409
        assert client.get(f"{BASE}/{application.id}/accept").status_code == 409
        assert len(outbox(db, "summer_voucher.voucher")) == 1
        assert "youth_application.status.accepted" in audit_actions(db, application.id)

    def test_the_voucher_can_be_sent_again(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        application = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        give_additional_info(db, application)
        login(client, "staff-handler", staff=True)
        client.post(f"{BASE}/{application.id}/accept", data={"csrf_token": csrf(client)})
        page = client.get(f"{BASE}/{application.id}", headers={"Accept-Language": "en"})
        assert "Send the voucher e-mail again" in page.text
        resent = client.post(
            f"{BASE}/{application.id}/resend-voucher",
            data={"csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert resent.status_code == 303
        assert len(outbox(db, "summer_voucher.voucher")) == 2
        assert "youth_application.resend_voucher" in audit_actions(db, application.id)

    def test_a_non_activated_application_cannot_be_accepted(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        client.post(
            "/summer-voucher/apply",
            data={
                **OSKARI,
                "is_unlisted_school": "true",
                "unlisted_school": "Tapiolan koulu",
                "target_group": "primary_target_group",
                "phone": "040 123 4567",
                "email": "oskari@example.com",
                "terms_accepted": "true",
                "send_anyway": "false",
                "csrf_token": csrf(client),
            },
        )
        application = db.exec(select(YouthApplication)).one()
        assert application.status == YouthStatus.submitted
        login(client, "staff-handler", staff=True)
        refused = client.post(f"{BASE}/{application.id}/accept", data={"csrf_token": csrf(client)})
        assert refused.status_code == 409
        assert (
            client.post(
                f"{BASE}/{application.id}/reject", data={"csrf_token": csrf(client)}
            ).status_code
            == 409
        )
        assert db.exec(select(Voucher)).all() == []

    def test_reject_from_additional_information_requested_sends_no_email(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        application = apply_and_activate(client, db, OSKARI, "oskari@example.com")
        mails_before = len(db.exec(select(OutboxMessage)).all())
        login(client, "staff-handler", staff=True)
        confirm = client.get(f"{BASE}/{application.id}/reject", headers={"Accept-Language": "en"})
        assert "No e-mail is sent to the young person." in confirm.text
        done = client.post(
            f"{BASE}/{application.id}/reject",
            data={"csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        db.refresh(application)
        assert application.status == YouthStatus.rejected
        assert application.handled_at is not None
        assert len(db.exec(select(OutboxMessage)).all()) == mails_before
        page = client.get(f"{BASE}/{application.id}", headers={"Accept-Language": "en"})
        assert "The application has been decided." in page.text


class TestWithoutHetu:
    def test_goes_to_manual_processing_and_can_be_accepted(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, "staff-handler", staff=True)
        location = create_without_hetu(client)
        application = db.get(YouthApplication, int(location.rsplit("/", 1)[1]))
        assert application is not None
        assert application.status == YouthStatus.additional_information_provided
        assert application.hetu is None
        assert application.activated_at is not None
        assert application.additional_info_reasons == ["other"]
        assert application.creator_id is not None
        assert application.is_unlisted_school
        assert outbox(db, "summer_voucher.activation") == []
        # The handlers' mailbox hears of it, in Finnish, with a link and no personal data.
        (notice,) = outbox(db, "summer_voucher.processing")
        assert notice.language == "fi"
        assert notice.to_address == "kesaseteli@hel.fi"
        assert location in notice.body_text
        assert "Amira" not in notice.body_text
        page = client.get(location, headers={"Accept-Language": "en"})
        assert "the population register cannot be checked" in page.text
        assert "Amira Haddad" in page.text
        client.post(f"{location}/accept", data={"csrf_token": csrf(client)})
        db.refresh(application)
        assert application.status == YouthStatus.accepted
        (mail,) = outbox(db, "summer_voucher.voucher")
        assert mail.language == "en"
        assert "youth_application.create_by_handler" in audit_actions(db, application.id)
        assert "youth_application.read" in audit_actions(db, application.id)

    def test_errors_are_shown_with_the_values_kept(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        answer = client.post(
            f"{BASE}/new",
            data={**NEW, "birthdate": "", "email": "nope", "csrf_token": csrf(client)},
            headers={"Accept-Language": "en"},
        )
        assert answer.status_code == 422
        assert "error-summary" in answer.text
        assert 'value="Amira"' in answer.text
        assert 'aria-invalid="true"' in answer.text

    def test_an_email_in_use_this_year_is_refused(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        create_without_hetu(client)
        again = client.post(
            f"{BASE}/new",
            data={**NEW, "first_name": "Toinen", "csrf_token": csrf(client)},
            headers={"Accept-Language": "en"},
        )
        assert again.status_code == 409
        assert "already exists" in again.text
