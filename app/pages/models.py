"""Accessibility feedback: the feedback channel the accessibility statement must offer (Act 306/2019)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString
from app.db import UTCDateTime, utcnow


class AccessibilityFeedback(SQLModel, table=True):
    __tablename__ = "accessibility_feedback"
    __table_args__ = (sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    language: str = Field(max_length=2)
    page: str | None = Field(default=None, max_length=500)
    message: str = Field(max_length=4000)
    # Personal data: encrypted at rest, never shown in lists.
    email: str | None = Field(default=None, sa_type=EncryptedString)
    wants_reply: bool = False
