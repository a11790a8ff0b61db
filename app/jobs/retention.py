"""Retention: personal data is deleted when its period ends (K62; periods in app/rules).

Youth applications never activated go after a week, rejected ones after a year, all after five
years; their vouchers go with them. Employer claims go after five years and their attachments
after one (files too). Counts are logged and audited, never names or codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from app import audit, rules
from app.documents.storage import FileStore
from app.logs import get_logger
from app.security import SYSTEM
from app.summer_voucher.models import (
    Claim,
    ClaimAttachment,
    Voucher,
    YouthApplication,
    YouthStatus,
)

log = get_logger("app.jobs.retention")


@dataclass(frozen=True)
class RetentionResult:
    youth_applications: int
    vouchers: int


def _years_ago(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def purge_youth_applications(session: Session, *, now: datetime) -> RetentionResult:
    """Delete the youth applications (and vouchers) whose retention period has ended."""
    today = now.date()
    unactivated_before = now - timedelta(
        days=int(rules.value("summer_voucher.youth_retention_unactivated_days", today))
    )
    rejected_before = _years_ago(
        now, int(rules.value("summer_voucher.youth_retention_rejected_years", today))
    )
    all_before = _years_ago(now, int(rules.value("summer_voucher.youth_retention_years", today)))
    expired = or_(
        (col(YouthApplication.activated_at).is_(None))
        & (col(YouthApplication.created_at) < unactivated_before),
        (col(YouthApplication.status) == YouthStatus.rejected)
        & (col(YouthApplication.created_at) < rejected_before),
        col(YouthApplication.created_at) < all_before,
    )
    ids = list(session.execute(select(col(YouthApplication.id)).where(expired)).scalars())
    vouchers = 0
    if ids:
        # A claim outlives the voucher it used by at most a few months; it keeps its data.
        session.execute(
            update(Claim)
            .where(
                col(Claim.voucher_id).in_(
                    select(col(Voucher.id)).where(col(Voucher.youth_application_id).in_(ids))
                )
            )
            .values(voucher_id=None)
        )
        vouchers = session.execute(
            delete(Voucher).where(col(Voucher.youth_application_id).in_(ids))
        ).rowcount  # type: ignore[attr-defined]
        session.execute(delete(YouthApplication).where(col(YouthApplication.id).in_(ids)))
    result = RetentionResult(youth_applications=len(ids), vouchers=vouchers)
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.youth_applications",
        target_type="youth_application",
        detail=f"deleted={result.youth_applications} vouchers={result.vouchers}",
    )
    log.info(
        "retention_youth_applications", deleted=result.youth_applications, vouchers=result.vouchers
    )
    return result


@dataclass(frozen=True)
class ClaimRetentionResult:
    claims: int
    attachments: int


def purge_claims(session: Session, *, now: datetime) -> ClaimRetentionResult:
    """Delete claims and attachments whose period has ended. Their files go with
    `sweep_files`, run after this is committed, so a rolled-back purge loses no file."""
    today = now.date()
    claims_before = _years_ago(
        now, int(rules.value("summer_voucher.employer_application_retention_years", today))
    )
    files_before = _years_ago(
        now, int(rules.value("summer_voucher.attachment_retention_years", today))
    )
    old_claims = select(col(Claim.id)).where(col(Claim.created_at) < claims_before)
    attachments = session.execute(
        delete(ClaimAttachment).where(
            or_(
                col(ClaimAttachment.created_at) < files_before,
                col(ClaimAttachment.claim_id).in_(old_claims),
            )
        )
    ).rowcount  # type: ignore[attr-defined]
    claims = session.execute(delete(Claim).where(col(Claim.created_at) < claims_before)).rowcount  # type: ignore[attr-defined]
    result = ClaimRetentionResult(claims=claims, attachments=attachments)
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.summer_voucher_claims",
        target_type="summer_voucher_claim",
        detail=f"deleted={claims} attachments={attachments}",
    )
    log.info("retention_claims", deleted=claims, attachments=attachments)
    return result


def sweep_files(session: Session, *, store: FileStore) -> int:
    """Remove stored files that no attachment row names (deleted rows, failed uploads). Files
    younger than a day are left: their upload's transaction may still be open."""
    known = set(session.execute(select(col(ClaimAttachment.storage_key))).scalars())
    removed = store.sweep_orphans(known, older_than_seconds=24 * 3600)
    log.info("retention_files", removed=removed)
    return removed
