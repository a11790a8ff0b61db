"""The database layer: SQLite pragmas, aware UTC datetimes on both engines, paging by key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from app.audit import AuditEvent
from app.db import make_engine, page_by_key

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
