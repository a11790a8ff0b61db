"""The database layer: SQLite pragmas, aware UTC datetimes on both engines, paging by key."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlmodel import Session, select

from app import db as db_module
from app.audit import AuditEvent
from app.db import SqliteBegin, make_engine, page_by_key, with_sqlite_begin

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_sqlite_has_foreign_keys_on_and_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
            conn.execute(
                text(
                    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
                )
            )
        with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as conn:
            conn.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
    finally:
        engine.dispose()


def _event(when: datetime) -> AuditEvent:
    return AuditEvent(actor_kind="system", action="test.time", target_type="test", occurred_at=when)


def test_datetimes_come_back_aware_utc(db: Session) -> None:
    local = datetime(2026, 6, 15, 12, 30, tzinfo=HELSINKI)  # 09:30 UTC in summer
    event = _event(local)
    db.add(event)
    db.flush()
    db.expire_all()
    loaded = db.get(AuditEvent, event.id)
    assert loaded is not None
    assert loaded.occurred_at.tzinfo is not None
    assert loaded.occurred_at.utcoffset() == timedelta(0)
    assert loaded.occurred_at == datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(db: Session) -> None:
    db.add(_event(datetime(2026, 1, 1, 12, 0)))  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()


def test_comparisons_work_across_time_zones(db: Session) -> None:
    for hour in (8, 10, 12):
        db.add(_event(datetime(2026, 3, 1, hour, tzinfo=UTC)))
    db.flush()
    after = datetime(2026, 3, 1, 11, tzinfo=HELSINKI)  # 09:00 UTC
    rows = db.exec(
        select(AuditEvent).where(AuditEvent.action == "test.time", AuditEvent.occurred_at > after)
    ).all()
    assert sorted(r.occurred_at.hour for r in rows) == [10, 12]


def test_page_by_key_walks_every_row_once(db: Session) -> None:
    for i in range(7):
        db.add(
            AuditEvent(
                actor_kind="system", action="test.page", target_type="test", target_id=str(i)
            )
        )
    db.flush()
    statement = select(AuditEvent).where(AuditEvent.action == "test.page")
    seen: list[str | None] = []
    after = None
    pages = 0
    while True:
        page = page_by_key(db, statement, key=AuditEvent.id, after=after, limit=3)
        seen += [row.target_id for row in page.items]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [str(i) for i in range(7)]
    assert pages == 3


# --- SQLite write locking (app.db, SQLITE_BEGIN) ----------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(text("INSERT INTO item (name) VALUES ('first')"))
    try:
        yield engine
    finally:
        engine.dispose()


def _other_writer_commits(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO item (name) VALUES (:name)"), {"name": name})


def test_sqlite_deferred_transaction_that_read_cannot_write_after_another_commit(
    sqlite_engine: Engine,
) -> None:
    """Why the modes exist: SQLite refuses at once, busy_timeout or not."""
    with sqlite_engine.connect() as conn:
        conn.begin()
        conn.execute(text("SELECT count(*) FROM item")).scalar_one()
        _other_writer_commits(sqlite_engine, "second")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            conn.execute(text("INSERT INTO item (name) VALUES ('third')"))
        assert time.monotonic() - started < 1
        conn.rollback()


def test_sqlite_on_first_write_trades_its_snapshot_for_the_write_lock(
    sqlite_engine: Engine,
) -> None:
    reading = with_sqlite_begin(sqlite_engine, "on_first_write")
    with reading.connect() as conn:
        conn.begin()
        assert conn.execute(text("SELECT count(*) FROM item")).scalar_one() == 1
        _other_writer_commits(sqlite_engine, "second")
        conn.execute(text("INSERT INTO item (name) VALUES ('third')"))
        # After the first write the transaction sees the current data and holds the lock.
        assert conn.execute(text("SELECT count(*) FROM item")).scalar_one() == 3
        conn.commit()
    with sqlite_engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM item ORDER BY id")).scalars().all()
    assert names == ["first", "second", "third"]


def test_sqlite_on_first_write_rolls_back_every_write_of_the_transaction(
    sqlite_engine: Engine,
) -> None:
    reading = with_sqlite_begin(sqlite_engine, "on_first_write")
    with reading.connect() as conn:
        conn.begin()
        conn.execute(text("SELECT count(*) FROM item")).scalar_one()
        conn.execute(text("INSERT INTO item (name) VALUES ('a')"))
        conn.execute(text("INSERT INTO item (name) VALUES ('b')"))
        conn.rollback()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM item")).scalar_one() == 1


def test_sqlite_immediate_takes_the_write_lock_at_begin_and_readers_go_on(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    writing = with_sqlite_begin(sqlite_engine, "immediate")
    reading = with_sqlite_begin(sqlite_engine, "on_first_write")
    # Another process: a connection of its own that waits 0.1 s at most.
    outsider = sqlite3.connect(tmp_path / "locks.db", timeout=0.1, isolation_level=None)
    try:
        with writing.connect() as conn:
            conn.begin()
            conn.execute(text("SELECT 1")).scalar_one()  # nothing written yet
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                outsider.execute("BEGIN IMMEDIATE")
            with reading.connect() as reader:  # a reader does not wait for the writer
                assert reader.execute(text("SELECT count(*) FROM item")).scalar_one() == 1
            conn.rollback()
        outsider.execute("BEGIN IMMEDIATE")  # free again
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_sqlite_writers_of_one_process_take_turns(sqlite_engine: Engine, end: str) -> None:
    """The process's writer lock is given back however the transaction ends, and the next
    writer of the process goes on as soon as it is."""
    writing = with_sqlite_begin(sqlite_engine, "immediate")
    holding = threading.Event()
    release = threading.Event()
    done: list[str] = []

    def first() -> None:
        conn = writing.connect()
        conn.begin()
        conn.execute(text("INSERT INTO item (name) VALUES ('one')"))
        holding.set()
        release.wait(5)
        done.append("first")
        if end == "commit":
            conn.commit()
        elif end == "rollback":
            conn.rollback()
        conn.close()

    def second() -> None:
        holding.wait(5)
        with writing.begin() as conn:  # waits for the first
            done.append("second")
            conn.execute(text("INSERT INTO item (name) VALUES ('two')"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    time.sleep(0.2)
    assert done == []  # the second writer is waiting
    release.set()
    for thread in threads:
        thread.join(10)
    assert done == ["first", "second"]
    with sqlite_engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM item ORDER BY id")).scalars().all()
    assert names == (["first", "one", "two"] if end == "commit" else ["first", "two"])


def test_postgresql_engines_are_not_changed() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    try:
        for mode in ("deferred", "immediate", "on_first_write"):
            assert with_sqlite_begin(engine, mode) is engine
    finally:
        engine.dispose()


@pytest.mark.parametrize("mode", ["immediate", "on_first_write"])
def test_sqlite_a_writer_that_waits_too_long_gets_the_usual_error(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, mode: SqliteBegin
) -> None:
    """SQLAlchemy's OperationalError, which the error pages answer with 503."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 100)
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with with_sqlite_begin(sqlite_engine, "immediate").begin() as conn:
            conn.execute(text("INSERT INTO item (name) VALUES ('held')"))
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        holding.wait(5)

        def read_then_write() -> None:
            with with_sqlite_begin(sqlite_engine, mode).connect() as conn:
                conn.begin()  # "immediate" waits here, "on_first_write" at the INSERT
                conn.execute(text("SELECT 1")).scalar_one()
                conn.execute(text("INSERT INTO item (name) VALUES ('late')"))

        with pytest.raises(OperationalError, match="database is locked"):
            read_then_write()
    finally:
        release.set()
        thread.join(10)
    with with_sqlite_begin(sqlite_engine, mode).begin() as conn:  # free again
        conn.execute(text("INSERT INTO item (name) VALUES ('later')"))


def test_postgresql_pings_only_a_connection_that_sat_unused(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Instead of pre-ping's query on every checkout: a connection back in the pool for less
    than PING_IF_IDLE_S is used as it is; an older one is pinged, and if its server side is
    gone, the pool hands out a new connection instead of failing the request."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool check is PostgreSQL's (SQLite has no server to lose)")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    try:
        with engine.connect() as conn:  # a new connection: not pinged
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # just given back: not pinged
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert pings == []

        monkeypatch.setattr(db_module, "PING_IF_IDLE_S", 0.0)  # as if it had sat for long
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert len(pings) == 1

        admin = make_engine(database_url)
        try:
            with admin.connect() as other:  # the server drops the pooled connection
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
                gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
                for _ in range(100):
                    if other.execute(gone, {"pid": pid}).scalar_one() == 0:
                        break
                    other.commit()
                    time.sleep(0.05)
        finally:
            admin.dispose()
        with engine.connect() as conn:  # the ping finds out; a new connection serves
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        # The dead connection's ping failed, then the new connection's (every checkout is
        # checked while PING_IF_IDLE_S is 0).
        assert len(pings) == 3
        assert pings[1] is pings[0]
        assert pings[2] is not pings[0]
    finally:
        engine.dispose()
