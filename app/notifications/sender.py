"""Send outbox messages: build the MIME message, hand it to SMTP (or a directory), retry with backoff.

The drain claims one due message at a time in a short transaction (PostgreSQL: an UPDATE over
`SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share the outbox without sending a
message twice), sends it with no transaction open, and records the outcome in a second short
transaction. Claiming moves `next_attempt_at` a lease ahead: if the worker dies mid-send, the
message becomes due again when the lease ends. Delivery is therefore at least once; a message
repeated after such a crash keeps its Message-ID, so mail clients can recognise the duplicate.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from app.db import utcnow
from app.logs import get_logger
from app.notifications.config import DEFAULT_MAIL_FROM, DEFAULT_MAX_ATTEMPTS, MailSettings
from app.notifications.models import OutboxMessage, OutboxStatus

logger = get_logger(__name__)

DEFAULT_BATCH = 50
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
# Longer than one SMTP conversation can take with SMTP_TIMEOUT_SECONDS per command.
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 30.0
# Error texts from mail servers often quote the recipient; last_error and logs must not.
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]@]+@[^\s<>\"'(),;:\[\]]+")


class SenderUnavailable(Exception):
    """Nothing can be sent right now (server down, refused login, unwritable directory).

    The drain stops at the first one instead of spending an attempt of every due message.
    """


class Sender(Protocol):
    """Where messages go. `mail_from` is the From address the drain writes on each message."""

    mail_from: str

    async def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """SMTP with aiosmtplib: one connection per message, STARTTLS required when SMTP_STARTTLS is
    true and not attempted otherwise, login when SMTP_USERNAME is set."""

    def __init__(self, settings: MailSettings, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.mail_from = settings.mail_from
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        try:
            refused, _reply = await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                start_tls=settings.smtp_starttls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPDataError):
            raise  # about this message only: the drain goes on with the next one
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection, TLS, login, sender address, timeouts: every message would fail alike.
            raise SenderUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            # The server took the message for the other recipients: sending it again would
            # repeat it to them, so it counts as sent and the refusal is only logged.
            logger.warning(
                "outbox.recipients_refused",
                message_id=message["Message-ID"],
                refused=len(refused),
                codes=sorted({response.code for response in refused.values()}),
            )


class FileSender:
    """Writes each message as an .eml file, for `make run`: open it in any mail client.

    The file is exactly what SMTP would receive, Bcc header included so a developer sees every
    recipient. Files appear whole (written aside, then renamed).
    """

    def __init__(self, directory: Path, *, mail_from: str = DEFAULT_MAIL_FROM) -> None:
        self.directory = directory
        self.mail_from = mail_from

    async def send(self, message: EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._write, message)
        except OSError as exc:
            raise SenderUnavailable(f"{type(exc).__name__}: {exc.strerror}") from exc

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.directory / name)


def make_sender(settings: MailSettings) -> Sender:
    """The sender MAIL_BACKEND selects."""
    if settings.mail_backend == "smtp":
        return SmtpSender(settings)
    return FileSender(settings.mail_dir, mail_from=settings.mail_from)


def build_message(outbox: OutboxMessage, mail_from: str) -> EmailMessage:
    """The MIME message for an outbox row: UTF-8 headers, text with an optional HTML alternative,
    then attachments. Bcc is a header here; SMTP senders turn it into an envelope recipient and
    strip it."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = outbox.to_address
    if outbox.bcc:
        message["Bcc"] = outbox.bcc
    message["Subject"] = outbox.subject
    message["Date"] = format_datetime(outbox.created_at)
    domain = message["From"].addresses[0].domain
    message["Message-ID"] = f"<outbox.{outbox.id}.{outbox.created_at:%Y%m%d%H%M%S%f}@{domain}>"
    # RFC 3834: tells out-of-office responders not to answer a no-reply address.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(outbox.body_text)
    if outbox.body_html is not None:
        message.add_alternative(outbox.body_html, subtype="html")
    for attachment in outbox.attachments:
        maintype, _slash, subtype = attachment["content_type"].partition("/")
        message.add_attachment(
            base64.b64decode(attachment["content_base64"]),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    # Last: setting the content replaces, and adding parts moves, the Content-* headers.
    message["Content-Language"] = outbox.language
    return message


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    factor: int = 2 ** min(attempts - 1, 10)  # bounded: large counts would overflow timedelta
    return min(RETRY_BASE * factor, RETRY_CAP)


def describe_error(exc: BaseException) -> str:
    """A short, one-line error text with e-mail addresses blanked, fit for last_error and logs."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return _ADDRESS.sub("<address>", text)[:200]


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retried

    def __add__(self, other: DrainResult) -> DrainResult:
        return DrainResult(
            sent=self.sent + other.sent,
            failed=self.failed + other.failed,
            retried=self.retried + other.retried,
        )


@dataclass(frozen=True)
class _Claim:
    """What the claim returns: plain columns only, so a row that fails to decrypt is still
    claimed and runs out of attempts like any failing message, instead of blocking the outbox."""

    id: int
    attempts: int


def _claim(engine: Engine, now: datetime) -> _Claim | None:
    """Take the oldest due message and lease it, in one statement and one short transaction."""
    due = (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(1)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL; SQLite locks the whole file
    )
    claim = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(due))
        .values(attempts=col(OutboxMessage.attempts) + 1, next_attempt_at=now + CLAIM_LEASE)
        .returning(col(OutboxMessage.id), col(OutboxMessage.attempts))
    )
    with Session(engine) as session:
        row = session.execute(claim).one_or_none()
        session.commit()
    return None if row is None else _Claim(id=row.id, attempts=row.attempts)


def _load(engine: Engine, claimed: _Claim) -> OutboxMessage:
    """The claimed row in full, decrypted; raises (and so fails this attempt) if it cannot be."""
    with Session(engine, expire_on_commit=False) as session:
        return session.scalars(
            select(OutboxMessage).where(col(OutboxMessage.id) == claimed.id)
        ).one()


def _record(engine: Engine, claimed: _Claim, **values: Any) -> None:
    """Store the outcome, unless the lease ran out and another worker claimed the message since."""
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claimed.id,
                col(OutboxMessage.attempts) == claimed.attempts,
                col(OutboxMessage.status) == OutboxStatus.pending,
            )
            .values(**values)
        )
        session.commit()


async def drain(
    engine: Engine,
    sender: Sender,
    *,
    batch: int = DEFAULT_BATCH,
    now: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DrainResult:
    """Send up to `batch` due messages; each is marked sent, retried later or, after
    `max_attempts`, failed (kept with its last error for staff to look into, never deleted).

    `now` fixes the clock for tests. Database calls run in a thread, so a drain inside the app's
    event loop does not stall requests. Stops early when the sender is unavailable.
    """
    sent = failed = retried = 0
    for _ in range(batch):
        claimed = await asyncio.to_thread(_claim, engine, now or utcnow())
        if claimed is None:
            break
        log = logger.bind(outbox_id=claimed.id, attempt=claimed.attempts)
        try:
            message = await asyncio.to_thread(_load, engine, claimed)
            log = log.bind(kind=message.kind)
            await sender.send(build_message(message, sender.mail_from))
        except Exception as exc:
            error = describe_error(exc)
            if claimed.attempts >= max_attempts:
                values: dict[str, Any] = {"status": OutboxStatus.failed, "last_error": error}
                failed += 1
                log.error("outbox.failed", error=error)
            else:
                retry_at = (now or utcnow()) + retry_delay(claimed.attempts)
                values = {"next_attempt_at": retry_at, "last_error": error}
                retried += 1
                log.warning("outbox.retry", error=error, next_attempt_at=retry_at.isoformat())
            await asyncio.to_thread(_record, engine, claimed, **values)
            if isinstance(exc, SenderUnavailable):
                break
        else:
            values = {"status": OutboxStatus.sent, "sent_at": now or utcnow(), "last_error": None}
            await asyncio.to_thread(_record, engine, claimed, **values)
            sent += 1
            log.info("outbox.sent")
    return DrainResult(sent=sent, failed=failed, retried=retried)
