"""TET input and output shapes, shared by the HTML forms and the JSON API.

`PostingIn` is what an editor saves: a draft needs only the title, the unit and the address
(T5); `publish_problems` checks the rest before a posting goes public (T6). `SearchIn` is the
pupils' search, the same for `GET /tet` and `GET /api/v1/tet/postings`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.types import Email, Phone, Postcode

Language = Literal["fi", "sv", "en"]

MAX_KEYWORDS = 30
DESCRIPTION_MAX = 2000
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


def _split_keywords(value: Any) -> Any:
    """A comma-separated text (the form) or a list (the API), without blanks or repeats."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return items
    seen: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            return items  # let the type check say so
        text = " ".join(item.split())
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return list(seen.values())


def _website(value: Any) -> Any:
    """http(s) addresses only; "www.example.com" gets https:// in front."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or " " in text
        or "." not in parts.netloc
    ):
        raise PydanticCustomError("website", "Invalid web address")
    return text


def _codes(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        for item in value:
            if not isinstance(item, str) or not _CODE.match(item):
                raise PydanticCustomError("classification", "Unknown classification")
        return list(dict.fromkeys(value))
    return value


Keyword = Annotated[str, Field(max_length=50)]
Codes = Annotated[list[str], BeforeValidator(_codes)]


class PostingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=128)
    org_unit: str = Field(min_length=1, max_length=128)
    street: str = Field(min_length=1, max_length=128)
    postcode: Postcode
    city: str = Field(min_length=1, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    contact_name: str | None = Field(default=None, max_length=128)
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    start_date: date | None = None
    end_date: date | None = None
    spots: int = Field(default=1, ge=1, le=999)
    languages: list[Language] = Field(default_factory=list)
    fields: Codes = Field(default_factory=list)
    methods: Codes = Field(default_factory=list)
    features: Codes = Field(default_factory=list)
    keywords: Annotated[list[Keyword], BeforeValidator(_split_keywords)] = Field(
        default_factory=list, max_length=MAX_KEYWORDS
    )
    website: Annotated[str | None, BeforeValidator(_website)] = Field(default=None, max_length=2048)
    photographer: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _dates(self) -> PostingIn:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise PydanticCustomError("end_before_start", "End before start", {"field": "end_date"})
        return self


def publish_problems(data: PostingIn) -> list[dict[str, Any]]:
    """What a posting still lacks before it may be published, in Pydantic's error shape."""
    problems: list[dict[str, Any]] = []

    def missing(field: str, kind: str = "missing", **ctx: Any) -> None:
        problems.append({"loc": [field], "type": kind, "msg": kind, "ctx": ctx, "input": None})

    if not data.description:
        missing("description")
    if not data.contact_name:
        missing("contact_name")
    if not data.contact_phone:
        missing("contact_phone")
    if not data.contact_email:
        missing("contact_email")
    if data.start_date is None:
        missing("start_date")
    if not data.languages:
        missing("languages", "choose_one")
    if not data.fields:
        missing("fields", "choose_one")
    if not data.methods:
        missing("methods", "choose_one")
    return problems


class SearchIn(BaseModel):
    """The pupils' search. Fields of work and work methods: any of those chosen; work features:
    all of them; dates: open at some time in the range; area: a postcode or a district."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: str | None = Field(default=None, max_length=200)
    field: Codes = Field(default_factory=list, max_length=20)
    method: Codes = Field(default_factory=list, max_length=20)
    feature: Codes = Field(default_factory=list, max_length=20)
    start: date | None = None
    end: date | None = None
    language: Language | None = None
    area: str | None = Field(default=None, max_length=40)
    sort: Literal["start", "match"] | None = None
    after: str | None = Field(default=None, max_length=80)
    before: str | None = Field(default=None, max_length=80)

    @model_validator(mode="after")
    def _range(self) -> SearchIn:
        if self.start and self.end and self.end < self.start:
            raise PydanticCustomError("end_before_start", "End before start", {"field": "end"})
        return self

    @property
    def interests(self) -> list[str]:
        return [*self.field, *self.method]


class ClassificationOut(BaseModel):
    code: str
    kind: str
    name: str


class PostingOut(BaseModel):
    """A published posting as pupils and other services see it."""

    id: int
    title: str
    organisation: str
    org_unit: str
    description: str | None
    street: str
    postcode: str
    city: str
    district: str | None
    latitude: float | None
    longitude: float | None
    start_date: date | None
    end_date: date | None
    spots: int
    languages: list[str]
    fields: list[ClassificationOut]
    methods: list[ClassificationOut]
    features: list[ClassificationOut]
    keywords: list[str]
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    website: str | None
    image_url: str | None
    photographer: str | None
    url: str


class SearchOut(BaseModel):
    count: int
    items: list[PostingOut]
    next: str | None = Field(description="The URL of the next page, if there is one.")
    previous: str | None = Field(description="The URL of the previous page, if there is one.")
