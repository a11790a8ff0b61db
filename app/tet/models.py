"""TET tables: classifications staff maintain, postings with their classifications, and the
supervisor confirmations given before a first posting.

Search reads only indexed data: `search_text` (title, unit, organisation, description and
keywords) feeds PostgreSQL's `search_vector` (Finnish configuration, GIN) and SQLite's FTS5
table `tet_posting_fts`; `tags` ("f12 m3 a7 lfi") feeds `tag_vector` (simple configuration, GIN)
and the FTS5 table's tags column. The service keeps both in step with the posting and its
classifications on every save. Whether a posting has ended is computed in the query
(end_date < today), never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


def _in(column: str, values: Any) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class ClassificationKind(StrEnum):
    field = "field"  # field of work (toimiala)
    method = "method"  # what kind of TET (work method)
    feature = "feature"  # work features


# The one-letter tag prefix of each kind in `TetPosting.tags`.
TAG_PREFIX = {
    ClassificationKind.field: "f",
    ClassificationKind.method: "m",
    ClassificationKind.feature: "a",
}


class PostingStatus(StrEnum):
    draft = "draft"
    published = "published"


class OwnerKind(StrEnum):
    company = "company"  # employer acting for a business id
    city_unit = "city_unit"  # staff of a city unit


LANGUAGES = ("fi", "sv", "en")

# Made by the migration outside these models (see the docstring).
SEARCH_TABLE_PREFIX = "tet_posting_fts"
SEARCH_COLUMNS = frozenset({"search_vector", "tag_vector"})
SEARCH_INDEXES = frozenset({"ix_tet_posting_search_vector", "ix_tet_posting_tag_vector"})


class TetClassification(SQLModel, table=True):
    """A value pupils filter by. Retired values stay on the postings that have them, are not
    offered for new ones and are not search filters."""

    __tablename__ = "tet_classification"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", [k.value for k in ClassificationKind]), name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    code: str = Field(max_length=40, unique=True)
    name_fi: str = Field(max_length=100)
    name_sv: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    ordering: int = 0
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def name(self, locale: str) -> str:
        return str(getattr(self, f"name_{locale}", None) or self.name_fi)


class TetPosting(SQLModel, table=True):
    __tablename__ = "tet_posting"
    __table_args__ = (
        sa.CheckConstraint(_in("status", [s.value for s in PostingStatus]), name="status"),
        sa.CheckConstraint(_in("owner_kind", [k.value for k in OwnerKind]), name="owner_kind"),
        sa.CheckConstraint("spots >= 1", name="spots"),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
        ),
        sa.Index("ix_tet_posting_owner", "owner_kind", "owner_id", "updated_at", "id"),
        # The pupils' default order, over published postings only.
        sa.Index(
            "ix_tet_posting_search_start",
            "start_date",
            "id",
            postgresql_where=sa.text("status = 'published'"),
            sqlite_where=sa.text("status = 'published'"),
        ),
        sa.Index("ix_tet_posting_postcode", "postcode"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_kind: str = Field(max_length=10)
    owner_id: str = Field(max_length=100)  # business id, or the city unit's name
    organisation_name: str = Field(max_length=255)
    status: str = Field(default=PostingStatus.draft, max_length=10)
    title: str = Field(max_length=128)
    org_unit: str = Field(max_length=128)
    description: str | None = Field(default=None, sa_type=sa.Text)
    street: str = Field(max_length=128)
    postcode: str = Field(max_length=5)
    city: str = Field(max_length=64)
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str | None = Field(default=None, max_length=128)
    contact_phone: str | None = Field(default=None, max_length=30)
    contact_email: str | None = Field(default=None, max_length=254)
    start_date: date | None = None
    end_date: date | None = None  # none: ongoing
    spots: int = 1
    languages: str | None = Field(default=None, max_length=20)  # "fi,sv"
    keywords: str | None = Field(default=None, max_length=1000)  # comma separated
    website: str | None = Field(default=None, max_length=2048)
    image_name: str | None = Field(default=None, max_length=64)  # generated, under the file store
    image_type: str | None = Field(default=None, max_length=20)
    image_width: int | None = None
    image_height: int | None = None
    photographer: str | None = Field(default=None, max_length=128)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Search input, kept by the service (see the module's docstring).
    search_text: str = Field(default="", sa_type=sa.Text)
    tags: str = Field(default="", max_length=2000)

    @property
    def language_list(self) -> list[str]:
        return [code for code in (self.languages or "").split(",") if code]

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in (self.keywords or "").split(",") if k.strip()]

    def ended(self, today: date) -> bool:
        return self.end_date is not None and self.end_date < today


class TetPostingClassification(SQLModel, table=True):
    __tablename__ = "tet_posting_classification"

    posting_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("tet_posting.id", ondelete="CASCADE"), primary_key=True
        )
    )
    classification_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("tet_classification.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
        )
    )


class TetSupervisorConfirmation(SQLModel, table=True):
    """T3: "I am a supervisor or have discussed the posting with my supervisor", once per person
    and owner before their first posting."""

    __tablename__ = "tet_supervisor_confirmation"
    __table_args__ = (sa.UniqueConstraint("user_id", "owner_kind", "owner_id", name="user_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    owner_kind: str = Field(max_length=10)
    owner_id: str = Field(max_length=100)
    confirmed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
