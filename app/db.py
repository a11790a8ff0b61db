"""Engine, sessions, column types and key-based paging shared by every domain."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Connection, DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import InvalidatePoolError, OperationalError
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

# Every constraint gets a predictable name, so migrations can drop and alter them on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines: naive values are refused on the way in.

    SQLite has no time zone type and drops tzinfo, so values are stored as naive UTC there
    and given tzinfo=UTC again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# How long a SQLite connection waits for a lock before "database is locked" (milliseconds).
# Writers queue for the single write lock; a burst of a few hundred short write transactions
# drains well within it.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take over BEGIN ourselves
    # (SQLAlchemy's documented recipe, "Serializable isolation / Savepoints").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# --- How a SQLite transaction takes the write lock ----------------------------------------------
#
# SQLite has one writer at a time. A plain (deferred) BEGIN reads from a snapshot and asks for
# the write lock only at its first write. In WAL mode that request cannot wait: if another
# connection has committed since the snapshot was taken, SQLite answers SQLITE_BUSY ("database
# is locked") at once, whatever busy_timeout says, because the transaction has read data that
# is no longer current. Under concurrent writes, most such transactions fail.
#
# The execution option SQLITE_BEGIN ("sqlite_begin") chooses per connection:
#   "deferred"        plain BEGIN, SQLite's own behaviour (the default: scripts, jobs, tests);
#   "immediate"       BEGIN IMMEDIATE: the write lock up front, waiting up to busy_timeout for
#                     it, so the transaction's reads and writes stay one serialisable unit.
#                     For requests that change data (POST, PUT, PATCH, DELETE);
#   "on_first_write"  plain BEGIN, so that reads run beside the writer; just before the first
#                     write (or savepoint) the read-only transaction is ended (nothing was written
#                     in it) and BEGIN IMMEDIATE waits for the write lock. The write then does not
#                     rest on the earlier reads' snapshot. For GET requests, whose writes (the
#                     audit row of a read, a session's last-seen time) are records of the request,
#                     not decisions made from what it read.
# A global BEGIN IMMEDIATE would make every page view wait for every writer.
#
# Within a process, the write lock is also a threading.Lock per database file, taken before
# BEGIN IMMEDIATE and given back when the transaction ends. Threads then wait their turn on it
# and are woken as soon as it is free, instead of each polling the file lock in SQLite's busy
# handler, which sleeps up to 100 ms between tries. Only one thread per process at a time
# waits on the file lock (for the other processes' writers).
#
# PostgreSQL ignores the option: its row locks let writers work side by side.

SQLITE_BEGIN = "sqlite_begin"
SqliteBegin = Literal["deferred", "immediate", "on_first_write"]
_UPGRADE_PENDING = "sqlite_upgrade_pending"  # in the DBAPI connection's info
_WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP")
_WRITER_LOCKS: dict[str, threading.Lock] = {}


class _SqliteConnection(sqlite3.Connection):
    """pysqlite's connection, holding its process's writer lock from BEGIN IMMEDIATE until
    the transaction ends (commit, rollback or close)."""

    writer_lock: threading.Lock | None = None
    holds_writer_lock = False

    def begin_immediate(self) -> None:
        lock = self.writer_lock
        if lock is not None and not self.holds_writer_lock:
            if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise sqlite3.OperationalError("database is locked")
            self.holds_writer_lock = True
        try:
            self.execute("BEGIN IMMEDIATE")  # the file lock: other processes' writers
        except BaseException:
            self.release_writer_lock()
            raise

    def release_writer_lock(self) -> None:
        if self.holds_writer_lock and self.writer_lock is not None:
            self.holds_writer_lock = False
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_lock()


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "deferred")
    if mode == "immediate":
        dbapi_connection: Any = conn.connection.dbapi_connection  # a _SqliteConnection
        try:
            dbapi_connection.begin_immediate()
        except sqlite3.Error as error:  # as SQLAlchemy wraps it everywhere else: a 503 page
            raise OperationalError("BEGIN IMMEDIATE", None, error) from error
    else:
        conn.exec_driver_sql("BEGIN")
    conn.info[_UPGRADE_PENDING] = mode == "on_first_write"


def _sqlite_end(conn: Connection) -> None:
    conn.info[_UPGRADE_PENDING] = False


def _sqlite_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_UPGRADE_PENDING] = False


def _sqlite_before_write(
    conn: Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    """In an "on_first_write" transaction, trade the read snapshot for the write lock before
    the first write, below SQLAlchemy (which still sees one transaction)."""
    if not conn.info.get(_UPGRADE_PENDING):
        return
    if not statement.lstrip()[:9].upper().startswith(_WRITE_STATEMENTS):
        return  # (a write inside WITH … is left to SQLite's own upgrade)
    conn.info[_UPGRADE_PENDING] = False
    dbapi_connection = cursor.connection
    if dbapi_connection.in_transaction:
        dbapi_connection.execute("COMMIT")  # read-only so far: nothing is committed
        dbapi_connection.begin_immediate()  # waits up to busy_timeout


_SQLITE_VARIANTS: weakref.WeakKeyDictionary[Engine, dict[str, Engine]] = weakref.WeakKeyDictionary()


def with_sqlite_begin(engine: Engine, mode: SqliteBegin) -> Engine:
    """`engine` whose SQLite transactions begin in `mode`; `engine` itself on PostgreSQL."""
    if engine.dialect.name != "sqlite" or mode == "deferred":
        return engine
    variants = _SQLITE_VARIANTS.setdefault(engine, {})
    if mode not in variants:
        variants[mode] = engine.execution_options(**{SQLITE_BEGIN: mode})
    return variants[mode]


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> Engine:
    """Create the engine for `url`: SQLite with pragmas, or PostgreSQL (psycopg 3) with a pool."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        writer_lock: threading.Lock | None = None
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            writer_lock = _WRITER_LOCKS.setdefault(os.path.realpath(database), threading.Lock())
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "factory": _SqliteConnection,
            },
            **({"pool_size": pool_size, "max_overflow": max_overflow} if writer_lock else {}),
        )

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, record)
            dbapi_connection.writer_lock = writer_lock

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        event.listen(engine, "before_cursor_execute", _sqlite_before_write)
        event.listen(engine.pool, "checkin", _sqlite_checkin)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = str(parsed.set(drivername="postgresql+psycopg"))
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
    )
    event.listen(engine, "connect", _note_use)
    event.listen(engine, "checkin", _note_use)
    event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
    return engine


# --- Checking pooled connections -----------------------------------------------------------------
#
# SQLAlchemy's pool_pre_ping runs a query on every checkout: one more round trip on every
# request (a tenth of a millisecond of CPU on each side, and the latency). A connection given
# back to the pool moments ago is all but certainly alive, so it is checked only after it has
# sat unused for PING_IF_IDLE_S: that covers the usual causes (a restarted or failed-over server,
# a firewall's idle timeout) as pre-ping does. If the server goes away within those seconds, the
# request that finds out fails (a 503 page) and SQLAlchemy invalidates the pool's connections, so
# the next requests reconnect.
PING_IF_IDLE_S = 5.0
_USED_AT = "used_at"  # in the connection record's info, which lives as long as the connection


def _note_use(_dbapi_connection: Any, record: Any) -> None:
    record.info[_USED_AT] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Any:
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get(_USED_AT)
        if used_at is not None and time.monotonic() - used_at < PING_IF_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # As pre-ping does: the pool retries with a new connection, and drops the
                # connections made before this one (the server went away under all of them).
                raise InvalidatePoolError() from error
            raise

    return checkout


def session_scope(engine: Engine, *, begin: SqliteBegin = "deferred") -> Iterator[Session]:
    """One session per request; the router commits, anything uncommitted is rolled back.
    `begin`: how its SQLite transactions take the write lock (see SQLITE_BEGIN)."""
    with Session(with_sqlite_begin(engine, begin), expire_on_commit=False) as session:
        yield session


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list paged by key: `after` of the next page, or None on the last page."""

    items: Sequence[T]
    next_after: Any | None


def page_by_key(
    session: Session, statement: Select[Any], *, key: Any, after: Any | None, limit: int
) -> Page[Any]:
    """Page `statement` by the unique, indexed column `key` (ascending), never by OFFSET."""
    if after is not None:
        statement = statement.where(key > after)
    rows = list(session.scalars(statement.order_by(key).limit(limit + 1)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_after = getattr(rows[-1], key.key) if has_more and rows else None
    return Page(items=rows, next_after=next_after)
