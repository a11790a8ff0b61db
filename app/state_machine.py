"""Status machines as data: one transition table per aggregate and one guarded way to move."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from app.audit import record
from app.errors import Conflict, InvalidTransition
from app.security import Actor

S = TypeVar("S", bound=StrEnum)

# Called after a transition's update, in the same transaction, as
# listener(session, target_type, obj, old, new, actor); raising an AppError undoes the move.
# Layers above the programmes (payments) register here: a programme never imports them.
TransitionListener = Callable[[Session, str, Any, StrEnum, StrEnum, Actor], None]
_listeners: list[TransitionListener] = []


def on_transition(listener: TransitionListener) -> TransitionListener:
    """Register `listener` for every transition of every aggregate (usable as a decorator)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


@dataclass(frozen=True)
class TransitionTable(Generic[S]):
    """(from, to) -> the roles that may make that move. Everything else is derived from it."""

    transitions: Mapping[tuple[S, S], frozenset[str]]

    @property
    def statuses(self) -> frozenset[S]:
        return frozenset(s for pair in self.transitions for s in pair)

    def allowed(self, current: S, target: S, roles: Iterable[str]) -> bool:
        allowed_roles = self.transitions.get((current, target))
        return allowed_roles is not None and not allowed_roles.isdisjoint(roles)

    def targets(self, current: S, roles: Iterable[str]) -> list[S]:
        """The moves this actor may make now, in table order (templates show only these)."""
        role_set = set(roles)
        return [
            to for (frm, to), who in self.transitions.items() if frm == current and who & role_set
        ]

    def terminal(self) -> frozenset[S]:
        """Statuses with no way out."""
        sources = {frm for frm, _to in self.transitions}
        return frozenset(s for s in self.statuses if s not in sources)

    def actionable_by(self, role: str) -> frozenset[S]:
        """Statuses from which `role` has some move (e.g. the staff queue, the editable set)."""
        return frozenset(frm for (frm, _to), who in self.transitions.items() if role in who)


def apply_transition(
    session: Session,
    *,
    obj: Any,
    table: TransitionTable[S],
    target: S,
    actor: Actor,
    role: str,
    target_type: str,
    guards: Iterable[Callable[[Any], None]] = (),
    stamps: Mapping[str, Any] | None = None,
    status_attr: str = "status",
) -> tuple[S, S]:
    """Move `obj` to `target` if the table allows `role` to; returns (old, new).

    Guards run before anything changes and raise AppErrors (ValidationFailed for a submit that
    is not complete). The update is conditional on the status the caller saw, so of two staff
    members acting at once exactly one wins and the other gets a Conflict (409).
    """
    current = getattr(obj, status_attr)
    if role not in actor.roles or not table.allowed(current, target, [role]):
        raise InvalidTransition()
    for guard in guards:
        guard(obj)
    mapper = sa.inspect(type(obj))
    (pk_column,) = mapper.primary_key
    status_column = mapper.columns[status_attr]
    values: dict[str, Any] = {status_attr: target, **(stamps or {})}
    result = session.execute(
        sa.update(type(obj))
        .where(pk_column == getattr(obj, pk_column.key), status_column == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()
    for key, value in values.items():
        # Keep the in-memory object in step without marking it dirty a second time.
        sa.orm.attributes.set_committed_value(obj, key, value)
    record(
        session,
        actor=actor,
        action=f"{target_type}.status.{target}",
        target_type=target_type,
        target_id=getattr(obj, pk_column.key),
        fields=[status_attr, *(stamps or {}).keys()],
    )
    for listener in _listeners:
        listener(session, target_type, obj, current, target, actor)
    return current, target
