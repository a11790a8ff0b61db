"""TET queries. Editors' reads are scoped to their owner (`for_owner`); the pupils' search sees
only published postings that have not ended, and reads only indexed data: the full-text index
(PostgreSQL tsvector + GIN, SQLite FTS5) for words and classifications, B-tree indexes for dates
and postcodes. Pages are cut by key, never by OFFSET."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.tet.districts import BY_CODE as DISTRICTS
from app.tet.models import (
    TAG_PREFIX,
    ClassificationKind,
    PostingStatus,
    TetClassification,
    TetPosting,
    TetPostingClassification,
)

PAGE_SIZE = 20
COUNT_CAP = 1000
MAX_WORDS = 8
_MAX_KEY = 2**31 - 1  # ids are 32-bit integers
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset(
    " ".join(
        (
            "ja tai että sekä eli on ei se ne joka jotka mutta kun jos niin kuin myös vai",
            "och eller att som är en ett i på av för med till den det de om men så vid från",
            "and or the a an of in on for to with at is are by from as",
        )
    ).split()
)


@dataclass(frozen=True)
class Owner:
    """Whose postings: a company by business id, or a city unit (staff)."""

    kind: str
    id: str
    name: str  # the organisation shown to pupils


def for_owner(owner: Owner) -> SelectOfScalar[TetPosting]:
    return select(TetPosting).where(
        col(TetPosting.owner_kind) == owner.kind, col(TetPosting.owner_id) == owner.id
    )


def get_for_owner(session: Session, owner: Owner, posting_id: int) -> TetPosting | None:
    return session.exec(for_owner(owner).where(col(TetPosting.id) == posting_id)).first()


def owner_postings(session: Session, owner: Owner) -> list[TetPosting]:
    statement = for_owner(owner).order_by(
        col(TetPosting.updated_at).desc(), col(TetPosting.id).desc()
    )
    return list(session.exec(statement).all())


# --- Classifications ---------------------------------------------------------------------------


def classifications(session: Session, *, include_retired: bool = False) -> list[TetClassification]:
    statement = select(TetClassification).order_by(
        col(TetClassification.kind), col(TetClassification.ordering), col(TetClassification.id)
    )
    if not include_retired:
        statement = statement.where(col(TetClassification.retired_at).is_(None))
    return list(session.exec(statement).all())


def usage_counts(session: Session) -> dict[int, int]:
    """How many postings (drafts included) have each classification: one grouped count."""
    classification_id = col(TetPostingClassification.classification_id)
    rows = session.execute(
        sa_select(classification_id, func.count()).group_by(classification_id)
    ).all()
    return {int(row[0]): int(row[1]) for row in rows}


def classifications_by_code(session: Session, codes: Iterable[str]) -> dict[str, TetClassification]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    rows = session.exec(
        select(TetClassification).where(col(TetClassification.code).in_(wanted))
    ).all()
    return {row.code: row for row in rows}


def classifications_of(
    session: Session, posting_ids: Sequence[int]
) -> dict[int, list[TetClassification]]:
    """Each posting's classifications, in one query."""
    result: dict[int, list[TetClassification]] = defaultdict(list)
    if not posting_ids:
        return result
    rows = session.execute(
        sa_select(col(TetPostingClassification.posting_id), TetClassification)
        .join(
            TetClassification,
            col(TetClassification.id) == col(TetPostingClassification.classification_id),
        )
        .where(col(TetPostingClassification.posting_id).in_(list(posting_ids)))
        .order_by(col(TetClassification.kind), col(TetClassification.ordering))
    ).all()
    for posting_id, classification in rows:
        result[posting_id].append(classification)
    return result


# --- Pupils' search -----------------------------------------------------------------------------


@dataclass
class Criteria:
    """A validated search with classification codes already resolved to their tags."""

    words: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # tags: any of
    methods: list[str] = field(default_factory=list)  # tags: any of
    features: list[str] = field(default_factory=list)  # tags: all of
    start: date | None = None
    end: date | None = None
    language: str | None = None
    postcodes: list[str] | None = None  # None: anywhere
    by_match: bool = False

    @property
    def interests(self) -> list[str]:
        return [*self.fields, *self.methods]


def words_of(text: str | None) -> list[str]:
    """The query's words, lower-cased, without the characters search syntax gives meaning to and
    without fi/sv/en stop words (unless that leaves none), the same on both databases:
    PostgreSQL's Finnish configuration would drop some, SQLite's FTS5 would require them."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    meaningful = [w for w in words if w not in STOP_WORDS]
    return (meaningful or words)[:MAX_WORDS]


def area_postcodes(area: str | None) -> list[str] | None:
    """A district code or a postcode (or its first digits) -> the postcodes; None: anywhere.
    An unknown value is refused by the caller before this."""
    if not area:
        return None
    district = DISTRICTS.get(area)
    if district is not None:
        return list(district.postcodes)
    return [area] if re.fullmatch(r"\d{5}", area) else None


def tag_for(classification: TetClassification) -> str:
    return f"{TAG_PREFIX[ClassificationKind(classification.kind)]}{classification.id}"


def _published(today: date) -> list[ColumnElement[bool]]:
    end = col(TetPosting.end_date)
    return [
        col(TetPosting.status) == PostingStatus.published.value,
        sa.or_(end.is_(None), end >= today),
    ]


def _conditions(dialect: str, criteria: Criteria, today: date) -> list[ColumnElement[bool]]:
    conditions = _published(today)
    if criteria.end is not None:
        conditions.append(col(TetPosting.start_date) <= criteria.end)
    if criteria.start is not None:
        end = col(TetPosting.end_date)
        conditions.append(sa.or_(end.is_(None), end >= criteria.start))
    if criteria.postcodes is not None:
        conditions.append(col(TetPosting.postcode).in_(criteria.postcodes))
    tag_groups: list[list[str]] = []
    if criteria.fields:
        tag_groups.append(criteria.fields)
    if criteria.methods:
        tag_groups.append(criteria.methods)
    tag_groups.extend([t] for t in criteria.features)
    if criteria.language:
        tag_groups.append([f"l{criteria.language}"])
    if dialect == "postgresql":
        if criteria.words:
            query = " & ".join(f"{w}:*" for w in criteria.words)
            conditions.append(
                sa.literal_column("tet_posting.search_vector").op("@@")(
                    func.to_tsquery(sa.literal_column("'finnish'::regconfig"), query)
                )
            )
        if tag_groups:
            query = " & ".join("(" + " | ".join(group) + ")" for group in tag_groups)
            conditions.append(
                sa.literal_column("tet_posting.tag_vector").op("@@")(
                    func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)
                )
            )
    else:
        parts = []
        if criteria.words:
            parts.append("search_text : (" + " AND ".join(f'"{w}"*' for w in criteria.words) + ")")
        for group in tag_groups:
            parts.append("tags : (" + " OR ".join(f'"{t}"' for t in group) + ")")
        if parts:
            matching = sa.text(
                "SELECT rowid FROM tet_posting_fts WHERE tet_posting_fts MATCH :fts"
            ).bindparams(fts=" AND ".join(parts))
            conditions.append(col(TetPosting.id).in_(matching))
    return conditions


def _score(criteria: Criteria) -> ColumnElement[int]:
    """How many of the chosen interests (fields of work, work methods) a posting has."""
    padded = col(TetPosting.tags)
    terms = [sa.case((padded.like(f"% {tag} %"), 1), else_=0) for tag in criteria.interests]
    total: ColumnElement[int] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def count(session: Session, criteria: Criteria, today: date, *, cap: int = COUNT_CAP) -> int:
    """How many postings match, counted up to `cap` + 1 (more than `cap`: "over `cap`"), so
    that a broad search never counts the whole table."""
    dialect = session.get_bind().dialect.name
    matching = (
        sa_select(sa.literal(1))
        .select_from(TetPosting)
        .where(*_conditions(dialect, criteria, today))
        .limit(cap + 1)
        .subquery()
    )
    return int(session.execute(sa_select(func.count()).select_from(matching)).scalar_one())


@dataclass(frozen=True)
class Key:
    """Where a page starts or ends: (score,) start date and id."""

    start: date
    id: int
    score: int | None = None

    def encode(self) -> str:
        prefix = f"{self.score}." if self.score is not None else ""
        return f"{prefix}{self.start.isoformat()}.{self.id}"

    @classmethod
    def decode(cls, text: str | None, *, by_match: bool) -> Key | None:
        if not text:
            return None
        parts = text.split(".")
        try:
            if by_match and len(parts) == 3:
                key = cls(score=int(parts[0]), start=date.fromisoformat(parts[1]), id=int(parts[2]))
            elif not by_match and len(parts) == 2:
                key = cls(start=date.fromisoformat(parts[0]), id=int(parts[1]))
            else:
                return None
        except ValueError:
            return None
        # A number no row can have is a broken link, not a query: the databases refuse
        # integers past 64 bits (SQLite with OverflowError, PostgreSQL as out of range).
        if not 0 <= key.id <= _MAX_KEY or not 0 <= (key.score or 0) <= _MAX_KEY:
            return None
        return key


@dataclass
class Results:
    items: list[TetPosting]
    scores: dict[int, int]
    next_key: Key | None
    previous_key: Key | None


def search(
    session: Session,
    criteria: Criteria,
    today: date,
    *,
    after: Key | None = None,
    before: Key | None = None,
    limit: int = PAGE_SIZE,
) -> Results:
    """One page of matching postings: by start date (then id), or by the number of matching
    interests (most first) and then start date."""
    dialect = session.get_bind().dialect.name
    start = col(TetPosting.start_date)
    ident = col(TetPosting.id)
    backwards = before is not None and after is None
    key = before if backwards else after
    by_match = criteria.by_match and bool(criteria.interests)
    score = _score(criteria) if by_match else None
    # Search input stays in the database: the page never shows it.
    columns: list[Any] = [TetPosting]
    if score is not None:
        columns.append(score.label("score"))
    statement = sa_select(*columns).where(*_conditions(dialect, criteria, today))
    if key is not None:
        later = sa.tuple_(start, ident) > sa.tuple_(sa.literal(key.start), sa.literal(key.id))
        earlier = sa.tuple_(start, ident) < sa.tuple_(sa.literal(key.start), sa.literal(key.id))
        if score is not None and key.score is not None:
            # Score descending, then (start, id) ascending.
            if backwards:
                statement = statement.where(
                    sa.or_(score > key.score, sa.and_(score == key.score, earlier))
                )
            else:
                statement = statement.where(
                    sa.or_(score < key.score, sa.and_(score == key.score, later))
                )
        else:
            statement = statement.where(earlier if backwards else later)
    order: list[Any] = []
    if score is not None:
        order.append(score.asc() if backwards else score.desc())
    order.extend([start.desc(), ident.desc()] if backwards else [start.asc(), ident.asc()])
    statement = statement.options(defer(TetPosting.search_text))  # type: ignore[arg-type]
    rows = session.execute(statement.order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows = list(reversed(rows))
    items = [row[0] for row in rows]
    scores = {row[0].id: int(row[1]) for row in rows} if score is not None else {}

    def key_of(posting: TetPosting) -> Key:
        return Key(
            start=posting.start_date or today,
            id=posting.id or 0,
            score=scores.get(posting.id or 0) if score is not None else None,
        )

    next_key = previous_key = None
    if items:
        if backwards:
            previous_key = key_of(items[0]) if more else None
            next_key = key_of(items[-1])
        else:
            next_key = key_of(items[-1]) if more else None
            previous_key = key_of(items[0]) if after is not None else None
    return Results(items=items, scores=scores, next_key=next_key, previous_key=previous_key)


def published_posting(session: Session, posting_id: int, today: date) -> TetPosting | None:
    return session.exec(
        select(TetPosting).where(col(TetPosting.id) == posting_id, *_published(today))
    ).first()
