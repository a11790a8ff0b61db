"""Searching and exporting the audit log, for the staff admin's viewer (issue #7 §7).

The viewer is itself audited: every search and every export writes an `audit_log.search` or
`audit_log.export` row whose detail holds the filters (ids, action names, times: never personal
data: the filters refuse personal identity codes and e-mail addresses) and the number of rows.

Newest first, paged by key (the id), never by OFFSET; each filter has an index (see AuditEvent
and migration d5e3f7a9b2c4). Times are entered and shown in Helsinki time, stored in UTC.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import IO, Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col
from stdnum.fi import hetu as std_hetu

from app import audit
from app.audit import AuditEvent
from app.forms import error_loc, error_message, field_name, normalize, values_of
from app.i18n import N_, gettext
from app.security import Actor
from app.types import BusinessId

HELSINKI = ZoneInfo("Europe/Helsinki")
PAGE_SIZE = 50
MAX_PAGE = 200
# The most rows one export holds (the newest that match); the page says so.
EXPORT_MAX_ROWS = 100_000
EXPORT_BATCH = 2_000
MAX_ID = 2**31 - 1

SEARCH_ACTION = "audit_log.search"
EXPORT_ACTION = "audit_log.export"
TARGET_TYPE = "audit_log"


class Match(StrEnum):
    exact = "exact"
    prefix = "prefix"


# --- Input ---------------------------------------------------------------------------------------

# Messages of this module's own error types; the rest come from app.forms.
MESSAGES: dict[str, str] = {
    "audit_code": N_("Use only letters, digits and the characters . _ - : / here."),
    "audit_personal_data": N_(
        "Search by ids only: do not enter personal identity codes or e-mail addresses."
    ),
    "audit_date": N_("Enter a date, for example 24.11.2026."),
    "audit_time": N_("Enter a time, for example 14.30."),
    "audit_time_without_date": N_("Enter the date as well."),
    "audit_range": N_("Enter an end that is on or after the start."),
    "audit_page_key": N_("The page link is broken: start the search again."),
}

_CODE = re.compile(r"[A-Za-z0-9_.:/\-]+")
_FI_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")


def _code(value: Any) -> str:
    """An id or a name of the log's own (an action, a target type): no spaces, no personal data.
    A filter goes into the audit row of the search, so it must not carry personal data."""
    text = str(value).strip()
    if "@" in text or std_hetu.is_valid(text.upper()):
        raise PydanticCustomError("audit_personal_data", "personal data in a filter")
    if not _CODE.fullmatch(text):
        raise PydanticCustomError("audit_code", "not an id")
    return text


def _day(value: Any) -> date:
    """A day as 24.11.2026 or as a date field sends it (2026-11-24)."""
    text = str(value).strip()
    try:
        if match := _FI_DATE.fullmatch(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("audit_date", "not a date") from None


def _clock(value: Any) -> time:
    """A time as 14.30, 14:30 or 14:30:15."""
    match = _TIME.fullmatch(str(value).strip())
    try:
        if match is None:
            raise ValueError
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError:
        raise PydanticCustomError("audit_time", "not a time") from None


def _page_key(value: Any) -> int:
    try:
        key = int(str(value))
    except ValueError:
        raise PydanticCustomError("audit_page_key", "not a page key") from None
    if not 1 <= key <= MAX_ID:
        raise PydanticCustomError("audit_page_key", "not a page key")
    return key


Code = Annotated[str, BeforeValidator(_code)]
Day = Annotated[date, BeforeValidator(_day)]
Clock = Annotated[time, BeforeValidator(_clock)]
PageKey = Annotated[int, BeforeValidator(_page_key)]


class AuditSearchIn(BaseModel):
    """The viewer's filters (all optional, combined with AND) and the page key."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    target_type: Annotated[Code, Field(max_length=50)] | None = None
    target_id: Annotated[Code, Field(max_length=64)] | None = None
    actor_id: Annotated[Code, Field(max_length=255)] | None = None
    business_id: BusinessId | None = None
    action: Annotated[Code, Field(max_length=100)] | None = None
    match: Match = Match.exact
    outcome: audit.Outcome | None = None
    from_date: Day | None = None
    from_time: Clock | None = None
    to_date: Day | None = None
    to_time: Clock | None = None
    # Paging: `before` gives the next (older) page, `after` the previous (newer) one.
    before: PageKey | None = None
    after: PageKey | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = PAGE_SIZE

    @model_validator(mode="after")
    def _times(self) -> AuditSearchIn:
        if self.from_time is not None and self.from_date is None:
            raise PydanticCustomError("audit_time_without_date", "", {"field": "from_date"})
        if self.to_time is not None and self.to_date is None:
            raise PydanticCustomError("audit_time_without_date", "", {"field": "to_date"})
        start, end = self.utc_range()
        if start is not None and end is not None and end <= start:
            raise PydanticCustomError("audit_range", "", {"field": "to_date"})
        return self

    def utc_range(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC. A day without a time is the whole day; an end time includes
        its whole minute (or second, when seconds are given)."""
        start = end = None
        if self.from_date is not None:
            local = datetime.combine(self.from_date, self.from_time or time(0), tzinfo=HELSINKI)
            start = local.astimezone(UTC)
        if self.to_date is not None:
            if self.to_time is None:
                local = datetime.combine(self.to_date + timedelta(days=1), time(0), HELSINKI)
            else:
                step = timedelta(seconds=1) if self.to_time.second else timedelta(minutes=1)
                local = datetime.combine(self.to_date, self.to_time, tzinfo=HELSINKI) + step
            end = local.astimezone(UTC)
        return start, end

    def filters(self) -> dict[str, str]:
        """The filters given, as the URL and the audit row carry them (no page key)."""
        values: dict[str, Any] = {
            "target_type": self.target_type,
            "target_id": self.target_id,
            "actor_id": self.actor_id,
            "business_id": self.business_id,
            "action": self.action,
            "match": self.match.value if self.action else None,
            "outcome": self.outcome.value if self.outcome else None,
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "from_time": self.from_time.isoformat() if self.from_time else None,
            "to_date": self.to_date.isoformat() if self.to_date else None,
            "to_time": self.to_time.isoformat() if self.to_time else None,
        }
        return {key: str(value) for key, value in values.items() if value is not None}


def _message(error: Mapping[str, Any]) -> str:
    own = MESSAGES.get(str(error.get("type")))
    return gettext(own) if own else error_message(error)


@dataclass(frozen=True)
class ParsedSearch:
    """The query string parsed: the filters when valid, else messages by field; `values` are
    what was typed, to show again."""

    values: dict[str, Any]
    data: AuditSearchIn | None
    errors: dict[str, str]


def parse_search(params: Mapping[str, Any]) -> ParsedSearch:
    values = values_of(params)
    try:
        return ParsedSearch(
            values, AuditSearchIn.model_validate(normalize(AuditSearchIn, params)), {}
        )
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            errors.setdefault(field_name(error_loc(error)), _message(error))
        return ParsedSearch(values, None, errors)


# --- Queries -------------------------------------------------------------------------------------

_T = AuditEvent.__table__  # type: ignore[attr-defined]
_COLUMNS = [
    _T.c.id,
    _T.c.occurred_at,
    _T.c.request_id,
    _T.c.actor_kind,
    _T.c.actor_id,
    _T.c.actor_roles,
    _T.c.actor_provider,
    _T.c.business_id,
    _T.c.action,
    _T.c.target_type,
    _T.c.target_id,
    _T.c.outcome,
    _T.c.fields,
    _T.c.detail,
]


def _prefix(session: Session, prefix: str) -> sa.ColumnElement[bool]:
    """`action` begins with `prefix`, as an index can serve it on each engine: PostgreSQL turns
    LIKE 'p%' into a range on its text_pattern_ops index; SQLite's LIKE ignores case and so
    skips the index, but its BINARY order makes the same range exact."""
    action = col(AuditEvent.action)
    if session.get_bind().dialect.name == "sqlite":
        successor = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return sa.and_(action >= prefix, action < successor)
    return action.startswith(prefix, autoescape=True)


def _conditions(session: Session, search: AuditSearchIn) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if search.target_type:
        where.append(col(AuditEvent.target_type) == search.target_type)
    if search.target_id:
        where.append(col(AuditEvent.target_id) == search.target_id)
    if search.actor_id:
        where.append(col(AuditEvent.actor_id) == search.actor_id)
    if search.business_id:
        where.append(col(AuditEvent.business_id) == search.business_id)
    if search.action:
        if search.match is Match.prefix:
            where.append(_prefix(session, search.action))
        else:
            where.append(col(AuditEvent.action) == search.action)
    if search.outcome:
        where.append(col(AuditEvent.outcome) == search.outcome.value)
    start, end = search.utc_range()
    if start is not None:
        where.append(col(AuditEvent.occurred_at) >= start)
    if end is not None:
        where.append(col(AuditEvent.occurred_at) < end)
    return where


@dataclass(frozen=True)
class AuditPage:
    rows: list[sa.Row[Any]]
    # The keys of the neighbouring pages: `before` for the next (older), `after` for the
    # previous (newer); None at either end.
    older: int | None
    newer: int | None


def _exists(session: Session, where: list[sa.ColumnElement[bool]]) -> bool:
    found = session.execute(sa.select(_T.c.id).where(*where).limit(1)).first()
    return found is not None


def _detail(search: AuditSearchIn, **extra: Any) -> str:
    return json.dumps({"filters": search.filters(), **extra}, sort_keys=True)


def search(session: Session, *, actor: Actor, data: AuditSearchIn) -> AuditPage:
    """One page of the events matching `data`, newest first, and the audit row of the search
    (written after the query, so a search never finds itself on its own page)."""
    where = _conditions(session, data)
    base = sa.select(*_COLUMNS).where(*where)
    if data.after is not None and data.before is None:
        found = list(
            session.execute(
                base.where(_T.c.id > data.after).order_by(_T.c.id.asc()).limit(data.limit + 1)
            )
        )
        newer_exists = len(found) > data.limit
        rows = list(reversed(found[: data.limit]))
        older_exists = bool(rows) and _exists(session, [*where, _T.c.id < rows[-1].id])
    else:
        statement = base
        if data.before is not None:
            statement = statement.where(_T.c.id < data.before)
        found = list(session.execute(statement.order_by(_T.c.id.desc()).limit(data.limit + 1)))
        older_exists = len(found) > data.limit
        rows = found[: data.limit]
        newer_exists = (
            data.before is not None
            and bool(rows)
            and _exists(session, [*where, _T.c.id > rows[0].id])
        )
    page = AuditPage(
        rows=rows,
        older=rows[-1].id if older_exists else None,
        newer=rows[0].id if newer_exists else None,
    )
    audit.record_read(
        session,
        actor=actor,
        action=SEARCH_ACTION,
        target_type=TARGET_TYPE,
        detail=_detail(
            data,
            before=data.before,
            after=data.after if data.before is None else None,
            rows=len(rows),
        ),
    )
    return page


# --- Export --------------------------------------------------------------------------------------

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def helsinki_time(value: datetime) -> str:
    """24.11.2026 14:05:07, Helsinki time: the log's times to the second."""
    local = value.astimezone(HELSINKI)
    return (
        f"{local.day}.{local.month}.{local.year} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )


def export_header() -> list[str]:
    return [
        gettext("Id"),
        gettext("Time (Helsinki)"),
        gettext("Time (UTC)"),
        gettext("Request id"),
        gettext("Actor kind"),
        gettext("Actor id"),
        gettext("Actor roles"),
        gettext("Identity provider"),
        gettext("Business id"),
        gettext("Action"),
        gettext("Target type"),
        gettext("Target id"),
        gettext("Outcome"),
        gettext("Fields"),
        gettext("Detail"),
    ]


def _export_rows(session: Session, search: AuditSearchIn) -> Iterator[sa.Row[Any]]:
    """The matching events newest first, at most EXPORT_MAX_ROWS, read in batches by key."""
    where = _conditions(session, search)
    before: int | None = None
    left = EXPORT_MAX_ROWS
    while left > 0:
        statement = sa.select(*_COLUMNS).where(*where)
        if before is not None:
            statement = statement.where(_T.c.id < before)
        batch = list(
            session.execute(statement.order_by(_T.c.id.desc()).limit(min(EXPORT_BATCH, left)))
        )
        yield from batch
        if len(batch) < min(EXPORT_BATCH, left):
            return
        left -= len(batch)
        before = batch[-1].id


@dataclass(frozen=True)
class ExportResult:
    rows: int
    truncated: bool  # more events matched than EXPORT_MAX_ROWS


def export_csv(
    session: Session, *, actor: Actor, data: AuditSearchIn, out: IO[bytes]
) -> ExportResult:
    """Write the matching events to `out` as CSV (";", UTF-8 with a BOM, so that Excel reads it
    right), newest first, capped at EXPORT_MAX_ROWS; and the audit row of the export."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(export_header())
    count = 0
    last_id: int | None = None
    for row in _export_rows(session, data):
        writer.writerow(
            [
                row.id,
                helsinki_time(row.occurred_at),
                row.occurred_at.astimezone(UTC).isoformat(timespec="seconds"),
                *(
                    _cell(value)
                    for value in (
                        row.request_id,
                        row.actor_kind,
                        row.actor_id,
                        row.actor_roles,
                        row.actor_provider,
                        row.business_id,
                        row.action,
                        row.target_type,
                        row.target_id,
                        row.outcome,
                        row.fields,
                        row.detail,
                    )
                ),
            ]
        )
        count += 1
        last_id = row.id
    text.flush()
    text.detach()  # `out` stays open for the caller
    truncated = (
        count == EXPORT_MAX_ROWS
        and last_id is not None
        and _exists(session, [*_conditions(session, data), _T.c.id < last_id])
    )
    audit.record(
        session,
        actor=actor,
        action=EXPORT_ACTION,
        target_type=TARGET_TYPE,
        detail=_detail(data, format="csv", rows=count, truncated=truncated),
    )
    return ExportResult(rows=count, truncated=truncated)
