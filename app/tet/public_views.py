"""The pupils' TET search (fi/sv/en, no login; #6 parts 3 and 5, T27–T35 without the map).

    GET /tet                        the search: a text box and every filter at once, the results
    GET /tet/postings/{id}          a published posting, with a link back to the same results
    GET /tet/postings/{id}/image    its image

The search is a GET form, so every filter is in the URL and paging works without JavaScript.
The page reads `SearchIn`, the same query the JSON API reads (app/tet/api.py). A value that is
not valid (an unknown or retired classification, a bad date, an end before the start, an
unknown area, an overlong text, a broken page link) is left out: the page answers 400 with an
error summary and the message at its field, and shows the results of the rest of the search.

Queries per search: the classifications (for the form, the codes and the results' tags), one
page of results, and, unless the first page is the whole result, one capped count. Only with
fewer than five results come a few more counts, to suggest a wider search (T35).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from app.deps import SessionDep
from app.errors import NotFound
from app.forms import error_loc, error_message, field_name
from app.i18n import N_, current_language, gettext
from app.ratelimit import limited
from app.security import Anonymous, safe_local_path
from app.templating import path_for, render
from app.tet import repository, service
from app.tet.districts import BY_CODE as DISTRICT_BY_CODE
from app.tet.districts import BY_POSTCODE, DISTRICTS
from app.tet.models import TetClassification, TetPosting
from app.tet.repository import Criteria, Key
from app.tet.schemas import SearchIn

# Counted per client over the page and the JSON API together (RATE_LIMITS in app/config.py).
RATE_LIMIT_ACTION = "tet_search"
SEARCH_PATH = "/tet"

router = APIRouter(prefix=SEARCH_PATH, dependencies=[Anonymous], include_in_schema=False)

KINDS = ("field", "method", "feature")
SCALARS = ("q", "start", "end", "language", "area", "sort", "after", "before")
FEW_RESULTS = 5  # fewer: suggest a wider search
MAX_RELAXATIONS = 8  # filters tried (a count each) when suggesting a wider search
MAX_LIST = 20  # SearchIn's limit of each classification list
MAX_ID = 2**31 - 1
MAX_BACK = 2000
_ID = re.compile(r"[0-9]{1,10}")

# Left out when each word of a query is offered on its own (Finnish, Swedish, English).
LANGUAGE_NAMES = {"fi": N_("Finnish"), "sv": N_("Swedish"), "en": N_("English")}
LABELS = {
    "q": N_("Search words"),
    "field": N_("Field of work"),
    "method": N_("What kind of TET?"),
    "feature": N_("Work features"),
    "start": N_("From"),
    "end": N_("To"),
    "language": N_("Language"),
    "area": N_("Area"),
    "postcode": N_("Postcode"),
    "sort": N_("Order"),
    "after": N_("Page"),
}
NO_LONGER_OFFERED = N_("A choice in the link is no longer offered and was left out of the search.")
BAD_PAGE_LINK = N_("The page link was not valid, so the first page is shown.")
# Where each field's message sits on the page (the error summary links there).
ANCHORS = {
    "field": "f-field",
    "method": "f-method",
    "feature": "f-feature",
    "sort": "results",
    "after": "results",
}


# --- Reading the query --------------------------------------------------------------------------


@dataclass
class Parsed:
    """A search from the URL: what is valid of it, and a message per field left out."""

    query: SearchIn
    criteria: Criteria
    values: dict[str, Any]  # as typed, for the form
    errors: dict[str, str]
    postcode_typed: bool  # the area came from the postcode box


def _raw(params: QueryParams) -> tuple[dict[str, Any], bool]:
    """The query string in SearchIn's shape: blanks dropped, repeated classification keys a
    list; the postcode box, when filled in, gives the area."""
    data: dict[str, Any] = {}
    for name in KINDS:
        items = [value.strip() for value in params.getlist(name)]
        items = [value for value in items if value]
        if items:
            data[name] = items
    for name in SCALARS:
        value = (params.get(name) or "").strip()
        if value:
            data[name] = value
    postcode = (params.get("postcode") or "").strip()
    if postcode:
        data["area"] = postcode
    return data, bool(postcode)


def _problem_message(name: str, problem: dict[str, Any]) -> str:
    if name in KINDS and problem.get("type") in ("classification", "list_type"):
        return gettext(NO_LONGER_OFFERED)
    if name in ("after", "before"):
        return gettext(BAD_PAGE_LINK)
    return error_message(problem)


def parse(db: SessionDep, params: QueryParams, active: list[TetClassification]) -> Parsed:
    data, postcode_typed = _raw(params)
    values = dict(data)
    errors: dict[str, str] = {}
    known = {kind: {c.code for c in active if c.kind == kind} for kind in KINDS}
    # Each round leaves out at least one value, so this ends.
    for _round in range(len(KINDS) + len(SCALARS) + 1):
        try:
            query = SearchIn.model_validate(data)
            criteria = service.criteria_for(db, query, active=active)
        except ValidationError as exc:
            problems: Sequence[dict[str, Any]] = [dict(error) for error in exc.errors()]
        except service.UnknownFilter as exc:
            problems = exc.errors
        else:
            break
        changed = False
        for problem in problems:
            name = field_name(error_loc(problem))
            shown = "postcode" if name == "area" and postcode_typed else name
            errors.setdefault(
                "after" if shown == "before" else shown, _problem_message(name, problem)
            )
            if name in KINDS and isinstance(data.get(name), list):
                kept = list(dict.fromkeys(v for v in data[name] if v in known[name]))[:MAX_LIST]
                if kept != data[name]:
                    data[name] = kept
                    changed = True
                    continue
            if name in data:
                data.pop(name)
                changed = True
        if not changed:
            data = {}
    else:  # pragma: no cover - every round removes something
        query = SearchIn()
        criteria = service.criteria_for(db, query, active=active)
    for name in ("after", "before"):
        text = getattr(query, name)
        if text and Key.decode(text, by_match=criteria.by_match) is None:
            errors.setdefault("after", gettext(BAD_PAGE_LINK))
            query = query.model_copy(update={name: None})
    return Parsed(query, criteria, values, errors, postcode_typed)


# --- Links ------------------------------------------------------------------------------------


def search_pairs(query: SearchIn) -> list[tuple[str, str]]:
    """The search as query-string pairs in a fixed order, without the page key."""
    pairs: list[tuple[str, str]] = []
    if query.q:
        pairs.append(("q", query.q))
    for name in KINDS:
        pairs.extend((name, code) for code in getattr(query, name))
    if query.start:
        pairs.append(("start", query.start.isoformat()))
    if query.end:
        pairs.append(("end", query.end.isoformat()))
    if query.language:
        pairs.append(("language", query.language))
    if query.area:
        pairs.append(("area", query.area))
    if query.sort:
        pairs.append(("sort", query.sort))
    return pairs


def search_href(pairs: Iterable[tuple[str, str]]) -> str:
    text = urlencode(list(pairs))
    return f"{SEARCH_PATH}?{text}" if text else SEARCH_PATH


def _without(pairs: list[tuple[str, str]], *drop: tuple[str, str | None]) -> list[tuple[str, str]]:
    """The pairs without those named: (name, value) drops one value, (name, None) them all."""

    def dropped(pair: tuple[str, str]) -> bool:
        return any(pair[0] == name and value in (None, pair[1]) for name, value in drop)

    return [pair for pair in pairs if not dropped(pair)]


def back_target(back: str | None) -> str | None:
    """The search a detail page was opened from: a path of this site's search, nothing else."""
    if not back or len(back) > MAX_BACK:
        return None
    target = safe_local_path(back, default="")
    if target == SEARCH_PATH or target.startswith(SEARCH_PATH + "?"):
        return target
    return None


# --- Tags and suggestions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    """An active filter, with the search without it."""

    label: str
    href: str


@dataclass(frozen=True)
class Suggestion:
    label: str
    href: str
    count: int


@dataclass(frozen=True)
class Relaxation:
    label: str
    href: str
    criteria: Criteria


def area_label(area: str) -> str:
    district = DISTRICT_BY_CODE.get(area)
    if district is not None:
        return gettext(district.name)
    return gettext(N_("Postcode %(postcode)s")) % {"postcode": area}


def _names(codes: Iterable[str], by_code: dict[str, TetClassification], lang: str) -> list[str]:
    return [by_code[code].name(lang) if code in by_code else code for code in codes]


def tags_and_relaxations(
    query: SearchIn, criteria: Criteria, by_code: dict[str, TetClassification], lang: str
) -> tuple[list[Tag], list[Relaxation]]:
    """A removable tag per filter value, and each way to widen the search by one filter: a text,
    a whole group of fields of work or work methods (any of them matches, so dropping one never
    finds more), a work feature, a date, the language or the area."""
    pairs = search_pairs(query)
    tags: list[Tag] = []
    wider: list[Relaxation] = []
    replace = dataclasses.replace
    if query.q:
        label = gettext(N_("“%(text)s”")) % {"text": query.q}
        href = search_href(_without(pairs, ("q", None)))
        tags.append(Tag(label, href))
        if criteria.words:
            wider.append(Relaxation(label, href, replace(criteria, words=[])))
    for kind in ("field", "method"):
        codes: list[str] = getattr(query, kind)
        for code, name in zip(codes, _names(codes, by_code, lang), strict=True):
            tags.append(Tag(name, search_href(_without(pairs, (kind, code)))))
        if codes:
            wider.append(
                Relaxation(
                    ", ".join(_names(codes, by_code, lang)),
                    search_href(_without(pairs, (kind, None))),
                    replace(criteria, **{f"{kind}s": []}),
                )
            )
    for code, tag in zip(query.feature, criteria.features, strict=True):
        name = _names([code], by_code, lang)[0]
        href = search_href(_without(pairs, ("feature", code)))
        tags.append(Tag(name, href))
        wider.append(
            Relaxation(
                name, href, replace(criteria, features=[t for t in criteria.features if t != tag])
            )
        )
    if query.start:
        label = gettext(N_("From %(date)s")) % {"date": day(query.start)}
        href = search_href(_without(pairs, ("start", None)))
        tags.append(Tag(label, href))
        wider.append(Relaxation(label, href, replace(criteria, start=None)))
    if query.end:
        label = gettext(N_("Until %(date)s")) % {"date": day(query.end)}
        href = search_href(_without(pairs, ("end", None)))
        tags.append(Tag(label, href))
        wider.append(Relaxation(label, href, replace(criteria, end=None)))
    if query.language:
        label = gettext(N_("Language: %(language)s")) % {
            "language": gettext(LANGUAGE_NAMES[query.language])
        }
        href = search_href(_without(pairs, ("language", None)))
        tags.append(Tag(label, href))
        wider.append(Relaxation(label, href, replace(criteria, language=None)))
    if query.area:
        label = area_label(query.area)
        href = search_href(_without(pairs, ("area", None)))
        tags.append(Tag(label, href))
        wider.append(Relaxation(label, href, replace(criteria, postcodes=None)))
    return tags, wider


def widest(db: SessionDep, wider: list[Relaxation], total: int, today: date) -> Suggestion | None:
    """The one filter whose removal finds the most postings, if that finds more."""
    best: Suggestion | None = None
    for option in wider[:MAX_RELAXATIONS]:
        found = service.count(db, option.criteria, today)
        if found > total and (best is None or found > best.count):
            best = Suggestion(option.label, option.href, found)
    return best


def single_words(
    db: SessionDep, query: SearchIn, criteria: Criteria, today: date
) -> list[Suggestion]:
    """Each word of a query of several words on its own (stop words left out), with the other
    filters kept, if it finds anything."""
    words = list(dict.fromkeys(w for w in criteria.words if w not in repository.STOP_WORDS))
    if len(words) < 2:
        return []
    pairs = _without(search_pairs(query), ("q", None))
    found: list[Suggestion] = []
    for word in words:
        count = service.count(db, dataclasses.replace(criteria, words=[word]), today)
        if count:
            found.append(Suggestion(word, search_href([("q", word), *pairs]), count))
    return found


# --- Result cards ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One result as the card shows it, built in Python once per page: a card is a row of
    plain values for the template (autoescaped there), with no macro or filter work per card."""

    id: int
    href: str
    title: str
    organisation: str
    dates: str
    area: str
    spots: int
    languages: str
    matched: list[tuple[str, str]]  # (kind, name) of the chosen interests it has
    others: list[tuple[str, str]]  # its other fields of work and work methods


def day(value: date) -> str:
    """24.11.2026, as the `date` filter writes it in every language (without Babel's cost)."""
    return "%d.%d.%04d" % (value.day, value.month, value.year)  # noqa: UP031


def dates_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"{day(start)} – {day(end)}"
    if start:
        return gettext(N_("From %(date)s, ongoing")) % {"date": day(start)}
    if end:
        return gettext(N_("Until %(date)s")) % {"date": day(end)}
    return gettext(N_("Dates not given yet"))


def cards_of(
    postings: list[TetPosting],
    classes: dict[int, list[TetClassification]],
    *,
    chosen: set[str],
    back_query: str,
    lang: str,
) -> list[Card]:
    languages = {code: gettext(name) for code, name in LANGUAGE_NAMES.items()}
    districts = {d.code: gettext(d.name) for d in DISTRICTS}
    found: list[Card] = []
    for posting in postings:
        posting_id = posting.id or 0
        its = classes.get(posting_id, [])
        district = BY_POSTCODE.get(posting.postcode)
        place = f"{posting.postcode} {posting.city}"
        found.append(
            Card(
                id=posting_id,
                href=f"{SEARCH_PATH}/postings/{posting_id}?{back_query}",
                title=posting.title,
                organisation=", ".join(filter(None, (posting.organisation_name, posting.org_unit))),
                dates=dates_text(posting.start_date, posting.end_date),
                area=f"{districts[district.code]}, {place}" if district else place,
                spots=posting.spots,
                languages=", ".join(languages.get(c, c) for c in posting.language_list),
                matched=[(c.kind, c.name(lang)) for c in its if c.code in chosen],
                others=[
                    (c.kind, c.name(lang))
                    for c in its
                    if c.code not in chosen and c.kind != "feature"
                ],
            )
        )
    return found


# --- Pages -----------------------------------------------------------------------------------------


def labels() -> dict[str, str]:
    return {name: gettext(label) for name, label in LABELS.items()}


def _form_values(parsed: Parsed) -> dict[str, Any]:
    """The form as the user filled it in: typed text back, the chosen boxes ticked."""
    values = parsed.values
    area = str(values.get("area") or "")
    in_list = area in DISTRICT_BY_CODE
    return {
        "q": values.get("q", ""),
        "field": set(values.get("field", [])),
        "method": set(values.get("method", [])),
        "feature": set(values.get("feature", [])),
        "start": values.get("start", ""),
        "end": values.get("end", ""),
        "language": values.get("language", ""),
        "area": area if in_list else "",
        "postcode": "" if in_list else area,
        "sort": parsed.query.sort or "",
    }


@router.get("", name="tet_search", dependencies=[limited(RATE_LIMIT_ACTION)])
def search(request: Request, db: SessionDep) -> Response:
    """The search page: the form, the active filters as tags, a page of results, paging by key,
    the order (when interests are chosen) and, with few results, ways to find more."""
    lang = current_language()
    today = service.today()
    all_classes = repository.classifications(db, include_retired=True)
    active = [c for c in all_classes if c.retired_at is None]
    parsed = parse(db, request.query_params, active)
    query, criteria = parsed.query, parsed.criteria
    page = service.search(db, criteria=criteria, query=query, today=today, all_classes=all_classes)
    results = page.results
    by_code = {c.code: c for c in all_classes}
    tags, wider = tags_and_relaxations(query, criteria, by_code, lang)
    pairs = search_pairs(query)

    suggestion: Suggestion | None = None
    words: list[Suggestion] = []
    if page.total < FEW_RESULTS and not results.previous_key and not query.after:
        suggestion = widest(db, wider, page.total, today)
        words = single_words(db, query, criteria, today)

    here = pairs + [
        (name, value) for name in ("after", "before") if (value := getattr(query, name))
    ]
    back = urlencode({"back": search_href(here)})
    interests = bool(query.interests)
    sort_pairs = _without(pairs, ("sort", None))
    chosen = set(query.field) | set(query.method) | set(query.feature)
    context = {
        "values": _form_values(parsed),
        "errors": parsed.errors,
        "anchors": {name: ANCHORS.get(name, f"f-{name}") for name in parsed.errors},
        "labels": labels(),
        "kinds": {kind: [c for c in active if c.kind == kind] for kind in KINDS},
        "districts": [(d.code, gettext(d.name)) for d in DISTRICTS],
        "language_names": {code: gettext(name) for code, name in LANGUAGE_NAMES.items()},
        "cards": cards_of(
            results.items, page.classifications, chosen=chosen, back_query=back, lang=lang
        ),
        "total": page.total,
        "over_cap": page.over_cap,
        "cap": repository.COUNT_CAP,
        "tags": tags,
        "clear_href": SEARCH_PATH,
        "next_href": search_href([*pairs, ("after", results.next_key.encode())])
        if results.next_key
        else None,
        "previous_href": search_href([*pairs, ("before", results.previous_key.encode())])
        if results.previous_key
        else None,
        "sort": ("match" if criteria.by_match else "start") if interests else None,
        "sort_hrefs": {
            "start": search_href([*sort_pairs, ("sort", "start")]),
            "match": search_href([*sort_pairs, ("sort", "match")]),
        },
        "suggestion": suggestion,
        "word_suggestions": words,
    }
    return render(request, "tet/search.html", context, status_code=400 if parsed.errors else 200)


def _published(db: SessionDep, posting_id: str) -> TetPosting:
    """A published posting that has not ended, by the path's id; anything else is 404."""
    if not _ID.fullmatch(posting_id) or not 0 < int(posting_id) <= MAX_ID:
        raise NotFound()
    return service.published_posting(db, int(posting_id), service.today())


def image_path(request: Request, posting: TetPosting) -> str | None:
    if not posting.image_name:
        return None
    return path_for(request, "tet_posting_image", posting_id=str(posting.id))


@router.get("/postings/{posting_id}", name="tet_posting")
def detail(request: Request, db: SessionDep, posting_id: str, back: str | None = None) -> Response:
    """Everything a pupil needs to get in touch: what, when, where, who; and back to the same
    results when the page was opened from them."""
    posting = _published(db, posting_id)
    district = service.district_name(posting.postcode)
    return render(
        request,
        "tet/detail.html",
        {
            "posting": posting,
            "classes": repository.classifications_of(db, [posting.id or 0])[posting.id or 0],
            "image_url": image_path(request, posting),
            "district": gettext(district) if district else None,
            "back": back_target(back),
        },
    )


@router.get("/postings/{posting_id}/image", name="tet_posting_image")
def image(request: Request, db: SessionDep, posting_id: str) -> Response:
    """The image of a published posting; cached a few minutes by browsers and proxies."""
    posting = _published(db, posting_id)
    content, media_type = service.image_bytes(posting, store=request.app.state.file_store)
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "public, max-age=300"}
    )
