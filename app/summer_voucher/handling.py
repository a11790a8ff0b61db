"""Kesäseteli handler use cases: the youth application queue, the detail with the register
check, accepting, rejecting and the handler-created application for a person without a Finnish
personal identity code (kesaseteli.md §1.4, K26-K31). Session first, keyword arguments; never
commits.

The employer claims that used a youth's voucher (K32), and the handlers' notes and timeline,
are in claim_handling.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import audit
from app.crypto import blind_index
from app.db import utcnow
from app.errors import AppError, InvalidTransition
from app.i18n import N_
from app.security import Actor
from app.state_machine import TransitionTable, apply_transition
from app.summer_voucher import service
from app.summer_voucher import timeline as timeline_events
from app.summer_voucher.models import (
    TARGET_GROUP_AGE,
    TargetGroup,
    Voucher,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.population import (
    _CENTURIES,
    Address,
    Person,
    PopulationRegister,
    RegisterUnavailable,
    age_in_year,
    hetu_birth_date,
    warnings,
)
from app.summer_voucher.serials import format_serial
from app.types import Email, Phone, Postcode

HANDLING_ROLES = frozenset({"handler", "admin"})

# Only the moves a handler makes; the youth's own moves (activation, additional information)
# live in service.py. A non-activated `submitted` application has no handler move (K29), and
# additional_information_requested may only be rejected: the youth has not answered yet (K30).
YOUTH_TRANSITIONS: TransitionTable[YouthStatus] = TransitionTable(
    {
        (YouthStatus.additional_information_provided, YouthStatus.accepted): HANDLING_ROLES,
        (YouthStatus.additional_information_provided, YouthStatus.rejected): HANDLING_ROLES,
        (YouthStatus.awaiting_manual_processing, YouthStatus.accepted): HANDLING_ROLES,
        (YouthStatus.awaiting_manual_processing, YouthStatus.rejected): HANDLING_ROLES,
        (YouthStatus.additional_information_requested, YouthStatus.rejected): HANDLING_ROLES,
    }
)

Tab = Literal["pending", "processed"]

# The statuses each tab lists, and the ones checked when the handler has not chosen (the
# reference handler UI's defaults: what a handler can act on, plus the not yet activated ones).
TAB_STATUSES: dict[str, tuple[YouthStatus, ...]] = {
    "pending": (
        YouthStatus.submitted,
        YouthStatus.additional_information_requested,
        YouthStatus.additional_information_provided,
        YouthStatus.awaiting_manual_processing,
    ),
    "processed": (YouthStatus.accepted, YouthStatus.rejected),
}
DEFAULT_STATUSES: dict[str, tuple[YouthStatus, ...]] = {
    "pending": (
        YouthStatus.submitted,
        YouthStatus.additional_information_provided,
        YouthStatus.awaiting_manual_processing,
    ),
    "processed": (YouthStatus.accepted, YouthStatus.rejected),
}


# The statuses as handlers read them (lists, the detail and the timeline).
STATUS_NAMES: dict[YouthStatus, str] = {
    YouthStatus.submitted: N_("Waiting for e-mail confirmation"),
    YouthStatus.additional_information_requested: N_("Additional information requested"),
    YouthStatus.additional_information_provided: N_("Additional information provided"),
    YouthStatus.awaiting_manual_processing: N_("Waiting for manual processing"),
    YouthStatus.accepted: N_("Accepted"),
    YouthStatus.rejected: N_("Rejected"),
    YouthStatus.expired: N_("Confirmation link expired"),
}


class Sort(StrEnum):
    """Sortable columns. Names are encrypted at rest, so the database cannot order by them and
    sorting one page in Python would misorder the list across pages: name sorting is not
    offered. Every order ends with the id, which makes key paging exact."""

    created = "created"
    status = "status"
    target_group = "target_group"


SORT_COLUMNS: dict[Sort, Any] = {
    Sort.created: YouthApplication.created_at,
    Sort.status: YouthApplication.status,
    Sort.target_group: YouthApplication.target_group,
}
# Pending oldest first (first come, first served); processed newest first.
DEFAULT_SORT: dict[str, tuple[Sort, bool]] = {
    "pending": (Sort.created, False),
    "processed": (Sort.created, True),
}
MAX_PAGE = 1000
# A tab's count is exact up to this many applications; above it the tab shows "1000+".
COUNT_CAP = 1000


class BadCursor(AppError):
    status_code = 400
    code = "bad_cursor"
    message = N_("The page link is not valid. Open the list again from the start.")


class EmailTaken(AppError):
    status_code = 409
    code = "email_taken"
    message = N_("This year's application with this e-mail address already exists.")


class QueueApplication(NamedTuple):
    """The columns a queue row shows. The list reads only these, so each row costs three
    decryptions (names and identity code), not one per encrypted column of the application.
    A named tuple, as QueueRow: a page makes two per row, and a frozen dataclass costs four
    times as much to make."""

    id: int
    created_at: datetime
    year: int
    first_name: str
    last_name: str
    hetu: str | None
    non_vtj_birthdate: date | None
    target_group: str
    status: str


class QueueRow(NamedTuple):
    application: QueueApplication
    serial: str | None  # as people see it (serials.format_serial)
    age: int | None
    birth_year: int | None


@dataclass(frozen=True)
class TabCount:
    """How many applications a tab holds: exact up to COUNT_CAP, else "more than COUNT_CAP"
    (shown as "1000+"). Counting every row of a large tab on each page view would cost more
    than the page itself."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    counts: dict[str, TabCount]
    next_after: str | None  # the cursor of the next page, None on the last page


def birth_date_of(application: YouthApplication) -> date | None:
    """From the personal identity code, else the birth date the handler typed (K31)."""
    if application.hetu:
        return hetu_birth_date(application.hetu)
    return application.non_vtj_birthdate


def _cursor(row: QueueApplication, sort: Sort) -> str:
    value = getattr(row, SORT_COLUMNS[sort].key)
    shown = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{row.id}:{shown}"


def _parse_cursor(after: str, sort: Sort) -> tuple[Any, int]:
    """The cursor names the last row seen by id and sort value, so the next page needs no
    extra query to find where it starts."""
    id_text, sep, value = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor()
    if sort is Sort.created:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadCursor() from exc
        if moment.tzinfo is None:
            raise BadCursor()
        return moment, int(id_text)
    return value, int(id_text)


# A stored identity code is normalised when it is saved: DDMMYY, the century sign, the individual
# number and the check character.
_STORED_HETU = re.compile(r"^(\d\d)(\d\d)(\d\d)([-+A-FU-Y])\d{3}[0-9A-Y]$")


def _queue_birth_date(row: QueueApplication) -> date | None:
    """birth_date_of for a queue row: a stored code is read without checking it again (the
    check costs more than the rest of the row); anything unexpected goes the checked way."""
    if row.hetu:
        match = _STORED_HETU.match(row.hetu)
        if match:
            day, month, year, century = match.groups()
            try:
                return date(_CENTURIES[century] + int(year), int(month), int(day))
            except ValueError:
                pass
        return hetu_birth_date(row.hetu)
    return row.non_vtj_birthdate


# The list reads plain rows through the Core tables: no ORM objects are built for it.
_APPLICATIONS: sa.Table = YouthApplication.__table__  # type: ignore[attr-defined]
_VOUCHERS: sa.Table = Voucher.__table__  # type: ignore[attr-defined]


def _capped_count(statuses: Collection[YouthStatus], cap: int) -> Any:
    """How many applications have one of `statuses`, counting at most `cap` + 1: the queue index
    starts with the status, so this reads at most that many index entries and no table row."""
    matching = (
        sa.select(sa.literal(1))
        .select_from(_APPLICATIONS)
        .where(_APPLICATIONS.c.status.in_([s.value for s in statuses]))
        .limit(cap + 1)
        .subquery()
    )
    return sa.select(func.count()).select_from(matching).scalar_subquery()


@lru_cache(maxsize=8)
def _counts_statement(cap: int) -> sa.Select[Any]:
    """Each tab's count, stopping at `cap` + 1."""
    return sa.select(*(_capped_count(statuses, cap) for statuses in TAB_STATUSES.values()))


def _tab_counts(found: Iterable[int]) -> dict[str, TabCount]:
    return {
        name: TabCount(COUNT_CAP, capped=True) if n > COUNT_CAP else TabCount(n)
        for name, n in zip(TAB_STATUSES, found, strict=True)
    }


def tab_counts(session: Session) -> dict[str, TabCount]:
    """Every tab's count in one query, exact up to COUNT_CAP."""
    return _tab_counts(session.execute(_counts_statement(COUNT_CAP)).one())


# The columns of a page's row: the application's shown columns, its voucher's serial, then
# every tab's count.
_ROW_WIDTH = len(QueueApplication._fields)


@lru_cache(maxsize=256)
def _page_statement(
    statuses: tuple[str, ...], sort: Sort, descending: bool, *, after: bool, cap: int
) -> sa.Select[Any]:
    """A page of the queue with every tab's count, built once per shape: the cursor and the page
    size are parameters (`after_value`, `after_id`, `page_size`).

    The counts are uncorrelated scalar subqueries, which both databases evaluate once per
    statement, not once per row: they ride along with the page instead of costing a round trip
    of their own."""
    table = _APPLICATIONS
    column = table.c[SORT_COLUMNS[sort].key]
    # The serial as a subquery per row, not a join: a join lets the planner trade the index
    # that gives the order for one that must then sort the whole tab.
    serial = (
        sa.select(_VOUCHERS.c.serial_number)
        .where(_VOUCHERS.c.youth_application_id == table.c.id)
        .scalar_subquery()
    )
    counts = (_capped_count(tab_statuses, cap) for tab_statuses in TAB_STATUSES.values())
    statement = sa.select(
        *(table.c[name] for name in QueueApplication._fields), serial, *counts
    ).where(table.c.status.in_(statuses))
    if after:
        seen = sa.tuple_(column, table.c.id)
        boundary = sa.tuple_(
            sa.bindparam("after_value", type_=column.type), sa.bindparam("after_id")
        )
        statement = statement.where(seen < boundary if descending else seen > boundary)
    order = (column.desc(), table.c.id.desc()) if descending else (column.asc(), table.c.id.asc())
    return statement.order_by(*order).limit(sa.bindparam("page_size"))


def queue(
    session: Session,
    *,
    tab: Tab,
    actor: Actor,
    statuses: Iterable[str] = (),
    sort: Sort | None = None,
    descending: bool | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Queue:
    """One page of a tab, with every tab's count (K26).

    One query whatever the page size: the page with its voucher serials and the tab counts
    (exact up to COUNT_CAP); a second one for the counts only when the page is empty.
    `statuses` outside the tab are ignored; none left means the tab's defaults. The list shows
    names, so the read is audited (K58): one row per page, without the names, inserted in the
    caller's transaction.
    """
    chosen = [s for s in TAB_STATUSES[tab] if s.value in set(statuses)] or list(
        DEFAULT_STATUSES[tab]
    )
    default_sort, default_desc = DEFAULT_SORT[tab]
    sort = sort or default_sort
    descending = default_desc if descending is None else descending
    limit = max(1, min(limit, MAX_PAGE))
    params: dict[str, Any] = {"page_size": limit + 1}
    if after is not None:
        params["after_value"], params["after_id"] = _parse_cursor(after, sort)
    statement = _page_statement(
        tuple(s.value for s in chosen), sort, descending, after=after is not None, cap=COUNT_CAP
    )
    found = session.execute(statement, params).all()
    has_more = len(found) > limit
    counts = _tab_counts(found[0][_ROW_WIDTH + 1 :]) if found else tab_counts(session)
    audit.record_read(
        session,
        actor=actor,
        action="youth_application.list",
        target_type="youth_application",
        fields=["first_name", "last_name", "hetu"],
        detail=f"tab={tab};rows={min(len(found), limit)}",
    )
    rows = []
    for values in found[:limit]:
        application = QueueApplication(*values[:_ROW_WIDTH])
        serial = values[_ROW_WIDTH]
        born = _queue_birth_date(application)
        rows.append(
            QueueRow(
                application=application,
                serial=format_serial(serial) if serial is not None else None,
                age=application.year - born.year if born else None,
                birth_year=born.year if born else None,
            )
        )
    return Queue(
        rows=rows,
        counts=counts,
        next_after=_cursor(rows[-1].application, sort) if has_more and rows else None,
    )


@dataclass(frozen=True)
class RegisterView:
    """What the register says of the person, and whether it was asked just now (an unhandled
    application) or is the answer stored when the youth applied (a handled one)."""

    person: Person | None
    fresh: bool
    unavailable: bool
    age: int | None
    warnings: list[str]


@dataclass(frozen=True)
class ApplicationDetail:
    application: YouthApplication
    serial: str | None
    age: int | None
    birth_date: date | None
    register: RegisterView | None  # None: no identity code, nothing to ask the register
    actions: list[YouthStatus]  # the moves this actor may make now (K28)


def _stored_person(snapshot: str | None) -> Person | None:
    if not snapshot:
        return None
    data = json.loads(snapshot)
    address = data.pop("address", None)
    return Person(**data, address=Address(**address) if address else None)


def eligible_ages(session: Session, *, year: int) -> set[int]:
    """The ages of the year's configured target groups (every group's if the year has none)."""
    config = service.configuration_for(session, year=year)
    groups: Collection[str] = config.target_groups if config else [g.value for g in TargetGroup]
    return {TARGET_GROUP_AGE[TargetGroup(g)] for g in groups}


def get(session: Session, *, application_id: int) -> YouthApplication | None:
    return session.get(YouthApplication, application_id)


def detail(
    session: Session,
    *,
    application_id: int,
    register: PopulationRegister,
    actor: Actor,
) -> ApplicationDetail | None:
    """The application as the handler sees it, or None if there is no such application.

    An unhandled application with an identity code is checked against the register again, with
    the handler as the end user DVV logs (K27): the youth's situation may have changed since
    they applied. If the register does not answer, the stored answer is shown and marked so.
    Opening the page reads personal data, which the audit log records (K58).
    """
    application = session.get(YouthApplication, application_id)
    if application is None:
        return None
    handled = application.status in (YouthStatus.accepted, YouthStatus.rejected)
    view: RegisterView | None = None
    if application.hetu:
        person: Person | None
        fresh = unavailable = False
        if handled:
            person = _stored_person(application.register_snapshot)
        else:
            try:
                person = register.find(application.hetu, end_user=actor.user_id)
                fresh = True
            except RegisterUnavailable:
                person, unavailable = _stored_person(application.register_snapshot), True
        view = RegisterView(
            person=person,
            fresh=fresh,
            unavailable=unavailable,
            age=age_in_year(person, application.year) if person else None,
            warnings=warnings(
                person,
                typed_last_name=application.last_name,
                typed_postcode=application.postcode,
                eligible_ages=eligible_ages(session, year=application.year),
                year=application.year,
            ),
        )
    voucher = session.exec(
        select(Voucher).where(Voucher.youth_application_id == application.id)
    ).first()
    born = birth_date_of(application)
    audit.record(
        session,
        actor=actor,
        action="youth_application.read",
        target_type="youth_application",
        target_id=application.id,
        fields=[
            "first_name",
            "last_name",
            "hetu",
            "email",
            "phone",
            *(["register"] if view else []),
        ],
        detail="register=queried" if view and view.fresh else None,
    )
    return ApplicationDetail(
        application=application,
        serial=format_serial(voucher.serial_number) if voucher else None,
        age=application.year - born.year if born else None,
        birth_date=born,
        register=view,
        actions=YOUTH_TRANSITIONS.targets(YouthStatus(application.status), actor.roles),
    )


def _role_for(application: YouthApplication, target: YouthStatus, actor: Actor) -> str:
    """The actor's role that allows this move, or the refusal (409) if none does."""
    for role in sorted(actor.roles):
        if YOUTH_TRANSITIONS.allowed(YouthStatus(application.status), target, [role]):
            return role
    raise InvalidTransition()


def _handle(
    session: Session,
    *,
    application: YouthApplication,
    target: YouthStatus,
    actor: Actor,
    now: datetime,
) -> None:
    old, new = apply_transition(
        session,
        obj=application,
        table=YOUTH_TRANSITIONS,
        target=target,
        actor=actor,
        role=_role_for(application, target, actor),
        target_type="youth_application",
        stamps={
            "handled_at": now,
            "handler_id": int(actor.user_id) if actor.user_id else None,
        },
    )
    timeline_events.add_status_event(
        session, youth_application_id=application.id, old=old, new=new, actor=actor
    )


def accept_by_handler(
    session: Session,
    *,
    application: YouthApplication,
    actor: Actor,
    now: datetime,
    handler_email: str | None,
) -> Voucher:
    """Accept after the handler's check (K29): the guarded move first, so a non-activated,
    already handled or concurrently handled application is refused, then the voucher and its
    e-mail through the same code as automatic acceptance."""
    _handle(session, application=application, target=YouthStatus.accepted, actor=actor, now=now)
    return service.accept(
        session, application=application, actor=actor, now=now, handler_email=handler_email
    )


def reject(
    session: Session,
    *,
    application: YouthApplication,
    actor: Actor,
    now: datetime,
) -> None:
    """Reject (K30). No e-mail goes to the youth, as in the city's current practice. No free-text
    reason is taken: there is no column for one, and the audit log must not hold text that may
    contain personal data (handler notes are where a reason belongs)."""
    _handle(session, application=application, target=YouthStatus.rejected, actor=actor, now=now)


class HandlerCreatedIn(BaseModel):
    """A handler's application for a person without a permanent Finnish identity code (K31).

    The register cannot be asked, so the handler types the birth date and, if known, the home
    municipality, and describes why; the school is free text.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: Literal["fi", "sv", "en"] = "fi"
    first_name: str = Field(min_length=1, max_length=128)
    last_name: str = Field(min_length=1, max_length=128)
    birthdate: date
    home_municipality: str | None = Field(default=None, max_length=64)
    postcode: Postcode
    school: str = Field(min_length=1, max_length=256)
    target_group: TargetGroup
    phone: Phone
    email: Email
    description: str = Field(min_length=1, max_length=4096)

    @field_validator("birthdate")
    @classmethod
    def plausible_birthdate(cls, value: date) -> date:
        if not date(1900, 1, 1) <= value <= utcnow().astimezone(service.HELSINKI).date():
            raise PydanticCustomError("birthdate_range", "Enter a birth date in the past")
        return value


def create_without_hetu(
    session: Session,
    *,
    data: HandlerCreatedIn,
    actor: Actor,
    now: datetime,
    handler_email: str | None = None,
    link_for: Callable[[int], str] | None = None,
) -> YouthApplication:
    """Store the handler's application straight in manual processing (K31): it is confirmed
    by the handler, so there is no activation e-mail, and it is decided like any other."""
    year = now.astimezone(service.HELSINKI).year
    email_index = blind_index(data.email, purpose="email")
    taken = session.exec(
        select(YouthApplication.id).where(
            YouthApplication.year == year,
            YouthApplication.email_index == email_index,
            col(YouthApplication.status).not_in([YouthStatus.rejected, YouthStatus.expired]),
        )
    ).first()
    if taken is not None:
        raise EmailTaken()
    application = YouthApplication(
        created_at=now,
        year=year,
        language=data.language,
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email,
        email_index=email_index,
        phone=data.phone,
        postcode=data.postcode,
        school=data.school,
        is_unlisted_school=True,
        target_group=data.target_group.value,
        non_vtj_birthdate=data.birthdate,
        non_vtj_home_municipality=data.home_municipality,
        status=YouthStatus.additional_information_provided,
        activated_at=now,
        needs_additional_info=True,
        additional_info_reasons=["other"],
        additional_info_description=data.description,
        additional_info_provided_at=now,
        creator_id=int(actor.user_id) if actor.user_id else None,
    )
    try:
        with session.begin_nested():
            session.add(application)
    except IntegrityError as exc:
        raise EmailTaken() from exc  # a parallel application with the address won the race
    audit.record(
        session,
        actor=actor,
        action="youth_application.create_by_handler",
        target_type="youth_application",
        target_id=application.id,
        fields=["first_name", "last_name", "birthdate", "email", "phone", "postcode", "school"],
    )
    if handler_email and link_for is not None:
        # The other handlers see it waiting, as with the youth's additional information.
        service.queue_processing_email(
            session, handler_email=handler_email, link=link_for(application.id or 0)
        )
    return application


def resend_voucher(
    session: Session, *, application: YouthApplication, actor: Actor, handler_email: str | None
) -> None:
    """Send the voucher e-mail again, to the youth and the handlers' mailbox (K24)."""
    voucher = session.exec(
        select(Voucher).where(Voucher.youth_application_id == application.id)
    ).first()
    if voucher is None:
        raise InvalidTransition()
    service.queue_voucher_email(
        session, application=application, voucher=voucher, handler_email=handler_email
    )
    audit.record(
        session,
        actor=actor,
        action="youth_application.resend_voucher",
        target_type="youth_application",
        target_id=application.id,
    )
