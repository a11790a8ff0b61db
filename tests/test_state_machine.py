"""Transition tables and the one guarded apply_transition()."""

from __future__ import annotations

from enum import StrEnum
from itertools import product

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Session, select

from app.audit import AuditEvent
from app.errors import Conflict, InvalidTransition, ValidationFailed
from app.security import Actor
from app.state_machine import TransitionTable, apply_transition


class Status(StrEnum):
    draft = "draft"
    received = "received"
    handling = "handling"
    accepted = "accepted"
    rejected = "rejected"


EMPLOYER, HANDLER, DECIDER = "employer", "handler", "decider"
TABLE = TransitionTable[Status](
    {
        (Status.draft, Status.received): frozenset({EMPLOYER}),
        (Status.received, Status.handling): frozenset({HANDLER, DECIDER}),
        (Status.handling, Status.accepted): frozenset({DECIDER}),
        (Status.handling, Status.rejected): frozenset({DECIDER}),
    }
)


class Base(DeclarativeBase):
    metadata = sa.MetaData()  # a table of this test only, never part of the app's metadata


class Thing(Base):
    __tablename__ = "sm_test_thing"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)


@pytest.fixture
def thing(db: Session) -> Thing:
    Base.metadata.create_all(db.connection())  # inside the test's transaction: rolled back
    item = Thing(status=Status.draft)
    db.add(item)
    db.flush()
    return item


def actor(*roles: str) -> Actor:
    return Actor(kind="staff", user_id="u1", roles=frozenset(roles))


@pytest.mark.parametrize(
    ("current", "target", "role"), list(product(Status, Status, [EMPLOYER, HANDLER, DECIDER]))
)
def test_allowed_exactly_when_in_the_table(current: Status, target: Status, role: str) -> None:
    expected = role in TABLE.transitions.get((current, target), frozenset())
    assert TABLE.allowed(current, target, [role]) is expected


def test_derived_sets() -> None:
    assert TABLE.terminal() == {Status.accepted, Status.rejected}
    assert TABLE.actionable_by(DECIDER) == {Status.received, Status.handling}
    assert TABLE.targets(Status.handling, [DECIDER]) == [Status.accepted, Status.rejected]
    assert TABLE.targets(Status.handling, [HANDLER]) == []


def test_every_status_is_reachable_from_draft() -> None:
    reached, frontier = {Status.draft}, [Status.draft]
    while frontier:
        current = frontier.pop()
        for frm, to in TABLE.transitions:
            if frm == current and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(Status)


def test_transition_updates_status_stamps_and_writes_an_audit_row(
    db: Session, thing: Thing
) -> None:
    old, new = apply_transition(
        db,
        obj=thing,
        table=TABLE,
        target=Status.received,
        actor=actor(EMPLOYER),
        role=EMPLOYER,
        target_type="thing",
        stamps={"note": "sent"},
    )
    assert (old, new) == (Status.draft, Status.received)
    assert thing.status == Status.received
    assert thing.note == "sent"
    db.expire_all()
    assert db.get(Thing, thing.id).status == "received"  # type: ignore[union-attr]
    event = db.exec(select(AuditEvent).where(AuditEvent.target_type == "thing")).one()
    assert event.action == "thing.status.received"
    assert event.fields == "note,status"


def test_move_not_in_the_table_is_refused(db: Session, thing: Thing) -> None:
    with pytest.raises(InvalidTransition):
        apply_transition(
            db,
            obj=thing,
            table=TABLE,
            target=Status.accepted,
            actor=actor(DECIDER),
            role=DECIDER,
            target_type="thing",
        )
    assert thing.status == Status.draft


def test_role_the_actor_does_not_hold_is_refused(db: Session, thing: Thing) -> None:
    with pytest.raises(InvalidTransition):
        apply_transition(
            db,
            obj=thing,
            table=TABLE,
            target=Status.received,
            actor=actor(HANDLER),
            role=EMPLOYER,
            target_type="thing",
        )


def test_failing_guard_changes_nothing(db: Session, thing: Thing) -> None:
    def incomplete(_obj: Thing) -> None:
        raise ValidationFailed([{"loc": ("attachments",), "msg": "missing", "type": "missing"}])

    with pytest.raises(ValidationFailed):
        apply_transition(
            db,
            obj=thing,
            table=TABLE,
            target=Status.received,
            actor=actor(EMPLOYER),
            role=EMPLOYER,
            target_type="thing",
            guards=[incomplete],
        )
    db.expire_all()
    assert db.get(Thing, thing.id).status == "draft"  # type: ignore[union-attr]
    assert db.exec(select(AuditEvent).where(AuditEvent.target_type == "thing")).all() == []


def test_of_two_acting_at_once_the_second_gets_a_conflict(db: Session, thing: Thing) -> None:
    # Someone else moved the row after we loaded it: our view of the status is stale.
    db.execute(sa.update(Thing).where(Thing.id == thing.id).values(status="received"))
    with pytest.raises(Conflict):
        apply_transition(
            db,
            obj=thing,
            table=TABLE,
            target=Status.received,
            actor=actor(EMPLOYER),
            role=EMPLOYER,
            target_type="thing",
        )
