"""Helsinki-lisä handlers' use cases: the queue with its tabs and search, the application as a
whole, taking it into handling and taking it over, asking for more information, locking it
again, cancelling, the decision and returning it to handling, the "checked" marks and field
edits (helsinkilisa.md §1.6, §5.3; issue #5 §4, §5, §8; H24–H31, H47–H49, H66).

Session first, keyword arguments; never commits. Status changes go through events.move (the
transition table, a conditional update: of two staff acting at once exactly one wins and the
other gets 409).

One handler at a time (H29): taking a received application assigns the handler; after that,
only the assigned handler changes the application or acts on it (edits, marks, messages to the
applicant, the calculation, requesting information, locking, cancelling). Another handler must
take it over first, explicitly, which reassigns it. The decision and returning a decision to
handling belong to the decider role and are not bound to the handler.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col, select

from app import audit, i18n
from app.auth.models import User
from app.companies import service as companies
from app.companies.models import Company
from app.companies.ytj import CompanyRegister, RegisterUnavailable
from app.db import utcnow
from app.errors import AppError, Conflict, InvalidTransition, NotFound, ValidationFailed
from app.i18n import N_
from app.security import Actor
from app.subsidies import calculation as calculations
from app.subsidies import decision_document, events, messages, service
from app.subsidies.models import (
    Application,
    ApplicationStatus,
    Attachment,
    Calculation,
    Decision,
    DeMinimisAid,
    FieldChange,
    Message,
    MessageKind,
    Origin,
    PreviousBenefit,
    ReviewMark,
    ReviewSection,
    StatusEvent,
)
from app.subsidies.schemas import StepIn, SubmitIn
from app.subsidies.staff_schemas import (
    CalculationIn,
    CancelIn,
    DecisionIn,
    InformationRequestIn,
    MessageIn,
    PaperStartIn,
    PreviousBenefitIn,
    ReturnIn,
    ReviewMarkIn,
)
from app.subsidies.transitions import DECIDING, HANDLING, STAFF_VISIBLE, TRANSITIONS
from app.templating import format_day
from app.types import mask_hetu, normalize_business_id, normalize_hetu

S = ApplicationStatus

# How long the applicant has to answer a request for more information (H26).
INFORMATION_DAYS = 7
MAX_PAGE = 500
# A tab's count is exact up to this many applications; above it the tab shows "1000+".
COUNT_CAP = 1000

# Re-exported for the pages: one normalisation of names for the indexes and the search.
normalise_name = service.normalise_name


class Tab(StrEnum):
    received = "received"
    handling = "handling"
    information = "information"
    decided = "decided"
    cancelled = "cancelled"
    all = "all"  # every sent application: where a search looks by default


TAB_STATUSES: dict[Tab, tuple[ApplicationStatus, ...]] = {
    Tab.received: (S.received,),
    Tab.handling: (S.handling,),
    Tab.information: (S.additional_information_needed,),
    Tab.decided: (S.accepted, S.rejected),
    Tab.cancelled: (S.cancelled,),
    Tab.all: tuple(s for s in S if s in STAFF_VISIBLE),
}
COUNTED_TABS = (Tab.received, Tab.handling, Tab.information, Tab.decided, Tab.cancelled)


class Sort(StrEnum):
    """Sortable columns. Employee names are encrypted, so the database cannot order by them.
    Every order ends with the id, which makes key paging exact."""

    received = "received"
    number = "number"
    company = "company"
    status = "status"


_TABLE: sa.Table = Application.__table__  # type: ignore[attr-defined]
_COMPANY: sa.Table = Company.__table__  # type: ignore[attr-defined]
SORT_COLUMNS: dict[Sort, sa.Column[Any]] = {
    Sort.received: _TABLE.c.submitted_at,
    Sort.number: _TABLE.c.application_number,
    Sort.company: _TABLE.c.company_name,
    Sort.status: _TABLE.c.status,
}
# Waiting work oldest first (first come, first served); closed ones newest first.
DEFAULT_SORT: dict[Tab, tuple[Sort, bool]] = {
    Tab.received: (Sort.received, False),
    Tab.handling: (Sort.received, False),
    Tab.information: (Sort.received, False),
    Tab.decided: (Sort.received, True),
    Tab.cancelled: (Sort.received, True),
    Tab.all: (Sort.received, True),
}


# --- Errors ------------------------------------------------------------------------------------


class BadCursor(AppError):
    status_code = 400
    code = "bad_cursor"
    message = N_("The page link is not valid. Open the list again from the start.")


class NotInHandling(Conflict):
    code = "subsidy_not_in_handling"
    message = N_("Take the application into handling first.")


class HandledByOther(Conflict):
    code = "subsidy_handled_by_other"
    message = N_(
        "Another handler is handling this application. Take it over first if you need to "
        "change it or act on it."
    )


class AlreadyYours(Conflict):
    code = "subsidy_already_yours"
    message = N_("You are already handling this application.")


class DecisionConflict(Conflict):
    code = "subsidy_decision_conflict"
    message = N_(
        "Someone else decided or changed this application at the same time. Open the "
        "application again to see its current state."
    )


# --- Loading -----------------------------------------------------------------------------------


def staff_scope() -> Any:
    """What staff may open: every sent application, and the paper applications staff are
    entering (H31); employers' drafts are theirs alone."""
    return select(Application).where(
        sa.or_(
            col(Application.status) != S.draft,
            col(Application.origin) == Origin.handler,
        )
    )


def get(session: Session, *, application_id: int) -> Application:
    found: Application | None = session.exec(
        staff_scope().where(Application.id == application_id)
    ).first()
    if found is None:
        raise NotFound()
    return found


def user_id(actor: Actor) -> int | None:
    return events.actor_user_id(actor)


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {
        row_id: name or "—"
        for row_id, name in session.exec(
            select(User.id, User.name).where(col(User.id).in_(wanted))
        ).all()
        if row_id is not None
    }


# --- Search (H66) --------------------------------------------------------------------------------


class SearchKind(StrEnum):
    number = "number"
    business_id = "business_id"
    hetu = "hetu"
    text = "text"  # company name (contains), employee's full name or last name (exact)


@dataclass(frozen=True)
class Search:
    kind: SearchKind
    value: str


_BUSINESS_ID = re.compile(r"^\d{6,7}-\d$")


def classify(text: str | None) -> Search | None:
    """What a search box's text is: an identity code (exact, through the blind index), a
    business id, an application number, or words (a company name or an employee's name)."""
    if text is None:
        return None
    value = " ".join(text.split())
    if not value:
        return None
    try:
        return Search(SearchKind.hetu, normalize_hetu(value))
    except (PydanticCustomError, ValueError):
        pass
    if _BUSINESS_ID.match(value):
        try:
            return Search(SearchKind.business_id, normalize_business_id(value))
        except (PydanticCustomError, ValueError):
            return Search(SearchKind.business_id, value)
    if value.isdigit() and len(value) <= 12:
        return Search(SearchKind.number, value)
    return Search(SearchKind.text, value[:200])


def _name_orders(text: str) -> list[str]:
    """ "Aino Virtanen", "Virtanen Aino", "Aino Maria Virtanen" ↔ "Virtanen Aino Maria": the
    name index is of "first last", and people type names both ways."""
    words = normalise_name(text).split(" ")
    orders = {" ".join(words)}
    if len(words) > 1:
        orders.add(" ".join([*words[1:], words[0]]))
        orders.add(" ".join([words[-1], *words[:-1]]))
    return sorted(orders)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(search: Search) -> Any:
    """The WHERE condition of a search, for a query that joins the company (as the queue
    does): a business id is matched on the joined row, so the company's unique index leads and
    its applications come through the company index (an `IN (subquery)` let SQLite walk the
    whole queue index instead)."""
    t = _TABLE
    if search.kind == SearchKind.hetu:
        return t.c.employee_hetu_index == service.hetu_index(search.value)
    if search.kind == SearchKind.business_id:
        return _COMPANY.c.business_id == search.value
    if search.kind == SearchKind.number:
        return t.c.application_number == int(search.value)
    names = [service.name_index(order) for order in _name_orders(search.value)]
    return sa.or_(
        t.c.company_name.ilike(_like_pattern(search.value), escape="\\"),
        t.c.employee_name_index.in_(names),
        t.c.employee_last_name_index == service.last_name_index(search.value),
    )


# --- The queue (H28, H66) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TabCount:
    """Exact up to COUNT_CAP, else "more than COUNT_CAP" (shown as "1000+")."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


@dataclass(frozen=True)
class QueueRow:
    id: int
    application_number: int | None
    status: str
    origin: str
    company_name: str | None
    business_id: str
    submitted_at: datetime | None
    information_deadline: date | None
    handler_id: int | None
    handler_name: str | None
    employee_name: str | None
    hetu_masked: str
    unread: int


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    counts: dict[str, TabCount]
    next_after: str | None
    search: Search | None


_QUEUE_COLUMNS = (
    _TABLE.c.id,
    _TABLE.c.application_number,
    _TABLE.c.status,
    _TABLE.c.origin,
    _TABLE.c.company_name,
    _TABLE.c.submitted_at,
    _TABLE.c.information_deadline,
    _TABLE.c.handler_id,
    _TABLE.c.employee_first_name,
    _TABLE.c.employee_last_name,
    _TABLE.c.employee_hetu,
)


@lru_cache(maxsize=8)
def _counts_statement(cap: int) -> sa.Select[Any]:
    """Each tab's count, stopping at `cap` + 1: the queue index starts with the status, so each
    count reads at most that many index entries."""

    def capped(statuses: Collection[ApplicationStatus]) -> Any:
        matching = (
            sa.select(sa.literal(1))
            .select_from(_TABLE)
            .where(_TABLE.c.status.in_([s.value for s in statuses]))
            .limit(cap + 1)
            .subquery()
        )
        return sa.select(sa.func.count()).select_from(matching).scalar_subquery()

    return sa.select(*(capped(TAB_STATUSES[tab]) for tab in COUNTED_TABS))


def tab_counts(session: Session) -> dict[str, TabCount]:
    found = session.execute(_counts_statement(COUNT_CAP)).one()
    return {
        tab.value: TabCount(COUNT_CAP, capped=True) if n > COUNT_CAP else TabCount(n)
        for tab, n in zip(COUNTED_TABS, found, strict=True)
    }


def _cursor_value(row: Any, sort: Sort) -> Any:
    return {
        Sort.received: row.submitted_at,
        Sort.number: row.application_number,
        Sort.company: row.company_name,
        Sort.status: row.status,
    }[sort]


def _cursor(row: Any, sort: Sort) -> str:
    value = _cursor_value(row, sort)
    shown = value.isoformat() if isinstance(value, datetime) else ("" if value is None else value)
    return f"{row.id}:{shown}"


def _parse_cursor(after: str, sort: Sort) -> tuple[Any, int]:
    """ "<id>:<sort value>": the last row seen."""
    id_text, sep, value = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor()
    if sort is Sort.received:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadCursor() from exc
        if moment.tzinfo is None:
            raise BadCursor()
        return moment, int(id_text)
    if sort is Sort.number:
        if not value.isdigit():
            raise BadCursor()
        return int(value), int(id_text)
    return value, int(id_text)


def _ordered(columns: Any, sort_name: str, *, descending: bool) -> tuple[Any, Any]:
    column, row_id = columns[sort_name], columns["id"]
    return (column.desc(), row_id.desc()) if descending else (column.asc(), row_id.asc())


def _page_statement(
    statuses: Sequence[str],
    conditions: Sequence[Any],
    column: sa.Column[Any],
    *,
    descending: bool,
    limit: int,
    per_status: bool,
) -> sa.Select[Any]:
    """The rows of one page. A tab of several statuses (decided, all) is read as one ordered,
    limited branch per status, merged: each branch walks the queue index (status, submitted_at,
    id) and stops after `limit` rows, where `status IN (...) ORDER BY submitted_at` would sort
    every row of those statuses (most of the table). Only for the order that index serves (by
    received); by number the unique index already gives the order. A search keeps one query:
    its own index (number, identity code, names, business id) finds the few rows first."""

    def rows(where: Any) -> sa.Select[Any]:
        return (
            sa.select(*_QUEUE_COLUMNS, _COMPANY.c.business_id)
            .join(_COMPANY, _COMPANY.c.id == _TABLE.c.company_id)
            .where(where, *conditions)
            .order_by(*_ordered(_TABLE.c, column.name, descending=descending))
            .limit(limit)
        )

    if not per_status or len(statuses) < 2:
        return rows(_TABLE.c.status.in_(statuses))
    branches = [sa.select(rows(_TABLE.c.status == status).subquery()) for status in statuses]
    merged = sa.union_all(*branches).subquery()
    return (
        sa.select(merged)
        .order_by(*_ordered(merged.c, column.name, descending=descending))
        .limit(limit)
    )


def queue(
    session: Session,
    *,
    actor: Actor,
    tab: Tab | None = None,
    q: str | None = None,
    sort: Sort | None = None,
    descending: bool | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Queue:
    """One page of a tab (a search looks in every tab unless one is chosen), with the tabs'
    counts and each row's unread applicant messages. Four queries whatever the page size.

    The list shows employees' names and masked identity codes, so the read is audited: one row
    per page, with the search's kind but never its text (it may be an identity code)."""
    search = classify(q)
    tab = tab or (Tab.all if search else Tab.received)
    default_sort, default_desc = DEFAULT_SORT[tab]
    sort = sort or default_sort
    descending = default_desc if descending is None else descending
    column = SORT_COLUMNS[sort]
    conditions: list[Any] = []
    if search is not None:
        conditions.append(search_condition(search))
    if after is not None:
        value, last_id = _parse_cursor(after, sort)
        seen = sa.tuple_(column, _TABLE.c.id)
        boundary = sa.tuple_(sa.literal(value, type_=column.type), sa.literal(last_id))
        conditions.append(seen < boundary if descending else seen > boundary)
    limit = max(1, min(limit, MAX_PAGE))
    found = session.execute(
        _page_statement(
            [s.value for s in TAB_STATUSES[tab]],
            conditions,
            column,
            descending=descending,
            limit=limit + 1,
            per_status=search is None and sort is Sort.received,
        )
    ).all()
    has_more = len(found) > limit
    found = found[:limit]
    unread = messages.unread_by_staff(session, application_ids=[r.id for r in found])
    handlers = user_names(session, (r.handler_id for r in found))
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.list",
        target_type="subsidy_application",
        fields=["employee_first_name", "employee_last_name", "employee_hetu"],
        detail=f"tab={tab};search={search.kind if search else 'none'};rows={len(found)}",
    )
    rows = [
        QueueRow(
            id=r.id,
            application_number=r.application_number,
            status=r.status,
            origin=r.origin,
            company_name=r.company_name,
            business_id=r.business_id,
            submitted_at=r.submitted_at,
            information_deadline=r.information_deadline,
            handler_id=r.handler_id,
            handler_name=handlers.get(r.handler_id) if r.handler_id else None,
            employee_name=" ".join(p for p in (r.employee_first_name, r.employee_last_name) if p)
            or None,
            hetu_masked=mask_hetu(r.employee_hetu),
            unread=unread.get(r.id, 0),
        )
        for r in found
    ]
    return Queue(
        rows=rows,
        counts=tab_counts(session),
        next_after=_cursor(found[-1], sort) if has_more and found else None,
        search=search,
    )


def paper_drafts(session: Session) -> list[Application]:
    """Paper applications staff have started but not sent (H31), newest change first."""
    return list(
        session.exec(
            select(Application)
            .where(Application.status == S.draft, Application.origin == Origin.handler)
            .order_by(col(Application.updated_at).desc(), col(Application.id).desc())
            .limit(100)
        ).all()
    )


# --- What the actor may do now -------------------------------------------------------------------


class Action(StrEnum):
    take = "take"
    take_over = "take_over"
    edit = "edit"  # fields, files, marks, the calculation, messages to the applicant
    request_information = "request_information"
    lock = "lock"
    cancel = "cancel"
    decide = "decide"
    return_to_handling = "return_to_handling"
    send_paper = "send_paper"


def is_mine(application: Application, actor: Actor) -> bool:
    return application.handler_id is not None and application.handler_id == user_id(actor)


def _can(application: Application, actor: Actor, target: ApplicationStatus) -> bool:
    return TRANSITIONS.allowed(S(application.status), target, actor.roles)


def actions_for(application: Application, actor: Actor) -> list[Action]:
    """The buttons this actor sees; the server checks every one again."""
    status = S(application.status)
    staff = actor.kind == "staff" and not HANDLING.isdisjoint(actor.roles)
    if not staff:
        return []
    mine = is_mine(application, actor)
    found: list[Action] = []
    if status == S.draft:
        if application.origin == Origin.handler and _can(application, actor, S.received):
            found += [Action.edit, Action.send_paper]
        return found
    if status == S.received and _can(application, actor, S.handling):
        found.append(Action.take)
    if status in (S.handling, S.additional_information_needed) and not mine:
        found.append(Action.take_over)
    if mine and status in (S.handling, S.additional_information_needed):
        found.append(Action.edit)
    if mine and _can(application, actor, S.additional_information_needed):
        found.append(Action.request_information)
    if mine and status == S.additional_information_needed and _can(application, actor, S.handling):
        found.append(Action.lock)
    if _can(application, actor, S.cancelled) and (status == S.received or mine):
        found.append(Action.cancel)
    if status == S.handling and not DECIDING.isdisjoint(actor.roles):
        found.append(Action.decide)
    if status in (S.accepted, S.rejected) and _can(application, actor, S.handling):
        found.append(Action.return_to_handling)
    return found


def _role_for(application: Application, target: ApplicationStatus, actor: Actor) -> str:
    """The actor's role that allows this move, or the refusal (409) if none does."""
    for role in sorted(actor.roles):
        if TRANSITIONS.allowed(S(application.status), target, [role]):
            return role
    raise InvalidTransition()


def _require_staff(actor: Actor) -> None:
    if actor.kind != "staff" or HANDLING.isdisjoint(actor.roles):
        raise InvalidTransition()


def claim(session: Session, *, application: Application, actor: Actor) -> None:
    """H29: only the assigned handler acts on an application in handling. The check is a
    conditional update on (status, handler) as this request saw them, so an action cannot slip
    past a take-over made at the same moment (on PostgreSQL it also holds the row until the
    transaction ends). A paper application being entered has no handler yet: any staff."""
    _require_staff(actor)
    if application.status == S.draft and application.origin == Origin.handler:
        return
    if application.handler_id is None:
        raise NotInHandling()
    if application.handler_id != user_id(actor):
        raise HandledByOther()
    result = session.execute(
        sa.update(_TABLE)
        .where(
            _TABLE.c.id == application.id,
            _TABLE.c.status == application.status,
            _TABLE.c.handler_id == application.handler_id,
        )
        .values(updated_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise HandledByOther()


def _move(
    session: Session,
    *,
    application: Application,
    target: ApplicationStatus,
    actor: Actor,
    stamps: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    _require_staff(actor)
    events.move(
        session,
        application=application,
        target=target,
        actor=actor,
        role=_role_for(application, target, actor),
        comment=comment,
        stamps=stamps,
    )


# --- Taking into handling (H29) ----------------------------------------------------------------------


def take(session: Session, *, application: Application, actor: Actor) -> Application:
    """A received application into handling: the actor becomes its handler."""
    _move(
        session,
        application=application,
        target=S.handling,
        actor=actor,
        stamps={"handler_id": user_id(actor), "handling_started_at": utcnow()},
    )
    return application


def take_over(session: Session, *, application: Application, actor: Actor) -> Application:
    """Another handler's application becomes the actor's (explicit, audited). Conditional on
    the handler and status this request saw: of two take-overs at once, one wins."""
    _require_staff(actor)
    if application.status not in (S.handling, S.additional_information_needed):
        raise InvalidTransition()
    me = user_id(actor)
    if application.handler_id == me:
        raise AlreadyYours()
    previous = application.handler_id
    handler_test = (
        _TABLE.c.handler_id.is_(None) if previous is None else _TABLE.c.handler_id == previous
    )
    now = utcnow()
    result = session.execute(
        sa.update(_TABLE)
        .where(_TABLE.c.id == application.id, _TABLE.c.status == application.status, handler_test)
        .values(handler_id=me, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()
    for key, value in (("handler_id", me), ("updated_at", now)):
        sa.orm.attributes.set_committed_value(application, key, value)
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.take_over",
        target_type="subsidy_application",
        target_id=application.id,
        fields=["handler_id"],
        detail=f"previous_handler={previous}",
    )
    return application


# --- More information (H26) -------------------------------------------------------------------------


def information_deadline(today: date | None = None) -> date:
    return (today or service.today()) + timedelta(days=INFORMATION_DAYS)


def request_information(
    session: Session,
    *,
    application: Application,
    data: InformationRequestIn,
    actor: Actor,
    base_url: str,
) -> Message:
    """Open the chosen steps to the applicant until the deadline (+7 days): the handler's
    message lands on the conversation and the contact person gets an e-mail with the deadline
    and the link (not the message). All in the caller's transaction."""
    claim(session, application=application, actor=actor)
    if not application.contact_email:
        raise messages.NoContactEmail()
    deadline = information_deadline()
    steps = list(dict.fromkeys(data.steps))
    _move(
        session,
        application=application,
        target=S.additional_information_needed,
        actor=actor,
        stamps={
            "information_requested_at": utcnow(),
            "information_deadline": deadline,
            "reopened_steps": steps,
        },
    )
    message = messages.post(
        session,
        application=application,
        actor=actor,
        kind=MessageKind.handler_message,
        content=data.message,
        notify=False,
    )
    with i18n.language(application.language if application.language in i18n.LANGUAGES else "fi"):
        shown = format_day(deadline)
    messages.notify_applicant(
        session,
        application=application,
        template="subsidy_information_request",
        context={"deadline": shown},
        base_url=base_url,
    )
    return message


def lock(session: Session, *, application: Application, actor: Actor) -> Application:
    """Back to handling without waiting for the applicant (H26: "Lukitse hakemus")."""
    claim(session, application=application, actor=actor)
    _move(
        session,
        application=application,
        target=S.handling,
        actor=actor,
        stamps={"reopened_steps": None},
    )
    return application


# --- Cancelling (H48) ---------------------------------------------------------------------------------


def cancel(
    session: Session, *, application: Application, data: CancelIn, actor: Actor
) -> Application:
    """Final: the application is archived and deleted after the retention period. A received
    application nobody handles yet may be cancelled by any handler; one in handling only by its
    handler."""
    if application.status != S.received:
        claim(session, application=application, actor=actor)
    _move(
        session,
        application=application,
        target=S.cancelled,
        actor=actor,
        comment=data.reason,
        stamps={"cancelled_at": utcnow(), "cancel_reason": data.reason, "archived": True},
    )
    return application


# --- The decision (issue #5 §8, H47) and returning it (H49) --------------------------------------------


def _problem(field: str, kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": (field,), "msg": kind, "input": None, "ctx": {}}


def decide(
    session: Session,
    *,
    application: Application,
    data: DecisionIn,
    actor: Actor,
    base_url: str,
) -> Application:
    """Accept with the de minimis answer and the current calculation frozen (the amount, rows,
    instalments and the rule values used), or reject with the reason. The decision letter (PDF
    and JSON, decision_document.py) is stored with it; the applicant gets an e-mail that the
    decision is ready. Of two deciders at once exactly one wins: the other's
    conditional update finds the status changed and gets DecisionConflict (409)."""
    if DECIDING.isdisjoint(actor.roles) or actor.kind != "staff":
        raise InvalidTransition()
    target = S(data.decision)
    now = utcnow()
    stamps: dict[str, Any] = {
        "decision": Decision(data.decision).value,
        "decided_at": now,
        "decider_id": user_id(actor),
        "decision_reason": data.reason or None,
    }
    if application.status != S.handling:
        raise DecisionConflict()
    if target == S.accepted:
        if data.granted_as_de_minimis_aid is None:
            raise ValidationFailed(
                [_problem("granted_as_de_minimis_aid", "subsidy_de_minimis_choice")]
            )
        current = calculations.get(session, application=application)
        if current is None or current.result is None or current.total is None:
            raise ValidationFailed([_problem("calculation", "subsidy_calculation_missing")])
        if not calculations.is_current(session, application=application, calculation=current):
            raise ValidationFailed([_problem("calculation", "subsidy_calculation_outdated")])
        stamps |= {
            "granted_as_de_minimis_aid": data.granted_as_de_minimis_aid,
            "granted_amount": current.total,
            "decided_calculation": calculations.frozen(current),
        }
    else:
        if not data.reason:
            raise ValidationFailed([_problem("reason", "subsidy_reason_required")])
        stamps |= {
            "granted_as_de_minimis_aid": None,
            "granted_amount": None,
            "decided_calculation": None,
        }
    try:
        _move(
            session,
            application=application,
            target=target,
            actor=actor,
            stamps=stamps,
            comment=data.reason or None,
        )
    except InvalidTransition:
        raise
    except Conflict as exc:  # the other decider's update came first
        raise DecisionConflict() from exc
    decision_document.store(session, application=application, actor=actor)
    if application.contact_email:
        messages.notify_applicant(
            session,
            application=application,
            template="subsidy_decision",
            context={},
            base_url=base_url,
        )
    audit.record(
        session,
        actor=actor,
        action=f"subsidy_application.decision.{target}",
        target_type="subsidy_application",
        target_id=application.id,
        fields=list(stamps),
        detail=f"email={'queued' if application.contact_email else 'none'}",
    )
    return application


def return_to_handling(
    session: Session, *, application: Application, data: ReturnIn, actor: Actor
) -> Application:
    """H49: a decision back to handling (deciders): the decision and the frozen amount are
    cleared, the decision letter is superseded; the handler stays."""
    if application.status not in (S.accepted, S.rejected):
        raise InvalidTransition()
    _move(
        session,
        application=application,
        target=S.handling,
        actor=actor,
        comment=data.reason or None,
        stamps={
            "decision": None,
            "decided_at": None,
            "decider_id": None,
            "granted_amount": None,
            "granted_as_de_minimis_aid": None,
            "decided_calculation": None,
        },
    )
    decision_document.supersede(session, application=application, actor=actor)
    return application


# --- Messages, marks and edits -------------------------------------------------------------------------


def post_message(
    session: Session,
    *,
    application: Application,
    data: MessageIn,
    actor: Actor,
    base_url: str,
) -> Message:
    """A note by any handler; a message to the applicant by the application's handler (H29)."""
    kind = MessageKind(data.kind)
    if kind == MessageKind.handler_message and application.status in (
        S.handling,
        S.additional_information_needed,
    ):
        claim(session, application=application, actor=actor)
    return messages.post(
        session,
        application=application,
        actor=actor,
        kind=kind,
        content=data.content,
        base_url=base_url,
    )


def review_marks(session: Session, *, application: Application) -> dict[str, ReviewMark]:
    return {
        mark.section: mark
        for mark in session.exec(
            select(ReviewMark).where(ReviewMark.application_id == application.id)
        ).all()
    }


def set_review_mark(
    session: Session, *, application: Application, data: ReviewMarkIn, actor: Actor
) -> ReviewMark | None:
    """H30: one section checked or unchecked by the application's handler. Setting an existing
    mark again keeps the first; two at once end in one row (the unique constraint)."""
    claim(session, application=application, actor=actor)
    section = ReviewSection(data.section)
    existing = session.exec(
        select(ReviewMark).where(
            ReviewMark.application_id == application.id, ReviewMark.section == section
        )
    ).first()
    result: ReviewMark | None = existing
    if data.checked and existing is None:
        mark = ReviewMark(
            application_id=application.id or 0, section=section, checked_by_id=user_id(actor)
        )
        try:
            with session.begin_nested():
                session.add(mark)
        except sa.exc.IntegrityError:
            mark = session.exec(
                select(ReviewMark).where(
                    ReviewMark.application_id == application.id, ReviewMark.section == section
                )
            ).one()
        result = mark
    elif not data.checked and existing is not None:
        session.delete(existing)
        session.flush()
        result = None
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.review_mark",
        target_type="subsidy_application",
        target_id=application.id,
        detail=f"section={section};checked={data.checked}",
    )
    return result


def edit_step(
    session: Session,
    *,
    application: Application,
    step: str,
    data: StepIn,
    actor: Actor,
    reason: str | None = None,
    partial: bool = False,
) -> Application:
    """A handler's change to a section (the employer's service validates and records each
    changed field with the reason in the change history, H27), by the application's handler.
    `partial` (the API's PATCH) changes only the fields given."""
    claim(session, application=application, actor=actor)
    return service.save_step(
        session,
        application=application,
        step=step,
        data=data,
        actor=actor,
        reason=reason,
        partial=partial,
    )


# --- The application as a whole ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationDetail:
    application: Application
    company: Company | None
    de_minimis: list[DeMinimisAid]
    attachments: list[Attachment]
    messages: list[Message]
    unread_ids: frozenset[int]  # applicant messages no handler had opened before this view
    events: list[StatusEvent]
    changes: list[FieldChange]
    marks: dict[str, ReviewMark]
    names: dict[int, str]  # user id -> name (handler, decider, mark setters)
    actions: list[Action]
    mine: bool
    calculation: calculations.CalculationView


def status_events(session: Session, *, application: Application) -> list[StatusEvent]:
    return list(
        session.exec(
            select(StatusEvent)
            .where(StatusEvent.application_id == application.id)
            .order_by(col(StatusEvent.created_at), col(StatusEvent.id))
        ).all()
    )


def field_changes(session: Session, *, application: Application) -> list[FieldChange]:
    """H27: the fields changed after submission, newest first (values are decrypted here)."""
    return list(
        session.exec(
            select(FieldChange)
            .where(FieldChange.application_id == application.id)
            .order_by(col(FieldChange.created_at).desc(), col(FieldChange.id).desc())
        ).all()
    )


def detail(session: Session, *, application: Application, actor: Actor) -> ApplicationDetail:
    """Everything a handler checks: every field, files, messages and notes, status and change
    history, marks, the calculation and the limits across earlier benefits. The view of the
    employee's data is audited (H72) in the same transaction."""
    conversation = messages.for_staff(session, application=application, actor=actor)
    unread = frozenset(
        m.id or 0
        for m in conversation
        if m.kind == MessageKind.applicant_message and m.seen_by_handler_at is None
    )
    marks = review_marks(session, application=application)
    service.record_read(
        session,
        application=application,
        actor=actor,
        fields=[*service.PERSONAL_FIELDS, "field_changes"],
    )
    names = user_names(
        session,
        [
            application.handler_id,
            application.decider_id,
            *(m.checked_by_id for m in marks.values()),
        ],
    )
    return ApplicationDetail(
        application=application,
        company=service.company_row(session, application),
        de_minimis=service.de_minimis_rows(session, application),
        attachments=service.attachments_of(session, application),
        messages=conversation,
        unread_ids=unread,
        events=status_events(session, application=application),
        changes=field_changes(session, application=application),
        marks=marks,
        names=names,
        actions=actions_for(application, actor),
        mine=is_mine(application, actor),
        calculation=calculations.view(session, application=application),
    )


def require_action(application: Application, actor: Actor, action: Action) -> None:
    """A form page for an action that is not open now is refused (409), with the reason."""
    if action in actions_for(application, actor):
        return
    if action in (Action.edit, Action.request_information, Action.lock) and application.status in (
        S.handling,
        S.additional_information_needed,
    ):
        if application.handler_id is None:
            raise NotInHandling()
        if not is_mine(application, actor):
            raise HandledByOther()
    if action == Action.edit and application.status == S.received:
        raise NotInHandling()
    raise InvalidTransition()


# --- The calculation and earlier benefits (H32–H46) ----------------------------------------------------


def calculate(
    session: Session, *, application: Application, data: CalculationIn, actor: Actor
) -> Calculation:
    """The handler's calculation (calculation.py), by the application's handler."""
    claim(session, application=application, actor=actor)
    if application.status not in (S.handling, S.additional_information_needed):
        raise InvalidTransition()
    return calculations.calculate(session, application=application, data=data, actor=actor)


def add_previous_benefit(
    session: Session, *, application: Application, data: PreviousBenefitIn, actor: Actor
) -> PreviousBenefit:
    claim(session, application=application, actor=actor)
    return calculations.add_previous_benefit(
        session, application=application, data=data, actor=actor
    )


def delete_previous_benefit(
    session: Session, *, application: Application, benefit_id: int, actor: Actor
) -> None:
    claim(session, application=application, actor=actor)
    benefit = calculations.get_previous_benefit(
        session, application=application, benefit_id=benefit_id
    )
    calculations.delete_previous_benefit(
        session, application=application, benefit=benefit, actor=actor
    )


# --- Paper applications (H31) ---------------------------------------------------------------------------


def create_paper_application(
    session: Session,
    *,
    data: PaperStartIn,
    register: CompanyRegister,
    association_forms: Sequence[str],
    actor: Actor,
) -> Application:
    """Find the employer by business id (the local row, refreshed from the trade register, or
    the register's answer), and start a draft with origin=handler and the arrival date. A
    business id the register does not know is refused with a field message."""
    _require_staff(actor)
    if not _can_send_paper(actor):
        raise InvalidTransition()
    business_id = data.business_id
    if companies.get_company(session, business_id=business_id) is None:
        try:
            found = register.fetch(business_id)
        except RegisterUnavailable:
            raise ValidationFailed(
                [_problem("business_id", "subsidy_register_unavailable")]
            ) from None
        if found is None:
            raise ValidationFailed([_problem("business_id", "subsidy_company_not_found")])
        fallback = found.name
    else:
        fallback = ""
    company = companies.ensure_company(
        session,
        business_id=business_id,
        fallback_name=fallback,
        register=register,
        association_forms=association_forms,
        actor=actor,
    )
    application = service.create_draft(
        session, actor=actor, language=data.language, company=company, origin=Origin.handler
    )
    application.paper_application_date = data.paper_application_date
    session.add(application)
    session.flush()
    return application


def _can_send_paper(actor: Actor) -> bool:
    return TRANSITIONS.allowed(S.draft, S.received, actor.roles)


def send_paper(
    session: Session, *, application: Application, data: SubmitIn, actor: Actor
) -> Application:
    """Send a paper application staff entered: every part complete (the scan of the paper
    application among the files), the handler terms confirmed; draft → received with the next
    application number (the employer's submit, service.submit, with the staff rules)."""
    if application.status != S.draft or application.origin != Origin.handler:
        raise InvalidTransition()
    return service.submit(session, application=application, data=data, actor=actor)
