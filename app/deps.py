"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.db import SqliteBegin, with_sqlite_begin

# Methods whose requests only read, apart from records of the request itself (an audit row of
# a read, a session's last-seen time).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


F = TypeVar("F", bound=Callable[..., Any])


def lock_at_first_write(endpoint: F) -> F:
    """For a route that changes data but has a slow step that needs no lock (a query to an
    outside register) between its checks and its writes, and whose checks the database's
    constraints back up (a unique index): on SQLite its transactions take the write lock only
    at their first write, as a reading request's do, instead of holding it through that step
    and making every other writer wait. PostgreSQL is not affected."""
    endpoint.__sqlite_begin__ = "on_first_write"  # type: ignore[attr-defined]
    return endpoint


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session; anything uncommitted is rolled back at the end.

    On SQLite, a request that changes data takes the write lock when its transaction begins,
    and a reading request only just before it writes (app.db, SQLITE_BEGIN), so concurrent
    writers wait for each other instead of failing.

    A coroutine, so that FastAPI does not hand it to its thread pool twice per request (to open
    and to close): making a session does not touch the database. Closing one that still has a
    transaction does (the rollback), so that runs in the thread pool.
    """
    begin: SqliteBegin = getattr(
        request.scope.get("endpoint"),
        "__sqlite_begin__",
        "on_first_write" if request.method in READ_METHODS else "immediate",
    )
    session = Session(with_sqlite_begin(request.app.state.engine, begin), expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
