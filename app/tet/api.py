"""The pupils' TET search as JSON for schools and other city services (#6 part 4): anonymous,
read-only, rate-limited together with the search page (`tet_search`).

    GET /api/v1/tet/postings             published, not ended postings, the page's filters
    GET /api/v1/tet/postings/{id}        one of them
    GET /api/v1/tet/classifications      the values the search filters by

The query is `SearchIn`, the same the page /tet reads; an unknown filter value answers 422 in
the app's error shape (`detail`: a list of `loc`, `msg`, `type`). Names of classifications and
districts are given in `lang` (fi, sv or en); messages follow the request's language.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError

from app.deps import SessionDep
from app.errors import NotFound, ValidationFailed
from app.i18n import gettext, language
from app.ratelimit import limited
from app.security import Anonymous
from app.templating import path_for
from app.tet import repository, service
from app.tet.models import ClassificationKind, TetClassification, TetPosting
from app.tet.public_views import RATE_LIMIT_ACTION
from app.tet.schemas import ClassificationOut, PostingOut, SearchIn, SearchOut

router = APIRouter(prefix="/api/v1/tet", dependencies=[Anonymous], tags=["tet"])

Lang = Literal["fi", "sv", "en"]
LangQuery = Annotated[Lang, Query(description="The language of classification and district names.")]
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "A filter value is not valid (for example an unknown classification "
        "code or area, or an end date before the start date): a message per parameter, in "
        "the request's language.",
        "content": {
            "application/json": {
                "example": {
                    "detail": [
                        {
                            "loc": ["query", "field"],
                            "msg": "Choose one of the options.",
                            "type": "classification",
                        }
                    ]
                }
            }
        },
    },
    429: {"description": "Too many requests from this address; see Retry-After."},
}


def _classification(row: TetClassification, lang: str) -> ClassificationOut:
    return ClassificationOut(code=row.code, kind=row.kind, name=row.name(lang))


def posting_out(
    request: Request, posting: TetPosting, classes: list[TetClassification], lang: str
) -> PostingOut:
    """A posting as the API shows it: names in `lang`, links as site-relative paths."""
    posting_id = str(posting.id)

    def of(kind: ClassificationKind) -> list[ClassificationOut]:
        return [_classification(c, lang) for c in classes if c.kind == kind]

    district = service.district_name(posting.postcode)
    with language(lang):
        district_name = gettext(district) if district else None
    return PostingOut(
        id=posting.id or 0,
        title=posting.title,
        organisation=posting.organisation_name,
        org_unit=posting.org_unit,
        description=posting.description,
        street=posting.street,
        postcode=posting.postcode,
        city=posting.city,
        district=district_name,
        latitude=posting.latitude,
        longitude=posting.longitude,
        start_date=posting.start_date,
        end_date=posting.end_date,
        spots=posting.spots,
        languages=posting.language_list,
        fields=of(ClassificationKind.field),
        methods=of(ClassificationKind.method),
        features=of(ClassificationKind.feature),
        keywords=posting.keyword_list,
        contact_name=posting.contact_name,
        contact_phone=posting.contact_phone,
        contact_email=posting.contact_email,
        website=posting.website,
        image_url=path_for(request, "tet_posting_image", posting_id=posting_id)
        if posting.image_name
        else None,
        photographer=posting.photographer,
        url=path_for(request, "tet_posting", posting_id=posting_id),
    )


def _page_url(request: Request, key_name: str, key: str) -> str:
    """This request's URL with another page key (the other parameters as they came)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "before")]
    return f"{request.url.path}?{urlencode([*pairs, (key_name, key)])}"


@router.get(
    "/postings",
    name="api_tet_postings",
    response_model=SearchOut,
    dependencies=[limited(RATE_LIMIT_ACTION)],
    summary="Search TET postings",
    responses=ERRORS,
)
def postings(
    request: Request,
    db: SessionDep,
    q: Annotated[
        str | None,
        Query(
            description="Free text: each word (or its beginning) must appear in the title, "
            "description, organisation, unit or keywords. At most 200 characters.",
        ),
    ] = None,
    field: Annotated[
        list[str],
        Query(
            description="Field of work codes (repeat the parameter for several); a posting "
            "matches if it has any of them. See /api/v1/tet/classifications."
        ),
    ] = [],  # noqa: B006 - FastAPI copies the default
    method: Annotated[
        list[str],
        Query(description="Work method codes (what kind of TET); any of them matches."),
    ] = [],  # noqa: B006
    feature: Annotated[
        list[str],
        Query(description="Work feature codes; a posting must have all of them."),
    ] = [],  # noqa: B006
    start: Annotated[
        date | None,
        Query(description="Open on or after this date (ISO 8601, e.g. 2027-03-01)."),
    ] = None,
    end: Annotated[
        date | None,
        Query(description="Starting on or before this date: with `start`, open during the range."),
    ] = None,
    language_: Annotated[
        Lang | None,
        Query(alias="language", description="A language used at the TET place."),
    ] = None,
    area: Annotated[
        str | None,
        Query(
            description="A district code (southern, western, central, northern, "
            "north_eastern, south_eastern, eastern, ostersundom) or a 5-digit postcode."
        ),
    ] = None,
    sort: Annotated[
        Literal["start", "match"] | None,
        Query(
            description="`start`: by start date. `match`: most matching fields of work and "
            "work methods first (the default when any are given)."
        ),
    ] = None,
    after: Annotated[
        str | None,
        Query(description="Page key from `next`: the page after it. Use the `next` URL."),
    ] = None,
    before: Annotated[
        str | None,
        Query(description="Page key from `previous`: the page before it."),
    ] = None,
    lang: LangQuery = "fi",
) -> SearchOut:
    """Published TET postings that have not ended, 20 a page, with the same filters as the
    pupils' search page /tet. `count` is counted up to 1 000: 1 001 means more than 1 000.
    `next` and `previous` are the URLs of the neighbouring pages (null at either end)."""
    raw: dict[str, Any] = {
        "q": q,
        "field": field,
        "method": method,
        "feature": feature,
        "start": start,
        "end": end,
        "language": language_,
        "area": area,
        "sort": sort,
        "after": after,
        "before": before,
    }
    # One query for every classification: the codes to check and the results' names.
    all_classes = repository.classifications(db, include_retired=True)
    active = [c for c in all_classes if c.retired_at is None]
    try:
        query = SearchIn.model_validate({k: v for k, v in raw.items() if v not in (None, "")})
        criteria = service.criteria_for(db, query, active=active)
    except ValidationError as exc:
        raise ValidationFailed(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        ) from None
    except service.UnknownFilter as exc:
        raise ValidationFailed(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors]
        ) from None
    broken = [
        {"loc": ("query", name), "type": "page_key", "msg": "", "input": text}
        for name in ("after", "before")
        if (text := getattr(query, name))
        and repository.Key.decode(text, by_match=criteria.by_match) is None
    ]
    if broken:
        raise ValidationFailed(broken)
    today = service.today()
    page = service.search(db, criteria=criteria, query=query, today=today, all_classes=all_classes)
    results = page.results
    return SearchOut(
        count=page.total,
        items=[
            posting_out(request, posting, page.classifications.get(posting.id or 0, []), lang)
            for posting in results.items
        ],
        next=_page_url(request, "after", results.next_key.encode()) if results.next_key else None,
        previous=_page_url(request, "before", results.previous_key.encode())
        if results.previous_key
        else None,
    )


@router.get(
    "/postings/{posting_id}",
    name="api_tet_posting",
    response_model=PostingOut,
    summary="One TET posting",
    responses={404: {"description": "No published, current posting has this id."}},
)
def posting(
    request: Request,
    db: SessionDep,
    posting_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    lang: LangQuery = "fi",
) -> PostingOut:
    """A published posting that has not ended; a draft or an ended one answers 404."""
    found = service.published_posting(db, posting_id, service.today())
    if found.id is None:  # pragma: no cover - a stored row has an id
        raise NotFound()
    classes = repository.classifications_of(db, [found.id])[found.id]
    return posting_out(request, found, classes, lang)


@router.get(
    "/classifications",
    name="api_tet_classifications",
    response_model=list[ClassificationOut],
    summary="TET classifications",
)
def classifications(db: SessionDep, lang: LangQuery = "fi") -> list[ClassificationOut]:
    """The values in use, in the order the search shows them: fields of work (`field`), work
    methods (`method`, what kind of TET) and work features (`feature`). Their codes are the
    search's `field`, `method` and `feature` values."""
    return [_classification(row, lang) for row in repository.classifications(db)]
