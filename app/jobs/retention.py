"""Retention: personal data is deleted when its period ends (K62, H69–H70, R28; periods in
app/rules and below). `python -m app.jobs retention [--dry-run]` runs every period (`run_job`).

Kesäseteli: youth applications never activated go after a week, rejected ones after a year, all
after five years; their vouchers go with them. Employer claims go after five years and their
attachments after one (files too).
Helsinki-lisä: drafts go 180 days after their last change, with a reminder e-mail 14 days
before; cancelled applications 30 days after cancelling; decided ones (accepted or rejected)
3651 days after the decision; their files with them.
TET: postings go a year after their end date, with their images (the reference gives no period,
see TET_ENDED_POSTING_DAYS).
Sessions: rows of ended or expired logins go after SESSION_RETENTION_DAYS.
Payments: an item whose source (application or claim) retention has deleted goes, unless a
batch still open holds it; then closed batches left without items (their history cascades).

Counts are logged and audited, never names or codes. Audit rows are never deleted (they are
append-only: the database refuses it), so the mandate and population-register query rows are
kept as DVV requires (at least five years, R33).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, exists, func, or_, select, update
from sqlmodel import Session, col

from app import audit, crypto, i18n, rules
from app.auth.models import User, UserSession
from app.config import Settings, get_settings
from app.db import make_engine, utcnow
from app.documents.storage import FileStore, LocalFileStore
from app.logs import configure_logging, get_logger
from app.notifications.service import queue_email, render_email
from app.payments.models import BatchStatus, PaymentBatch, PaymentBatchItem, PaymentItem
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


@dataclass(frozen=True)
class DecidedRetentionResult:
    applications: int
    attachments: int
    days: int  # the period applied


def purge_decided_subsidy_applications(
    session: Session, *, now: datetime
) -> DecidedRetentionResult:
    """Delete accepted and rejected applications (archived or not) whose decision is older than
    `subsidies.decided_application_retention_days` (3651 days, H70), with everything of theirs
    (the database cascades, as for drafts). Their payment items keep their own record: the
    link is set to NULL and `purge_payments` decides about them. The files' contents go with
    `sweep_files`, run after this is committed."""
    days = int(rules.value("subsidies.decided_application_retention_days", now.date()))
    ids = list(
        session.execute(
            select(col(Application.id)).where(
                col(Application.status).in_(
                    [ApplicationStatus.accepted, ApplicationStatus.rejected]
                ),
                col(Application.decided_at) < now - timedelta(days=days),
            )
        ).scalars()
    )
    attachments = 0
    if ids:
        attachments = session.execute(
            delete(SubsidyAttachment).where(col(SubsidyAttachment.application_id).in_(ids))
        ).rowcount  # type: ignore[attr-defined]
        session.execute(delete(Application).where(col(Application.id).in_(ids)))
    result = DecidedRetentionResult(applications=len(ids), attachments=attachments, days=days)
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.subsidy_decided_applications",
        target_type="subsidy_application",
        detail=f"deleted={result.applications} attachments={attachments} days={days}",
    )
    log.info(
        "retention_subsidy_decided_applications",
        deleted=result.applications,
        attachments=attachments,
        days=days,
    )
    return result


# --- TET ---------------------------------------------------------------------------------------

# Days after its end date a TET posting is deleted, with its image. The reference (the city's
# current service keeps postings in LinkedEvents and names no period, tet_and_shared.md §1) gives
# none; a year keeps last year's ended postings for their owners to copy for the next TET
# period (an ended posting can only be copied or deleted), and no longer than that: a posting
# names a contact person. Postings without an end date are ongoing and never end.
TET_ENDED_POSTING_DAYS = 365


@dataclass(frozen=True)
class TetRetentionResult:
    postings: int
    images: int


def purge_tet_postings(session: Session, *, now: datetime) -> TetRetentionResult:
    """Delete postings that ended more than TET_ENDED_POSTING_DAYS ago (Helsinki days), drafts
    and published alike; their classifications cascade, SQLite's search table follows by its
    trigger, and the image files go with `sweep_files`, run after this is committed."""
    today = now.astimezone(HELSINKI_TZ).date()
    ended = col(TetPosting.end_date) < today - timedelta(days=TET_ENDED_POSTING_DAYS)
    postings, images = session.execute(
        select(func.count(), func.count(col(TetPosting.image_name))).where(ended)
    ).one()
    if postings:
        session.execute(delete(TetPosting).where(ended))
    result = TetRetentionResult(postings=int(postings), images=int(images))
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.tet_postings",
        target_type="tet_posting",
        detail=f"deleted={result.postings} images={result.images}",
    )
    log.info("retention_tet_postings", deleted=result.postings, images=result.images)
    return result


# --- Sessions ----------------------------------------------------------------------------------

# Days a login's row is kept after it ended (logout, timeout, an admin) or passed its absolute
# expiry: long enough to look into an incident beside the audit log (whose login, logout and
# mandate rows stay), no longer, as the row holds the organisations the mandate query gave.
SESSION_RETENTION_DAYS = 30


def purge_sessions(session: Session, *, now: datetime) -> int:
    """Delete the rows of sessions that ended or expired more than SESSION_RETENTION_DAYS ago.
    A live session is never touched: its expiry is at most the absolute lifetime away."""
    cutoff = now - timedelta(days=SESSION_RETENTION_DAYS)
    deleted = int(
        session.execute(
            delete(UserSession).where(
                or_(col(UserSession.expires_at) < cutoff, col(UserSession.ended_at) < cutoff)
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.user_sessions",
        target_type="user_session",
        detail=f"deleted={deleted} days={SESSION_RETENTION_DAYS}",
    )
    log.info("retention_user_sessions", deleted=deleted, days=SESSION_RETENTION_DAYS)
    return deleted


# --- Payments ----------------------------------------------------------------------------------

# A batch in these states may still be approved, exported or settled: its items stay.
OPEN_BATCH_STATUSES = (BatchStatus.draft, BatchStatus.approved, BatchStatus.exported)


@dataclass(frozen=True)
class PaymentRetentionResult:
    items: int
    batches: int


def purge_payments(session: Session) -> PaymentRetentionResult:
    """Delete payment items whose source retention has deleted (both links NULL: the foreign
    keys are ON DELETE SET NULL) unless a batch still open holds them, then closed batches left
    without items. The items' batch links and history (payment_event) cascade. Run after the
    programmes' periods, so that an application or claim deleted in the same run takes its
    items with it. No period of its own: a payment record lives as long as its source."""
    in_open_batch = (
        select(col(PaymentBatchItem.item_id))
        .join(PaymentBatch, col(PaymentBatch.id) == col(PaymentBatchItem.batch_id))
        .where(col(PaymentBatch.status).in_(OPEN_BATCH_STATUSES))
    )
    items = int(
        session.execute(
            delete(PaymentItem).where(
                col(PaymentItem.subsidy_application_id).is_(None),
                col(PaymentItem.claim_id).is_(None),
                col(PaymentItem.id).not_in(in_open_batch),
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    batches = int(
        session.execute(
            delete(PaymentBatch).where(
                col(PaymentBatch.status) == BatchStatus.closed,
                ~exists().where(col(PaymentBatchItem.batch_id) == col(PaymentBatch.id)),
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    result = PaymentRetentionResult(items=items, batches=batches)
    audit.record(
        session,
        actor=SYSTEM,
        action="retention.payments",
        target_type="payment_item",
        detail=f"items={items} batches={batches}",
    )
    log.info("retention_payments", items=items, batches=batches)
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


# --- The job: every period, in one transaction ------------------------------------------------


@dataclass(frozen=True)
class RetentionReport:
    """The counts of one run; in a dry run, what a run would have done."""

    claims: ClaimRetentionResult
    youth: RetentionResult
    reminded: int
    subsidies: SubsidyRetentionResult
    decided: DecidedRetentionResult
    tet: TetRetentionResult
    sessions: int
    payments: PaymentRetentionResult
    dry_run: bool = False
    files: int | None = None  # removed by the sweep after the commit; None in a dry run

    def lines(self) -> list[str]:
        """The summary the command prints: counts only."""
        gone = "to delete" if self.dry_run else "deleted"
        queued = "to queue" if self.dry_run else "queued"
        head = (
            "Retention, dry run: nothing was changed, no e-mail queued, no file removed."
            if self.dry_run
            else "Retention: done."
        )
        files = "not swept (dry run)" if self.files is None else f"{self.files} removed"
        return [
            head,
            f"- Kesäseteli youth applications: {self.youth.youth_applications} {gone}"
            f" (vouchers: {self.youth.vouchers})",
            f"- Kesäseteli employer claims: {self.claims.claims} {gone}"
            f" (attachments: {self.claims.attachments})",
            f"- Helsinki-lisä draft reminders: {self.reminded} {queued}",
            f"- Helsinki-lisä drafts after {SUBSIDY_DRAFT_DAYS} days: {self.subsidies.drafts} {gone};"
            f" cancelled applications after {SUBSIDY_CANCELLED_DAYS} days:"
            f" {self.subsidies.cancelled} {gone} (attachments: {self.subsidies.attachments})",
            f"- Helsinki-lisä decided applications after {self.decided.days} days:"
            f" {self.decided.applications} {gone} (attachments: {self.decided.attachments})",
            f"- TET postings ended over {TET_ENDED_POSTING_DAYS} days ago: {self.tet.postings}"
            f" {gone} (images: {self.tet.images})",
            f"- User sessions ended over {SESSION_RETENTION_DAYS} days ago: {self.sessions} {gone}",
            f"- Payment items of deleted applications and claims: {self.payments.items} {gone};"
            f" closed batches left empty: {self.payments.batches} {gone}",
            f"- Files: {files}",
        ]


def apply_periods(session: Session, *, now: datetime, base_url: str) -> RetentionReport:
    """Every period of every programme, in the caller's transaction (not committed here).
    Payments last: they follow the applications and claims deleted before them."""
    claims = purge_claims(session, now=now)
    youth = purge_youth_applications(session, now=now)
    reminded = remind_subsidy_drafts(session, now=now, base_url=base_url)
    subsidies = purge_subsidy_applications(session, now=now)
    decided = purge_decided_subsidy_applications(session, now=now)
    tet = purge_tet_postings(session, now=now)
    sessions = purge_sessions(session, now=now)
    payments = purge_payments(session)
    return RetentionReport(
        claims=claims,
        youth=youth,
        reminded=reminded,
        subsidies=subsidies,
        decided=decided,
        tet=tet,
        sessions=sessions,
        payments=payments,
    )


def run(
    session: Session, *, now: datetime, base_url: str, store: FileStore, dry_run: bool = False
) -> RetentionReport:
    """Apply every period, commit, then remove the files no row names any more. A dry run
    computes the same counts and rolls everything back: no row deleted, no reminder queued, no
    audit row, no file removed (its log lines carry retention_dry_run=true)."""
    with structlog.contextvars.bound_contextvars(retention_dry_run=dry_run):
        report = apply_periods(session, now=now, base_url=base_url)
        if dry_run:
            session.rollback()
            log.info("retention_dry_run_rolled_back")
            return replace(report, dry_run=True)
        session.commit()
        # Only after the commit: a purge rolled back loses no file.
        return replace(report, files=sweep_files(session, store=store))


def run_job(settings: Settings, *, dry_run: bool, now: datetime | None = None) -> RetentionReport:
    """One run against the configured database and file store."""
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return run(
                session,
                now=now or utcnow(),
                base_url=settings.public_base_url,
                store=LocalFileStore(settings.files_dir),
                dry_run=dry_run,
            )
    finally:
        engine.dispose()


def command(*, dry_run: bool = False) -> int:
    """`python -m app.jobs retention [--dry-run]` (and `python -m app.cli retention`): run,
    log each period's counts as JSON lines and print the summary."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    report = run_job(settings, dry_run=dry_run)
    sys.stdout.write("\n".join(report.lines()) + "\n")  # command-line output, after the logs
    return 0
