"""The pupils' TET search page through HTTP (#6 part 3, T27–T35): every filter from the URL,
removable tags and "clear all", the count, paging by key without JavaScript, the order,
suggestions for few results, invalid values (a message, never a 500), the rate limit and the
Swedish name of the programme."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.config import Settings
from app.db import utcnow
from app.deps import get_session
from app.main import create_app
from app.tet import service
from app.tet.models import TetClassification
from tests.tet.factories import make_posting

TODAY = service.today()
EN = {"Accept-Language": "en"}


# --- Reading the page -----------------------------------------------------------------------------


def get(client: TestClient, url: str, language: str = "en") -> tuple[int, str]:
    answer = client.get(url, headers={"Accept-Language": language})
    return answer.status_code, answer.text


def titles(page: str) -> list[str]:
    """The result cards' titles, in order."""
    return [
        html.unescape(t)
        for t in re.findall(r'class="tet-card__link" href="[^"]*">([^<]*)</a>', page)
    ]


def count_of(page: str) -> int:
    match = re.search(r'data-count="(\d+)"', page)
    assert match, "no count heading"
    return int(match.group(1))


def links(page: str, css_class: str) -> list[tuple[str, str]]:
    """(href, text) of the links with this class (the text without markup)."""
    found = re.findall(
        rf'<a class="[^"]*\b{re.escape(css_class)}\b[^"]*" href="([^"]*)"[^>]*>(.*?)</a>',
        page,
        flags=re.S,
    )
    return [
        (html.unescape(href), html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
        for href, text in found
    ]


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'href="([^"]*)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


def query_of(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href.split("#")[0]).query)


def error_summary(page: str) -> str:
    match = re.search(r'<div class="hds-error-summary.*?</ul>', page, flags=re.S)
    return html.unescape(match.group(0)) if match else ""


# --- The page and its filters ------------------------------------------------------------------------


def test_the_page_shows_the_form_and_cards_with_what_pupils_need(
    client: TestClient, db: Session
) -> None:
    make_posting(
        db,
        title="Kassatyö",
        org_unit="Kallion myymälä",
        postcode="00530",
        languages=["fi", "en"],
        spots=3,
        end_date=None,
    )
    status, page = get(client, "/tet")
    assert status == 200
    assert "<h1>Find a TET place</h1>" in page
    for name in ('name="q"', 'name="field"', 'name="method"', 'name="feature"'):
        assert name in page
    assert 'name="start" type="date"' in page
    assert 'name="end" type="date"' in page
    assert 'name="language"' in page
    assert 'name="area"' in page
    assert 'name="postcode"' in page
    assert count_of(page) == 1
    assert ">1 TET posting</h2>" in page
    assert 'aria-live="polite"' in page
    assert titles(page) == ["Kassatyö"]
    card = page[page.index('class="tet-card"') :]
    assert "Kahvila Esimerkki Oy, Kallion myymälä" in card
    assert "Central Helsinki, 00530 Helsinki" in card
    assert f"From {(TODAY + timedelta(days=7)).day}." in card
    assert "ongoing" in card
    assert "<dd>3</dd>" in card
    assert "Finnish, English" in card
    assert "Retail and sales" in card
    assert "Doing real work" in card


def test_each_filter_from_the_url(client: TestClient, db: Session) -> None:
    make_posting(
        db,
        title="Kauppa",
        fields=["retail"],
        methods=["real_work"],
        features=["customers", "teamwork"],
        languages=["fi"],
        postcode="00530",
        start_date=date(2027, 3, 1),
        end_date=date(2027, 3, 31),
        keywords=["kassa"],
    )
    make_posting(
        db,
        title="Koodari",
        fields=["ict"],
        methods=["shadowing"],
        features=["computer", "teamwork"],
        languages=["sv", "en"],
        postcode="00980",
        start_date=date(2027, 5, 1),
        end_date=None,
        description="Ohjelmointia tiimissä.",
        keywords=[],
    )
    cases = {
        "q=kassa": ["Kauppa"],
        "q=ohjelmoint": ["Koodari"],
        "q=Kahvila": ["Kauppa", "Koodari"],  # the organisation's name
        "field=retail": ["Kauppa"],
        "field=retail&field=ict": ["Kauppa", "Koodari"],
        "method=shadowing": ["Koodari"],
        "feature=teamwork": ["Kauppa", "Koodari"],
        "feature=teamwork&feature=computer": ["Koodari"],
        "start=2027-04-01": ["Koodari"],
        "start=2027-03-15&end=2027-03-20": ["Kauppa"],
        "end=2027-04-15": ["Kauppa"],
        "language=sv": ["Koodari"],
        "area=central": ["Kauppa"],
        "area=eastern": ["Koodari"],
        "area=00980": ["Koodari"],
        "postcode=00530": ["Kauppa"],
        "area=eastern&postcode=00530": ["Kauppa"],  # the typed postcode wins
        "field=ict&language=fi": [],
    }
    for query, expected in cases.items():
        status, page = get(client, f"/tet?{query}")
        assert status == 200, (query, error_summary(page))
        assert sorted(titles(page)) == expected, query
        assert count_of(page) == len(expected), query


def test_the_form_keeps_the_search(client: TestClient, db: Session) -> None:
    make_posting(db)
    _, page = get(
        client,
        "/tet?q=kassa&field=retail&method=real_work&feature=customers&start=2027-01-02"
        "&end=2027-02-03&language=fi&area=central",
    )
    assert 'name="q" type="search" class="hds-text-input__input" value="kassa"' in page
    for box in ("f-field-retail", "f-method-real_work", "f-feature-customers"):
        assert re.search(rf'id="{box}"[^>]* checked', page), box
    assert 'value="2027-01-02"' in page
    assert 'value="2027-02-03"' in page
    assert '<option value="fi" selected>' in page
    assert '<option value="central" selected>' in page
    _, page = get(client, "/tet?area=00980")
    assert 'id="f-postcode"' in page
    assert 'value="00980"' in page


def test_drafts_and_ended_postings_never_show(client: TestClient, db: Session) -> None:
    make_posting(db, title="draft", publish=False)
    make_posting(
        db, title="ended", start_date=TODAY - timedelta(days=9), end_date=TODAY - timedelta(days=1)
    )
    make_posting(db, title="last day", start_date=TODAY - timedelta(days=9), end_date=TODAY)
    assert titles(get(client, "/tet")[1]) == ["last day"]
    assert titles(get(client, "/tet?q=draft")[1]) == []
    assert titles(get(client, "/tet?q=ended")[1]) == []


# --- Tags, clear all --------------------------------------------------------------------------------


def test_every_filter_is_a_tag_whose_link_removes_only_it(client: TestClient, db: Session) -> None:
    make_posting(db)
    url = (
        "/tet?q=kassa&field=retail&field=ict&feature=customers&start=2027-01-02&end=2027-02-03"
        "&language=sv&area=central"
    )
    _, page = get(client, url)
    everything = query_of(url)
    tags = links(page, "tet-remove")
    labels = [text.removesuffix("✕").replace("– remove", "").strip() for _, text in tags]
    assert labels == [
        "“kassa”",
        "Retail and sales",
        "ICT",
        "With customers",
        "From 2.1.2027",
        "Until 3.2.2027",
        "Language: Swedish",
        "Central Helsinki",
    ]
    for (href, _), removed in zip(tags, everything, strict=True):
        assert href.endswith("#results")
        assert query_of(href) == [pair for pair in everything if pair != removed], removed
    assert links(page, "tet-clear") == [("/tet", "Clear all")]


def test_no_tags_without_filters(client: TestClient, db: Session) -> None:
    make_posting(db)
    _, page = get(client, "/tet")
    assert links(page, "tet-remove") == []
    assert links(page, "tet-clear") == []


# --- Paging and order ------------------------------------------------------------------------------


def test_pages_of_twenty_by_links_that_keep_the_search(client: TestClient, db: Session) -> None:
    for day in range(45):
        make_posting(db, title=f"p{day:02}", start_date=TODAY + timedelta(days=day))
    make_posting(db, title="other", fields=["ict"], start_date=TODAY)
    _, first = get(client, "/tet?field=retail&language=fi")
    assert count_of(first) == 45
    assert titles(first) == [f"p{d:02}" for d in range(20)]
    assert link(first, "prev") is None
    nxt = link(first, "next")
    assert nxt is not None
    assert ("field", "retail") in query_of(nxt)
    assert ("language", "fi") in query_of(nxt)
    _, second = get(client, nxt)
    assert titles(second) == [f"p{d:02}" for d in range(20, 40)]
    assert count_of(second) == 45
    _, third = get(client, link(second, "next") or "")
    assert titles(third) == [f"p{d:02}" for d in range(40, 45)]
    assert link(third, "next") is None
    _, back = get(client, link(third, "prev") or "")
    assert titles(back) == [f"p{d:02}" for d in range(20, 40)]
    _, again = get(client, link(back, "prev") or "")
    assert titles(again) == [f"p{d:02}" for d in range(20)]
    assert link(again, "prev") is None


def test_most_matching_interests_first_and_the_choice_of_order(
    client: TestClient, db: Session
) -> None:
    make_posting(db, title="one", fields=["ict"], methods=["real_work"], start_date=TODAY)
    make_posting(
        db,
        title="two",
        fields=["ict", "offices"],
        methods=["shadowing"],
        start_date=TODAY + timedelta(days=3),
    )
    _, page = get(client, "/tet?field=ict&field=offices&method=shadowing&method=real_work")
    assert titles(page) == ["two", "one"]
    orders = {text: href for href, text in links(page, "tet-sort__link")}
    assert set(orders) == {"Most matching interests first", "By start date"}
    assert re.search(r'aria-current="true">Most matching interests first', page)
    _, by_start = get(client, orders["By start date"])
    assert titles(by_start) == ["one", "two"]
    assert re.search(r'aria-current="true">By start date', by_start)
    assert 'name="sort" value="start"' in by_start  # the next search keeps the order
    # Without interests there is nothing to match: no choice of order.
    _, plain = get(client, "/tet?q=one")
    assert links(plain, "tet-sort__link") == []


def test_matching_interests_are_shown_on_the_card(client: TestClient, db: Session) -> None:
    make_posting(db, title="one", fields=["ict"], features=["computer", "teamwork"])
    _, page = get(client, "/tet?field=ict&feature=computer")
    card = page[page.index('class="tet-card"') :]
    matches = card[card.index("Matches your choices:") :]
    assert re.search(r"tet-tag--match[^>]*>.*ICT", matches)
    assert re.search(r"tet-tag--match[^>]*>.*Computer work", matches)
    assert "Teamwork" not in card  # features are shown when they match


def test_paging_ordered_by_match_without_interests_moves_on(
    client: TestClient, db: Session
) -> None:
    """sort=match with no interests chosen is the start-date order, and its pages go on."""
    for day in range(25):
        make_posting(db, title=f"p{day:02}", start_date=TODAY + timedelta(days=day))
    _, first = get(client, "/tet?sort=match")
    _, second = get(client, link(first, "next") or "")
    assert titles(second) == [f"p{d:02}" for d in range(20, 25)]


# --- Few results ----------------------------------------------------------------------------------


def test_few_results_suggest_dropping_the_narrowest_filter(client: TestClient, db: Session) -> None:
    for number in range(6):
        make_posting(db, title=f"shop {number}", languages=["fi"], features=["customers"])
    make_posting(db, title="swedish shop", languages=["sv"], features=["customers"])
    _, page = get(client, "/tet?language=sv&feature=customers")
    assert count_of(page) == 1
    assert "Only a few TET places matched your search." in page
    suggestion = page[page.index("Try without this choice:") :]
    href, label = links(suggestion, "hds-link")[0]
    assert label == "Language: Swedish"
    assert query_of(href) == [("feature", "customers")]
    assert "(7 TET postings)" in suggestion


def test_a_query_of_several_words_offers_each_word_alone(client: TestClient, db: Session) -> None:
    make_posting(db, title="Leipomo", keywords=["leivonta"])
    make_posting(db, title="Kondiittori", keywords=["kakut"])
    make_posting(db, title="Leipomo ja kondiittori")
    _, page = get(client, "/tet?q=leipomo+ja+kondiittori&language=fi")
    assert count_of(page) == 1
    words = page[page.index("Or search for one word at a time:") :]
    offered = links(words, "hds-link")
    assert [label for _, label in offered] == ["leipomo", "kondiittori"]  # no stop words
    assert query_of(offered[0][0]) == [("q", "leipomo"), ("language", "fi")]
    assert "(2 TET postings)" in words


def test_no_results_at_all(client: TestClient, db: Session) -> None:
    make_posting(db, title="Kauppa")
    _, page = get(client, "/tet?q=zzzz")
    assert count_of(page) == 0
    assert "No TET places matched your search." in page
    assert "Try without this choice:" in page
    _, empty = get(client, "/tet?area=ostersundom")
    assert "Try without this choice:" in empty


# --- Invalid values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("field=nonexistent", "Field of work", "no longer offered"),
        ("method=retail", "What kind of TET?", "no longer offered"),  # a field of work as method
        ("feature=BAD%20CODE", "Work features", "no longer offered"),
        ("start=2027-13-01", "From", "Enter a date"),
        ("end=tomorrow", "To", "Enter a date"),
        ("start=2027-05-01&end=2027-04-01", "To", "Enter an end date that is on or after"),
        ("area=atlantis", "Area", "Choose an area from the list or enter a postcode"),
        ("postcode=123", "Postcode", "Choose an area from the list or enter a postcode"),
        ("q=" + "x" * 201, "Search words", "Use at most 200 characters."),
        ("language=de", "Language", "Choose one of the options."),
        ("sort=random", "Order", "Choose one of the options."),
        ("after=garbage", "Page", "The page link was not valid"),
        ("before=1.2.3", "Page", "The page link was not valid"),
        ("after=2027-01-01.99999999999999999999999", "Page", "The page link was not valid"),
        ("field=retail&after=99999999999999999999.2027-01-01.1", "Page", "not valid"),
    ],
)
def test_an_invalid_value_gives_the_page_with_a_message(
    client: TestClient, db: Session, query: str, field: str, message: str
) -> None:
    make_posting(db, title="Kauppa", fields=["retail"])
    status, page = get(client, f"/tet?{query}&q2=ignored")
    assert status == 400
    summary = error_summary(page)
    assert f"{field}: " in summary, summary
    assert message in summary, summary
    assert 'class="hds-text-input__error-text' in page
    assert count_of(page) in (0, 1)  # the rest of the search still runs
    assert "<h1>Find a TET place</h1>" in page


def test_the_valid_rest_of_the_search_still_runs(client: TestClient, db: Session) -> None:
    make_posting(db, title="Kauppa", fields=["retail"], languages=["fi"])
    make_posting(db, title="Koodari", fields=["ict"], languages=["fi"])
    status, page = get(client, "/tet?field=retail&field=bogus&language=fi&start=nope")
    assert status == 400
    assert titles(page) == ["Kauppa"]
    assert re.search(r'id="f-field-retail"[^>]* checked', page)
    # The tags and the links carry only what was valid.
    assert [query_of(href) for href, _ in links(page, "tet-remove")] == [
        [("language", "fi")],
        [("field", "retail")],
    ]


def test_a_retired_classification_is_no_longer_a_filter(client: TestClient, db: Session) -> None:
    make_posting(db, title="Kauppa", fields=["retail"])
    row = db.exec(select(TetClassification).where(TetClassification.code == "retail")).one()
    row.retired_at = utcnow()
    db.add(row)
    db.flush()
    status, page = get(client, "/tet?field=retail")
    assert status == 400
    assert "no longer offered" in error_summary(page)
    assert 'value="retail"' not in page  # not offered in the form either


QUERY_KEYS = st.sampled_from(
    [
        "q",
        "field",
        "method",
        "feature",
        "start",
        "end",
        "language",
        "area",
        "postcode",
        "sort",
        "after",
        "before",
        "x",
    ]
)
QUERY_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "retail",
            "ict",
            "real_work",
            "customers",
            "2027-01-01",
            "9999-12-31",
            "0001-01-01",
            "central",
            "00530",
            "fi",
            "sv",
            "match",
            "start",
            "1.2027-01-01.5",
            "2027-01-01.5",
            "-1.2027-01-01.-1",
            "99999999999999999999",
            "%00",
            "<script>",
            "' OR 1=1 --",
            "a:*",
            "\u0000",
        ]
    ),
)


@pytest.fixture
def posted(db: Session) -> None:
    make_posting(db, title="Kauppa")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=8))
def test_any_query_string_gives_the_page_never_a_500(
    client: TestClient, posted: None, pairs: list[tuple[str, str]]
) -> None:
    answer = client.get("/tet", params=pairs, headers=EN)
    assert answer.status_code in (200, 400), answer.text[-500:]
    assert "<h1>Find a TET place</h1>" in answer.text


# --- Language, escaping, rate limit -------------------------------------------------------------------


def test_the_swedish_page_says_prao(client: TestClient, db: Session) -> None:
    make_posting(db)
    _, page = get(client, "/tet", language="sv")
    assert "<h1>Hitta en PRAO-plats</h1>" in page
    assert ">1 PRAO-plats</h2>" in page
    assert "TET" not in re.sub(r"<[^>]+>", "", page.split("<main", 1)[1])
    _, finnish = get(client, "/tet", language="fi")
    assert "<h1>Etsi TET-paikka</h1>" in finnish
    assert ">1 TET-paikka</h2>" in finnish
    assert "Kauppa ja myynti" in finnish  # the classifications' own names too


def test_stored_markup_is_escaped_on_the_cards(client: TestClient, db: Session) -> None:
    make_posting(
        db,
        title="<script>alert(1)</script>",
        org_unit='"><img src=x onerror=alert(2)>',
        keywords=["<b>bold</b>"],
    )
    _, page = get(client, "/tet")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    # The typed text comes back escaped too.
    _, typed = get(client, '/tet?q="><script>alert(3)</script>')
    assert "<script>alert(3)" not in typed
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in typed


@pytest.fixture
def limited_client(settings: Settings, db: Session) -> Iterator[TestClient]:
    limited_app = create_app(
        settings.model_copy(update={"rate_limits": {**settings.rate_limits, "tet_search": (3, 60)}})
    )
    limited_app.dependency_overrides[get_session] = lambda: db
    try:
        yield TestClient(limited_app, raise_server_exceptions=False)
    finally:
        limited_app.state.engine.dispose()


def test_the_page_and_the_api_share_a_rate_limit_per_address(limited_client: TestClient) -> None:
    answers = [limited_client.get("/tet", headers=EN) for _ in range(2)]
    answers.append(limited_client.get("/api/v1/tet/postings"))
    answers.append(limited_client.get("/tet", headers=EN))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "You have sent too many requests" in answers[3].text
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    api = limited_client.get("/api/v1/tet/postings")
    assert api.status_code == 429
    assert api.json()["detail"]["code"] == "rate_limited"


def test_the_front_page_links_to_the_search(client: TestClient) -> None:
    _, page = get(client, "/")
    assert 'href="/tet">Find a TET place</a>' in page
