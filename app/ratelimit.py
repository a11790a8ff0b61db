"""Rate limits on public actions, counted in the database so every worker and instance agrees.

A fixed window per (action, client): the first request of a window inserts the bucket, later
ones increment it in the same statement (INSERT … ON CONFLICT … RETURNING), so parallel requests
cannot both slip under the limit. The client is a keyed hash of its address: no IP is stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from app.crypto import blind_index
from app.db import UTCDateTime, utcnow
from app.deps import SessionDep
from app.errors import AppError
from app.i18n import N_


class RateLimitBucket(SQLModel, table=True):
    __tablename__ = "rate_limit_bucket"
    __table_args__ = (sa.UniqueConstraint("key", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    count: int = 0


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    message = N_("You have sent too many requests. Wait a moment and try again.")

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    action: str
    per_window: int
    window_seconds: int


def hit(session: Session, *, limit: Limit, client: str, now: datetime) -> None:
    """Count one request; raise TooManyRequests (with seconds to wait) past the limit."""
    epoch = now.timestamp()
    start_epoch = epoch - (epoch % limit.window_seconds)
    window_start = datetime.fromtimestamp(start_epoch, tz=now.tzinfo)
    key = blind_index(f"{limit.action}:{client}", purpose="rate_limit")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(RateLimitBucket)
        .values(key=key, window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": col(RateLimitBucket.count) + 1},
        )
        .returning(col(RateLimitBucket.count))
    )
    count = int(session.execute(statement).scalar_one())
    session.commit()  # the count stands even if the request itself fails later
    if count > limit.per_window:
        raise TooManyRequests(
            retry_after=max(1, math.ceil(start_epoch + limit.window_seconds - epoch))
        )


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(action: str) -> Callable[[Request, Session], None]:
    """A dependency counting the request against the configured limit of `action` (RATE_LIMITS)."""

    def dependency(request: Request, db: SessionDep) -> None:
        per_window, window_seconds = request.app.state.settings.rate_limits[action]
        hit(
            db,
            limit=Limit(action, per_window, window_seconds),
            client=client_of(request),
            now=utcnow(),
        )

    return dependency


def limited(action: str) -> Any:
    return Depends(rate_limited(action))
