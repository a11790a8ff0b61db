"""Two ways to run the drain: once from the command line or cron, or as a loop in the app's lifespan.

Both are safe to run in any number of processes at once: the drain's claims never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Engine

from app import crypto
from app.config import Settings, get_settings
from app.db import make_engine
from app.logs import get_logger
from app.notifications.config import DEFAULT_MAX_ATTEMPTS, MailSettings
from app.notifications.sender import DEFAULT_BATCH, DrainResult, Sender, drain, make_sender

logger = get_logger(__name__)


async def _drain_due(engine: Engine, sender: Sender, *, max_attempts: int) -> DrainResult:
    """Drain batch after batch until one comes back short: nothing is due, or the sender is down."""
    total = DrainResult()
    while True:
        result = await drain(engine, sender, batch=DEFAULT_BATCH, max_attempts=max_attempts)
        total += result
        if result.handled < DEFAULT_BATCH:
            return total


def run_outbox_once(
    settings: Settings | None = None, mail_settings: MailSettings | None = None
) -> DrainResult:
    """Send every message due now and return the counts: the body of a command-line job.

    Settings come from the environment unless given. Configures field encryption, since the
    outbox's addresses and contents are encrypted.
    """
    settings = settings or get_settings()
    mail_settings = mail_settings or MailSettings()
    crypto.configure(settings)
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        return asyncio.run(
            _drain_due(
                engine, make_sender(mail_settings), max_attempts=mail_settings.mail_max_attempts
            )
        )
    finally:
        engine.dispose()


async def outbox_worker(
    engine: Engine,
    sender: Sender,
    *,
    interval: float = 5.0,
    stop: asyncio.Event,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Drain every `interval` seconds until `stop` is set, for running inside the app's lifespan.

    A failing drain (say, the database restarting) is logged and tried again on the next round:
    the worker must outlive passing trouble, and undrained messages simply wait in the outbox.
    """
    while not stop.is_set():
        try:
            await _drain_due(engine, sender, max_attempts=max_attempts)
        except Exception:
            logger.exception("outbox.drain_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
