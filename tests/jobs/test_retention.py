"""Retention deletes exactly the youth applications whose period has ended (twice is a no-op)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlmodel import Session, select

from app.crypto import blind_index
from app.db import utcnow
from app.jobs.retention import purge_youth_applications
from app.summer_voucher.models import Voucher, YouthApplication, YouthStatus


def application(
    db: Session,
    tag: str,
    *,
    created: datetime,
    status: str = YouthStatus.submitted,
    activated: bool = False,
    voucher: bool = False,
) -> YouthApplication:
    row = YouthApplication(
        year=created.year,
        first_name="Testi",
        last_name=tag,
        email=f"{tag}@example.com",
        email_index=blind_index(f"{tag}@example.com", purpose="email"),
        phone="+358401234567",
        postcode="00100",
        school="Koulu",
        target_group="primary_target_group",
        status=status,
        created_at=created,
        activated_at=created if activated else None,
    )
    db.add(row)
    db.flush()
    if voucher:
        db.add(
            Voucher(
                youth_application_id=row.id or 0,
                serial_number=10**9 + (row.id or 0),
                created_at=created,
            )
        )
        db.flush()
    return row


def surnames(db: Session) -> set[str]:
    return {row.last_name for row in db.exec(select(YouthApplication)).all()}


def test_each_period(db: Session) -> None:
    now = utcnow()
    application(db, "fresh-unactivated", created=now - timedelta(days=6))
    application(db, "old-unactivated", created=now - timedelta(days=8))
    application(db, "expired-link", created=now - timedelta(days=8), status=YouthStatus.expired)
    application(
        db,
        "rejected-recent",
        created=now - timedelta(days=300),
        status=YouthStatus.rejected,
        activated=True,
    )
    application(
        db,
        "rejected-old",
        created=now - timedelta(days=400),
        status=YouthStatus.rejected,
        activated=True,
    )
    application(
        db,
        "accepted-4y",
        created=now - timedelta(days=4 * 365),
        status=YouthStatus.accepted,
        activated=True,
        voucher=True,
    )
    application(
        db,
        "accepted-6y",
        created=now - timedelta(days=6 * 365),
        status=YouthStatus.accepted,
        activated=True,
        voucher=True,
    )
    first = purge_youth_applications(db, now=now)
    assert first.youth_applications == 4
    assert first.vouchers == 1
    assert surnames(db) == {"fresh-unactivated", "rejected-recent", "accepted-4y"}
    second = purge_youth_applications(db, now=now)
    assert second.youth_applications == 0
    assert len(db.exec(select(Voucher)).all()) == 1


def test_claims_after_five_years_and_attachments_after_one(db: Session, app: FastAPI) -> None:
    from datetime import UTC

    from app.jobs.retention import purge_claims, sweep_files
    from app.summer_voucher.models import Claim, ClaimAttachment
    from tests.summer_voucher import factories as f

    store = app.state.file_store
    young = f.filled_claim(db, store)
    old = f.filled_claim(db, store, actor=f.employer(db, subject="older"))
    now = datetime(2031, 6, 1, tzinfo=UTC)
    old.created_at = now - timedelta(days=5 * 366)
    db.add(old)
    year_ago = now - timedelta(days=400)
    for attachment in db.exec(select(ClaimAttachment)).all():
        if attachment.claim_id == young.id:
            attachment.created_at = year_ago
            db.add(attachment)
    young.created_at = now - timedelta(days=30)
    db.add(young)
    db.flush()
    keys = [a.storage_key for a in db.exec(select(ClaimAttachment)).all()]
    result = purge_claims(db, now=now)
    assert (result.claims, result.attachments) == (1, 4)
    assert [c.id for c in db.exec(select(Claim)).all()] == [young.id]
    assert db.exec(select(ClaimAttachment)).all() == []
    # The files go once no row names them and they are old enough.
    for key in keys:
        path = store.root / key[:2] / key
        os.utime(path, (0, 0))
    assert sweep_files(db, store=store) >= len(keys)


# --- Helsinki-lisä (issue #5 §9, H69–H70) --------------------------------------------------------


def _subsidy_draft(db: Session, store: object, *, changed: datetime, language: str = "fi") -> int:
    from app.subsidies import service
    from tests.subsidies import factories as sf

    actor = sf.employer_actor(db)
    application = sf.complete_application(db, store, actor=actor)  # type: ignore[arg-type]
    service.save_step(
        db,
        application=application,
        step="employer",
        data=sf.employer_step(language=language),
        actor=actor,
    )
    application.updated_at = changed
    db.add(application)
    db.flush()
    return application.id or 0


def test_subsidy_drafts_get_a_reminder_14_days_before_deletion(db: Session, app: FastAPI) -> None:
    from app.jobs.retention import remind_subsidy_drafts
    from app.notifications.models import OutboxMessage
    from app.subsidies.models import Application

    store = app.state.file_store
    now = utcnow()
    fresh = _subsidy_draft(db, store, changed=now - timedelta(days=160))
    due_sv = _subsidy_draft(db, store, changed=now - timedelta(days=170), language="sv")
    due_en = _subsidy_draft(db, store, changed=now - timedelta(days=167), language="en")
    assert remind_subsidy_drafts(db, now=now, base_url="https://portal.example") == 2
    mails = db.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "subsidies.draft_reminder")
    ).all()
    assert sorted(m.language for m in mails) == ["en", "sv"]
    sv = next(m for m in mails if m.language == "sv")
    deletion = (now - timedelta(days=170) + timedelta(days=180)).astimezone(
        ZoneInfo("Europe/Helsinki")
    )
    assert f"{deletion.day}.{deletion.month}.{deletion.year}" in sv.body_text
    assert f"https://portal.example/employer/subsidies/applications/{due_sv}" in sv.body_text
    assert sv.to_address == "eija@example.com"
    # Once per draft: the next run sends nothing more, and the draft's age is unchanged.
    assert remind_subsidy_drafts(db, now=now, base_url="https://portal.example") == 0
    db.expire_all()
    row = db.get(Application, due_en)
    assert row is not None
    assert row.draft_reminder_sent_at is not None
    assert row.updated_at < now - timedelta(days=166)
    assert db.get(Application, fresh) is not None


def test_subsidy_drafts_after_180_days_and_cancelled_after_30_go_with_their_files(
    db: Session, app: FastAPI
) -> None:
    from app.jobs.retention import purge_subsidy_applications, sweep_files
    from app.subsidies import handling
    from app.subsidies.models import Application, ApplicationStatus
    from app.subsidies.models import Attachment as SubsidyAttachment
    from app.subsidies.staff_schemas import CancelIn
    from tests.admin import subsidy_factories as af
    from tests.subsidies import factories as sf

    store = app.state.file_store
    now = utcnow()
    old_draft = _subsidy_draft(db, store, changed=now - timedelta(days=181))
    young_draft = _subsidy_draft(db, store, changed=now - timedelta(days=179))
    cancelled_old = sf.submitted_application(db, store)
    handling.cancel(
        db, application=cancelled_old, data=CancelIn(reason="Peruttu"), actor=af.staff(db)
    )
    cancelled_old.cancelled_at = now - timedelta(days=31)
    db.add(cancelled_old)
    cancelled_new = sf.submitted_application(
        db, store, employee={"employee_hetu": sf.hetu("020202", 222)}
    )
    handling.cancel(
        db, application=cancelled_new, data=CancelIn(reason="Peruttu"), actor=af.staff(db)
    )
    received = sf.submitted_application(
        db, store, employee={"employee_hetu": sf.hetu("030303", 333)}
    )
    received.updated_at = now - timedelta(days=400)
    db.add(received)
    db.flush()
    gone_keys = [
        a.storage_key
        for a in db.exec(select(SubsidyAttachment)).all()
        if a.application_id in (old_draft, cancelled_old.id)
    ]
    kept_keys = [
        a.storage_key
        for a in db.exec(select(SubsidyAttachment)).all()
        if a.application_id not in (old_draft, cancelled_old.id)
    ]
    result = purge_subsidy_applications(db, now=now)
    assert (result.drafts, result.cancelled) == (1, 1)
    assert result.attachments == len(gone_keys) > 0
    db.expire_all()
    left = {a.id for a in db.exec(select(Application)).all()}
    assert old_draft not in left
    assert cancelled_old.id not in left
    assert {young_draft, cancelled_new.id, received.id} <= left
    assert db.get(Application, received.id).status == ApplicationStatus.received  # type: ignore[union-attr]
    # Twice is a no-op.
    again = purge_subsidy_applications(db, now=now)
    assert (again.drafts, again.cancelled, again.attachments) == (0, 0, 0)
    # The files of the deleted rows go with the sweep; those of the others stay.
    for key in gone_keys + kept_keys:
        os.utime(store.root / key[:2] / key, (0, 0))
    sweep_files(db, store=store)
    for key in gone_keys:
        assert not (store.root / key[:2] / key).exists()
    for key in kept_keys:
        assert (store.root / key[:2] / key).exists()
