"""The outbox table: e-mail waiting to be sent, written in the transaction of the change it reports."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString, keyring
from app.db import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value encrypted as a whole, for attachments: a decision PDF names the people in it."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:  # noqa: ARG002
        if value is None:
            return None
        return json.loads(keyring().decrypt(str(value)))


class OutboxMessage(SQLModel, table=True):
    """One e-mail to one recipient (plus an optional BCC), in the recipient's language.

    Addresses, subject, bodies and attachments are personal data (names, activation links,
    decisions), so they are encrypted at rest; status, kind and times stay readable for
    operations. `attempts` counts claims by a drain, so a message that crashes its sender still
    runs out of attempts instead of looping. `last_error` is redacted of e-mail addresses.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        # The drain's query: due pending messages, oldest first.
        sa.Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(max_length=100)
    language: str = Field(max_length=2)
    to_address: str = Field(sa_type=EncryptedString)
    bcc: str | None = Field(default=None, sa_type=EncryptedString)
    subject: str = Field(sa_type=EncryptedString)
    body_text: str = Field(sa_type=EncryptedString)
    body_html: str | None = Field(default=None, sa_type=EncryptedString)
    # [{"filename", "content_type", "content_base64"}]: small files only (see service.py).
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_type=EncryptedJSON)
    status: str = Field(default=OutboxStatus.pending, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)


class EmailTemplate(SQLModel, table=True):
    """An e-mail text edited by a staff admin, used instead of the file templates
    (templates/email/<kind>/) for one kind of e-mail in one language.

    The three parts are Jinja2 source, rendered in a sandbox (email_templates.py). Deleting the
    row returns the kind to its file templates. One row per (kind, language), enforced here.
    """

    __tablename__ = "email_template"
    __table_args__ = (
        sa.UniqueConstraint("kind", "language"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=100)
    language: str = Field(max_length=2)
    subject: str = Field(max_length=1000)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
