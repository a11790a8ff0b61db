"""The retention periods added by issue #7 §8: decided Helsinki-lisä applications (H70), ended
TET postings, ended sessions and the payment records of deleted sources; and the whole run:
a dry run changes nothing, a second run deletes nothing, counts are logged and audited without
personal data (R28). "Now" is always passed in, frozen."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.db import utcnow
from app.documents.storage import LocalFileStore
from app.jobs import retention
from app.notifications.models import OutboxMessage
from app.payments.models import (
    BatchStatus,
    ItemStatus,
    PaymentBatch,
    PaymentBatchItem,
    PaymentEvent,
    PaymentItem,
    Programme,
)
from app.subsidies.models import Application, ApplicationStatus
from app.subsidies.models import Attachment as SubsidyAttachment
from app.tet.models import TetPosting
from tests.subsidies import factories as sf
from tests.tet import factories as tf

# Frozen for the module; near the real time, as the shared test database holds rows of today.
NOW = utcnow().replace(microsecond=0)
TODAY = NOW.astimezone(ZoneInfo("Europe/Helsinki")).date()  # the day TET postings end by
EMPLOYEE_HETU = "010190-123F"


def store_of(app: FastAPI) -> LocalFileStore:
    store: LocalFileStore = app.state.file_store
    return store


def file_path(store: LocalFileStore, key: str) -> Any:
    return store.root / key[:2] / key


def make_old(store: LocalFileStore, *keys: str) -> None:
    """Files older than a day: the sweep removes them once no row names them."""
    for key in keys:
        os.utime(file_path(store, key), (0, 0))


_numbers = iter(range(9_100_000, 9_200_000))


def decided(
    db: Session,
    store: LocalFileStore,
    *,
    decided_at: datetime,
    status: str = ApplicationStatus.accepted,
    archived: bool = False,
) -> tuple[Application, str]:
    """A decided application with one file; returns it and the file's storage key."""
    company = sf.company(db)
    creator = sf.user(db, kind="employer", subject="retention-employer", name="Essi Esimerkki")
    application = Application(
        company_id=company.id or 0,
        creator_id=creator.id or 0,
        status=status,
        application_number=next(_numbers),
        company_name="Kahvila Esimerkki Oy",
        employee_first_name="Ville",
        employee_last_name="Työntekijä",
        employee_hetu=EMPLOYEE_HETU,
        decision="accepted" if status == ApplicationStatus.accepted else "rejected",
        decided_at=decided_at,
        submitted_at=decided_at - timedelta(days=30),
        archived=archived,
        created_at=decided_at - timedelta(days=40),
        updated_at=decided_at,
    )
    db.add(application)
    db.flush()
    content = b"%PDF-1.4 retention test " + os.urandom(8)
    key = store.save(content)
    db.add(
        SubsidyAttachment(
            application_id=application.id or 0,
            kind="employment_contract",
            filename="tyosopimus.pdf",
            content_type="application/pdf",
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            storage_key=key,
        )
    )
    db.flush()
    return application, key


def test_decided_applications_go_3651_days_after_the_decision_with_their_files(
    db: Session, app: FastAPI
) -> None:
    store = store_of(app)
    period = timedelta(days=3651)
    old_accepted, old_accepted_key = decided(db, store, decided_at=NOW - period - timedelta(1))
    old_rejected, old_rejected_key = decided(
        db,
        store,
        decided_at=NOW - period - timedelta(hours=1),
        status=ApplicationStatus.rejected,
        archived=True,
    )
    young, young_key = decided(db, store, decided_at=NOW - period + timedelta(hours=1))
    # Not decided: the other periods decide about these, however old they are.
    received = sf.submitted_application(db, store)
    received.updated_at = NOW - period - timedelta(days=400)
    db.add(received)
    db.flush()
    gone = [old_accepted.id, old_rejected.id]

    result = retention.purge_decided_subsidy_applications(db, now=NOW)

    assert (result.applications, result.attachments, result.days) == (2, 2, 3651)
    db.expire_all()
    left = set(db.exec(select(Application.id)).all())
    assert not left & set(gone)
    assert {young.id, received.id} <= left
    assert retention.purge_decided_subsidy_applications(db, now=NOW).applications == 0
    # The files of the deleted rows go with the sweep (after the commit); the others stay.
    make_old(store, old_accepted_key, old_rejected_key, young_key)
    retention.sweep_files(db, store=store)
    assert not file_path(store, old_accepted_key).exists()
    assert not file_path(store, old_rejected_key).exists()
    assert file_path(store, young_key).exists()


def ended_posting(
    db: Session, store: LocalFileStore, *, ended: date | None, image: bool = True
) -> tuple[TetPosting, str | None]:
    posting = tf.make_posting(db)
    posting.start_date = (ended or TODAY) - timedelta(days=14)
    posting.end_date = ended
    key = None
    if image:
        key = store.save(b"\x89PNG retention test " + os.urandom(8))
        posting.image_name = key
        posting.image_type = "image/png"
    db.add(posting)
    db.flush()
    return posting, key


def test_tet_postings_go_a_year_after_their_end_with_their_images(
    db: Session, app: FastAPI
) -> None:
    store = store_of(app)
    old, old_key = ended_posting(db, store, ended=TODAY - timedelta(days=366))
    old_without_image, _ = ended_posting(db, store, ended=TODAY - timedelta(days=400), image=False)
    recent, recent_key = ended_posting(db, store, ended=TODAY - timedelta(days=365))
    ongoing, ongoing_key = ended_posting(db, store, ended=None)

    result = retention.purge_tet_postings(db, now=NOW)

    assert (result.postings, result.images) == (2, 1)
    db.expire_all()
    left = set(db.exec(select(TetPosting.id)).all())
    assert old.id not in left
    assert old_without_image.id not in left
    assert {recent.id, ongoing.id} <= left
    assert retention.purge_tet_postings(db, now=NOW).postings == 0
    assert old_key
    assert recent_key
    assert ongoing_key
    make_old(store, old_key, recent_key, ongoing_key)
    retention.sweep_files(db, store=store)
    assert not file_path(store, old_key).exists()
    assert file_path(store, recent_key).exists()
    assert file_path(store, ongoing_key).exists()


def login_row(
    db: Session, user: User, *, expires: datetime, ended: datetime | None = None
) -> UserSession:
    row = UserSession(
        token_hash=os.urandom(32).hex(),
        user_id=user.id or 0,
        kind="employer",
        created_at=expires - timedelta(hours=8),
        last_seen_at=expires - timedelta(hours=8),
        expires_at=expires,
        ended_at=ended,
        organisations=[{"business_id": "2956285-9", "name": "Kahvila Esimerkki Oy"}],
    )
    db.add(row)
    db.flush()
    return row


def test_sessions_go_30_days_after_they_ended_or_expired(db: Session) -> None:
    user = sf.user(db, kind="employer", subject="retention-sessions", name="Essi Esimerkki")
    expired = login_row(db, user, expires=NOW - timedelta(days=31))
    logged_out = login_row(
        db, user, expires=NOW - timedelta(days=20), ended=NOW - timedelta(days=30, hours=1)
    )
    recent = login_row(
        db, user, expires=NOW - timedelta(days=29), ended=NOW - timedelta(days=29, hours=7)
    )
    live = login_row(db, user, expires=NOW + timedelta(hours=7))

    assert retention.purge_sessions(db, now=NOW) == 2

    left = set(db.exec(select(UserSession.id)).all())
    assert expired.id not in left
    assert logged_out.id not in left
    assert {recent.id, live.id} <= left
    assert retention.purge_sessions(db, now=NOW) == 0
    assert db.get(User, user.id) is not None  # users are not sessions


def payment_item(db: Session, *, claim_id: int | None = None, paid: bool = False) -> PaymentItem:
    item = PaymentItem(
        programme=Programme.summer_voucher,
        claim_id=claim_id,
        application_number=f"KS-{next(_numbers)}",
        amount_cents=35_000,
        decision_date=date(2030, 6, 1),
        due_date=date(2030, 6, 15),
        payee_name="Kahvila Esimerkki Oy",
        business_id="2956285-9",
        iban="FI2112345600000785",
        status=ItemStatus.paid if paid else ItemStatus.open,
        paid_on=date(2030, 6, 20) if paid else None,
    )
    db.add(item)
    db.flush()
    db.add(PaymentEvent(item_id=item.id or 0, kind="created", actor_name="Järjestelmä"))
    db.flush()
    return item


def batch(db: Session, status: BatchStatus, *items: PaymentItem) -> PaymentBatch:
    payer = sf.user(db, kind="staff", subject="retention-payer", name="Paula Maksaja")
    row = PaymentBatch(
        status=status,
        message_id=f"RET-{next(_numbers)}",
        created_by_id=payer.id or 0,
        created_by_name="Paula Maksaja",
        item_count=len(items),
        total_cents=sum(i.amount_cents for i in items),
    )
    db.add(row)
    db.flush()
    for item in items:
        db.add(
            PaymentBatchItem(
                batch_id=row.id or 0,
                item_id=item.id or 0,
                amount_cents=item.amount_cents,
                outcome="paid" if item.status == ItemStatus.paid else None,
                paid_on=item.paid_on,
            )
        )
    db.flush()
    return row


def test_payment_records_of_deleted_sources_go_unless_an_open_batch_holds_them(
    db: Session, app: FastAPI
) -> None:
    from tests.summer_voucher import factories as vf

    claim = vf.filled_claim(db, store_of(app))
    orphan = payment_item(db)
    orphan_paid = payment_item(db, paid=True)
    closed_emptied = batch(db, BatchStatus.closed, orphan_paid)
    orphan_exported = payment_item(db)
    exported = batch(db, BatchStatus.exported, orphan_exported)
    orphan_draft = payment_item(db)
    draft = batch(db, BatchStatus.draft, orphan_draft)
    alive = payment_item(db, claim_id=claim.id, paid=True)
    closed_alive = batch(db, BatchStatus.closed, alive)
    empty_draft = batch(db, BatchStatus.draft)

    result = retention.purge_payments(db)

    assert (result.items, result.batches) == (2, 1)
    items = set(db.exec(select(PaymentItem.id)).all())
    assert orphan.id not in items
    assert orphan_paid.id not in items
    assert {orphan_exported.id, orphan_draft.id, alive.id} <= items
    batches = set(db.exec(select(PaymentBatch.id)).all())
    assert closed_emptied.id not in batches
    assert {exported.id, draft.id, closed_alive.id, empty_draft.id} <= batches
    # Their history went with them (ON DELETE CASCADE).
    events = db.exec(
        select(func.count())
        .select_from(PaymentEvent)
        .where(col(PaymentEvent.item_id).in_([orphan.id, orphan_paid.id]))
    ).one()
    assert events == 0
    again = retention.purge_payments(db)
    assert (again.items, again.batches) == (0, 0)


def test_a_claim_deleted_by_retention_takes_its_payment_item_in_the_same_run(
    db: Session, app: FastAPI
) -> None:
    from tests.summer_voucher import factories as vf

    claim = vf.filled_claim(db, store_of(app))
    claim.created_at = NOW - timedelta(days=6 * 366)
    db.add(claim)
    db.flush()
    item = payment_item(db, claim_id=claim.id, paid=True)
    batch(db, BatchStatus.closed, item)

    report = retention.apply_periods(db, now=NOW, base_url="https://portal.example")

    assert report.claims.claims >= 1
    assert (report.payments.items, report.payments.batches) == (1, 1)
    assert db.get(PaymentItem, item.id) is None


# --- The whole run ----------------------------------------------------------------------------


def _expired_everywhere(db: Session, app: FastAPI) -> dict[str, Any]:
    """One expired row for each new period, a draft due for its reminder, and the files; all
    committed (to the test's savepoint), as the job's rollback must not undo them."""
    store = store_of(app)
    application, application_key = decided(db, store, decided_at=NOW - timedelta(days=3700))
    posting, posting_key = ended_posting(db, store, ended=TODAY - timedelta(days=400))
    user = sf.user(db, kind="employer", subject="retention-run", name="Essi Esimerkki")
    old_login = login_row(db, user, expires=NOW - timedelta(days=40))
    orphan = payment_item(db)
    draft = sf.draft_application(db, actor=sf.employer_actor(db))
    draft.contact_email = "essi.esimerkki@example.com"
    draft.updated_at = NOW - timedelta(days=170)
    db.add(draft)
    db.commit()
    assert posting_key
    make_old(store, application_key, posting_key)
    return {
        "store": store,
        "application": application.id,
        "posting": posting.id,
        "session": old_login.id,
        "item": orphan.id,
        "draft": draft.id,
        "keys": [application_key, posting_key],
    }


def counts_of(report: retention.RetentionReport) -> dict[str, int]:
    return {
        "decided": report.decided.applications,
        "decided_files": report.decided.attachments,
        "tet": report.tet.postings,
        "tet_images": report.tet.images,
        "sessions": report.sessions,
        "payment_items": report.payments.items,
        "reminded": report.reminded,
    }


def retention_audit_rows(db: Session) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).startswith("retention."))
            .order_by(col(AuditEvent.id))
        ).all()
    )


def test_a_dry_run_counts_the_same_and_changes_nothing_and_a_second_run_deletes_nothing(
    db: Session, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    made = _expired_everywhere(db, app)
    store = made["store"]
    audit_before = len(retention_audit_rows(db))
    outbox_before = db.exec(select(func.count()).select_from(OutboxMessage)).one()

    with caplog.at_level(logging.INFO, logger="app.jobs.retention"):
        dry = retention.run(
            db, now=NOW, base_url="https://portal.example", store=store, dry_run=True
        )

    assert dry.dry_run
    assert dry.files is None
    counted = counts_of(dry)
    assert all(counted[name] >= 1 for name in counted), counted
    db.expire_all()
    assert db.get(Application, made["application"]) is not None
    assert db.get(Application, made["draft"]).draft_reminder_sent_at is None  # type: ignore[union-attr]
    assert db.get(TetPosting, made["posting"]) is not None
    assert db.get(UserSession, made["session"]) is not None
    assert db.get(PaymentItem, made["item"]) is not None
    assert db.exec(select(func.count()).select_from(OutboxMessage)).one() == outbox_before
    assert len(retention_audit_rows(db)) == audit_before
    for key in made["keys"]:
        assert file_path(store, key).exists()  # old enough to sweep: the dry run did not
    dry_lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert dry_lines
    assert all(line.get("retention_dry_run") is True for line in dry_lines)
    assert "dry run" in dry.lines()[0]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.jobs.retention"):
        real = retention.run(db, now=NOW, base_url="https://portal.example", store=store)

    assert counts_of(real) == counted
    assert real.files is not None
    assert real.files >= len(made["keys"])
    db.expire_all()
    assert db.get(Application, made["application"]) is None
    assert db.get(TetPosting, made["posting"]) is None
    assert db.get(UserSession, made["session"]) is None
    assert db.get(PaymentItem, made["item"]) is None
    for key in made["keys"]:
        assert not file_path(store, key).exists()
    # Each period logged its counts and left an audit row of counts only: no personal data.
    events = {r.msg["event"]: r.msg for r in caplog.records if isinstance(r.msg, dict)}
    for event in (
        "retention_subsidy_decided_applications",
        "retention_tet_postings",
        "retention_user_sessions",
        "retention_payments",
        "retention_subsidy_draft_reminders",
        "retention_files",
    ):
        assert event in events, sorted(events)
    assert events["retention_subsidy_decided_applications"]["deleted"] == counted["decided"]
    assert events["retention_tet_postings"]["deleted"] == counted["tet"]
    rows = retention_audit_rows(db)[audit_before:]
    assert {row.action for row in rows} >= {
        "retention.subsidy_decided_applications",
        "retention.tet_postings",
        "retention.user_sessions",
        "retention.payments",
    }
    personal = ("Essi", "Esimerkki", "essi.esimerkki", "Ville", "Työntekijä", EMPLOYEE_HETU)
    logged = json.dumps([r.msg for r in caplog.records if isinstance(r.msg, dict)], default=str)
    audited = json.dumps([(row.detail, row.target_id, row.fields) for row in rows])
    for text in personal:
        assert text not in logged
        assert text not in audited
    assert all(row.target_id is None and row.actor_kind == "system" for row in rows)

    again = retention.run(db, now=NOW, base_url="https://portal.example", store=store)
    assert counts_of(again) == dict.fromkeys(counted, 0)


def test_the_report_names_every_period() -> None:
    report = retention.RetentionReport(
        claims=retention.ClaimRetentionResult(claims=1, attachments=2),
        youth=retention.RetentionResult(youth_applications=3, vouchers=4),
        reminded=5,
        subsidies=retention.SubsidyRetentionResult(drafts=6, cancelled=7, attachments=8),
        decided=retention.DecidedRetentionResult(applications=9, attachments=10, days=3651),
        tet=retention.TetRetentionResult(postings=11, images=12),
        sessions=13,
        payments=retention.PaymentRetentionResult(items=14, batches=15),
        files=16,
    )
    text = "\n".join(report.lines())
    for expected in (
        "youth applications: 3 deleted (vouchers: 4)",
        "employer claims: 1 deleted (attachments: 2)",
        "draft reminders: 5 queued",
        "drafts after 180 days: 6 deleted",
        "cancelled applications after 30 days: 7 deleted (attachments: 8)",
        "decided applications after 3651 days: 9 deleted (attachments: 10)",
        "TET postings ended over 365 days ago: 11 deleted (images: 12)",
        "User sessions ended over 30 days ago: 13 deleted",
        "Payment items of deleted applications and claims: 14 deleted",
        "closed batches left empty: 15 deleted",
        "Files: 16 removed",
    ):
        assert expected in text
    assert "1 to delete" in "\n".join(replace(report, dry_run=True).lines())
