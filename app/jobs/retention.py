"""Retention: personal data is deleted when its period ends (K62, H69–H70; periods in app/rules
and below).

Youth applications never activated go after a week, rejected ones after a year, all after five
years; their vouchers go with them. Employer claims go after five years and their attachments
after one (files too). Helsinki-lisä drafts go 180 days after their last change, with a reminder
e-mail 14 days before; cancelled applications 30 days after cancelling; their files with them.
Counts are logged and audited, never names or codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from app import audit, i18n, rules
from app.auth.models import User
from app.documents.storage import FileStore
from app.logs import get_logger
from app.notifications.service import queue_email, render_email
from app.security import SYSTEM
from app.subsidies.messages import application_link
from app.subsidies.models import Application, ApplicationStatus, Origin
from app.subsidies.models import Attachment as SubsidyAttachment
from app.summer_voucher.models import (
    Claim,
    ClaimAttachment,
    Voucher,
    YouthApplication,
    YouthStatus,
)
from app.templating import format_day
from app.tet.models import TetPosting

log = get_logger("app.jobs.retention")
HELSINKI_TZ = ZoneInfo("Europe/Helsinki")


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


# --- Helsinki-lisä (issue #5 §9, H69–H70) --------------------------------------------------------

# Days after the last change a draft is deleted, and how many days before that the reminder goes.
SUBSIDY_DRAFT_DAYS = 180
SUBSIDY_DRAFT_REMINDER_DAYS_BEFORE = 14
# Days after cancelling a cancelled application is deleted.
SUBSIDY_CANCELLED_DAYS = 30


@dataclass(frozen=True)
class SubsidyRetentionResult:
    drafts: int
    cancelled: int
    attachments: int


def _reminder_address(session: Session, application: Application) -> str | None:
    """The contact person's address if the draft has one, else its creator's."""
    if application.contact_email:
        return application.contact_email
    creator = session.get(User, application.creator_id)
    return creator.email if creator and creator.email else None


def remind_subsidy_drafts(session: Session, *, now: datetime, base_url: str) -> int:
    """E-mail the employer once about a draft that will be deleted in 14 days (H69), in the
    draft's language, with the day of deletion and a link to the draft. A draft changed after
    its reminder gets a new one when it is again that old. Paper drafts staff are entering get
    none. Returns how many were queued."""
    remind_before = now - timedelta(days=SUBSIDY_DRAFT_DAYS - SUBSIDY_DRAFT_REMINDER_DAYS_BEFORE)
    delete_before = now - timedelta(days=SUBSIDY_DRAFT_DAYS)
    due = session.execute(
        select(Application)
        .where(
            col(Application.status) == ApplicationStatus.draft,
            col(Application.origin) == Origin.applicant,
            col(Application.updated_at) < remind_before,
            col(Application.updated_at) >= delete_before,
            or_(
                col(Application.draft_reminder_sent_at).is_(None),
                col(Application.draft_reminder_sent_at) < col(Application.updated_at),
            ),
        )
        .order_by(col(Application.id))
    ).scalars()
    sent = 0
    for application in list(due):
        address = _reminder_address(session, application)
        if not address:
            continue
        language = application.language if application.language in i18n.LANGUAGES else "fi"
        deletion = (application.updated_at + timedelta(days=SUBSIDY_DRAFT_DAYS)).astimezone(
            HELSINKI_TZ
        )
        with i18n.language(language):
            shown = format_day(deletion.date())
        subject, text, html = render_email(
            "subsidy_draft_reminder",
            {
                "link": application_link(base_url, application),
                "deletion_date": shown,
                "lang": language,
            },
            language=language,
            session=session,
        )
        try:
            queue_email(
                session,
                to=address,
                subject=subject,
                body_text=text,
                body_html=html,
                kind="subsidies.draft_reminder",
                language=language,
            )
        except ValueError:  # an address the mail server would refuse: nobody to remind
            continue
        # A plain update: the reminder is not a change of the draft (updated_at stays).
        session.execute(
            update(Application)
            .where(col(Application.id) == application.id)
            .values(draft_reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        sent += 1
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.subsidy_draft_reminders",
        target_type="subsidy_application",
        detail=f"reminded={sent}",
    )
    log.info("retention_subsidy_draft_reminders", reminded=sent)
    return sent


def purge_subsidy_applications(session: Session, *, now: datetime) -> SubsidyRetentionResult:
    """Delete drafts 180 days after their last change and cancelled applications 30 days after
    cancelling (H70), with everything of theirs (the database cascades: rows of de minimis aid,
    files, messages, history, marks, the calculation). The files' contents go with
    `sweep_files`, run after this is committed."""
    drafts = select(col(Application.id)).where(
        col(Application.status) == ApplicationStatus.draft,
        col(Application.updated_at) < now - timedelta(days=SUBSIDY_DRAFT_DAYS),
    )
    cancelled = select(col(Application.id)).where(
        col(Application.status) == ApplicationStatus.cancelled,
        col(Application.cancelled_at) < now - timedelta(days=SUBSIDY_CANCELLED_DAYS),
    )
    draft_ids = list(session.execute(drafts).scalars())
    cancelled_ids = list(session.execute(cancelled).scalars())
    ids = draft_ids + cancelled_ids
    attachments = 0
    if ids:
        attachments = session.execute(
            delete(SubsidyAttachment).where(col(SubsidyAttachment.application_id).in_(ids))
        ).rowcount  # type: ignore[attr-defined]
        session.execute(delete(Application).where(col(Application.id).in_(ids)))
    result = SubsidyRetentionResult(
        drafts=len(draft_ids), cancelled=len(cancelled_ids), attachments=attachments
    )
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.subsidy_applications",
        target_type="subsidy_application",
        detail=f"drafts={result.drafts} cancelled={result.cancelled} attachments={attachments}",
    )
    log.info(
        "retention_subsidy_applications",
        drafts=result.drafts,
        cancelled=result.cancelled,
        attachments=attachments,
    )
    return result


def sweep_files(session: Session, *, store: FileStore) -> int:
    """Remove stored files that no attachment row names (deleted rows, failed uploads). Files
    younger than a day are left: their upload's transaction may still be open. Every kind of
    attachment row in the portal names its file here (Kesäseteli claims, Helsinki-lisä, TET
    images; an image replaced or removed is swept a day later, T14)."""
    known = set(session.execute(select(col(ClaimAttachment.storage_key))).scalars())
    known |= set(session.execute(select(col(SubsidyAttachment.storage_key))).scalars())
    known |= {
        key
        for key in session.execute(select(col(TetPosting.image_name))).scalars()
        if key is not None
    }
    removed = store.sweep_orphans(known, older_than_seconds=24 * 3600)
    log.info("retention_files", removed=removed)
    return removed
