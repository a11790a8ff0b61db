"""Retention: personal data is deleted when its period ends (K62; periods in app/rules).

Youth applications never activated go after a week, rejected ones after a year, all after five
years; their vouchers go with them. Counts are logged and audited, never names or codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlmodel import Session, col

from app import audit, rules
from app.logs import get_logger
from app.security import SYSTEM
from app.summer_voucher.models import Voucher, YouthApplication, YouthStatus

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
