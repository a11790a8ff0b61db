"""Users keyed by (issuer, sub) and server-side sessions; the cookie holds only a random id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.crypto import EncryptedString
from app.db import UTCDateTime, utcnow


class UserKind(StrEnum):
    employer = "employer"
    staff = "staff"


class User(SQLModel, table=True):
    """A person as one identity provider knows them, keyed by (issuer, sub) within each kind:
    staff and employers never share a row, even where one test provider serves both, and the
    same `sub` at another issuer is another user. No personal identity code is stored."""

    __tablename__ = "app_user"
    __table_args__ = (
        sa.UniqueConstraint("kind", "issuer", "subject"),
        sa.CheckConstraint("kind IN ('employer', 'staff')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    name: str | None = Field(default=None, sa_type=EncryptedString)
    email: str | None = Field(default=None, sa_type=EncryptedString)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EndReason(StrEnum):
    logout = "logout"
    rotated = "rotated"
    idle = "idle"
    expired = "expired"
    backchannel = "backchannel"
    admin = "admin"


class UserSession(SQLModel, table=True):
    """One login. Looked up by the SHA-256 of the cookie's random value, so a database leak
    gives no usable cookies."""

    __tablename__ = "user_session"
    __table_args__ = (sa.CheckConstraint("kind IN ('employer', 'staff')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=10)
    roles: str | None = Field(default=None, max_length=255)  # staff roles, comma separated
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=20)
    # The provider's session id (`sid`), for back-channel logout of exactly this login.
    provider_sid: str | None = Field(default=None, max_length=255, index=True)
    # Kept for the provider's end-session call (id_token_hint); holds personal data: encrypted.
    id_token: str | None = Field(default=None, sa_type=EncryptedString)
    # Employer: the organisations the mandate query gave, and the one chosen.
    organisations: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    business_id: str | None = Field(default=None, max_length=9)
    business_name: str | None = Field(default=None, max_length=255)
    # Staff: the city unit they work in (the provider's department claim); TET postings of a unit.
    unit: str | None = Field(default=None, max_length=100)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in (self.roles or "").split(",") if r)
