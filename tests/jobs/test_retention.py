"""Retention deletes exactly the youth applications whose period has ended (twice is a no-op)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

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
