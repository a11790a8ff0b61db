"""The audit log: written in the caller's transaction, with the request id, and append-only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.audit import AuditEvent, Outcome, record
from app.db import make_engine
from app.pages.models import AccessibilityFeedback
from app.security import Actor

HANDLER = Actor(
    kind="staff",
    user_id="u-1",
    provider="https://staff.example",
    roles=frozenset({"handler", "admin"}),
)


def test_record_joins_the_callers_transaction(settings: object, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            event = record(
                session, actor=HANDLER, action="test.rollback", target_type="test", target_id=1
            )
            session.flush()
            assert event.id is not None
            session.rollback()
        with Session(engine) as session:
            assert (
                session.exec(select(AuditEvent).where(AuditEvent.action == "test.rollback")).all()
                == []
            )
    finally:
        engine.dispose()


def test_record_keeps_actor_and_field_names_only(db: Session) -> None:
    event = record(
        db,
        actor=HANDLER,
        action="application.read",
        target_type="application",
        target_id=42,
        outcome=Outcome.denied,
        fields=["hetu", "iban", "hetu"],
    )
    db.flush()
    assert event.actor_roles == "admin,handler"
    assert event.fields == "hetu,iban"
    assert event.outcome == "denied"
    assert event.target_id == "42"


def test_a_write_through_the_app_leaves_its_audit_row_with_the_request_id(
    client: TestClient, csrf: Callable[[], str], db: Session
) -> None:
    response = client.post(
        "/accessibility/feedback",
        data={
            "message": "Kontrasti on heikko",
            "email": "maija@example.com",
            "wants_reply": "true",
            "csrf_token": csrf(),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    feedback = db.exec(
        select(AccessibilityFeedback).order_by(col(AccessibilityFeedback.id).desc())
    ).first()
    assert feedback is not None
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.target_type == "accessibility_feedback",
            AuditEvent.target_id == str(feedback.id),
        )
    ).one()
    assert event.action == "accessibility_feedback.create"
    assert event.request_id == response.headers["x-request-id"]
    assert event.fields == "email,message"
    assert "maija" not in (event.fields or "")


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"]
)
def test_audit_rows_cannot_be_changed_or_deleted(db: Session, statement: str) -> None:
    record(db, actor=HANDLER, action="test.immutable", target_type="test")
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))


def test_the_orm_cannot_change_or_delete_an_audit_row_through_the_apps_engine(
    db: Session, app: object
) -> None:
    """The `db` fixture's session runs on the app's own engine (app.state.engine), the role
    the application connects as."""
    assert db.get_bind().engine is app.state.engine  # type: ignore[attr-defined]
    event = record(db, actor=HANDLER, action="test.orm_immutable", target_type="test", target_id=7)
    db.flush()
    nested = db.begin_nested()
    event.action = "test.changed"
    with pytest.raises(DBAPIError, match="append-only"):
        db.flush()
    nested.rollback()
    db.expire_all()
    row = db.get(AuditEvent, event.id)
    nested = db.begin_nested()
    db.delete(row)
    with pytest.raises(DBAPIError, match="append-only"):
        db.flush()
    nested.rollback()
    db.expire_all()
    kept = db.get(AuditEvent, event.id)
    assert kept is not None
    assert kept.action == "test.orm_immutable"


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(db: Session) -> None:
    """Row triggers do not fire on TRUNCATE; a statement trigger refuses it (d5e3f7a9b2c4)."""
    record(db, actor=HANDLER, action="test.truncate", target_type="test")
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("TRUNCATE audit_event"))
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "test.truncate")).all()


@pytest.mark.parametrize(
    ("statement", "verb"),
    [
        ("UPDATE audit_event SET action = 'x' WHERE id = :id", "update"),
        ("DELETE FROM audit_event WHERE id = :id", "delete"),
    ],
)
def test_a_committed_audit_row_cannot_be_changed_or_deleted(
    db: Session, statement: str, verb: str
) -> None:
    """A row committed by a request (a savepoint released inside the test's transaction) is as
    immutable as one still being written; the refusal names the table either way."""
    event = record(db, actor=HANDLER, action=f"test.committed_{verb}", target_type="test")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement), {"id": event.id})
    assert db.get(AuditEvent, event.id) is not None
