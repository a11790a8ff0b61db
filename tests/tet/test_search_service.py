"""The pupils' search through the service on both databases: words (Finnish prefixes),
classifications (any of / all of), dates, language, area, ended postings, order and paging."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from app.errors import ValidationFailed
from app.tet import service
from app.tet.schemas import SearchIn
from tests.tet.factories import make_posting

TODAY = service.today()


def found(db: Session, **query: object) -> list[str]:
    search = SearchIn.model_validate(query)
    page = service.search(db, criteria=service.criteria_for(db, search), query=search, today=TODAY)
    assert page.total >= len(page.results.items)
    return [p.title for p in page.results.items]


def test_words_match_by_prefix_over_title_description_and_keywords(db: Session) -> None:
    make_posting(db, title="Rakennusalan työt", fields=["construction"])
    make_posting(db, title="Kahvila", description="Leipomo ja kahvila.", keywords=["leivonta"])
    assert found(db, q="rakennus") == ["Rakennusalan työt"]
    assert found(db, q="leivon") == ["Kahvila"]
    assert found(db, q="kahvila leipomo") == ["Kahvila"]
    assert found(db, q="leipomo rakennus") == []


def test_fields_and_methods_any_of_features_all_of(db: Session) -> None:
    make_posting(db, title="A", fields=["retail"], methods=["real_work"], features=["customers"])
    make_posting(
        db, title="B", fields=["ict"], methods=["shadowing"], features=["customers", "computer"]
    )
    make_posting(db, title="C", fields=["ict"], methods=["real_work"], features=["computer"])
    assert sorted(found(db, field=["retail", "ict"])) == ["A", "B", "C"]
    assert sorted(found(db, field=["ict"], method=["real_work"])) == ["C"]
    assert sorted(found(db, feature=["customers", "computer"])) == ["B"]
    assert sorted(found(db, feature=["customers"])) == ["A", "B"]


def test_most_matching_interests_first(db: Session) -> None:
    make_posting(db, title="one", fields=["ict"], methods=["shadowing"], start_date=TODAY)
    make_posting(db, title="two", fields=["ict", "offices"], methods=["real_work"])
    assert found(db, field=["ict", "offices"]) == ["two", "one"]
    assert found(db, field=["ict", "offices"], sort="start") == ["one", "two"]


def test_dates_language_and_area(db: Session) -> None:
    make_posting(
        db,
        title="spring",
        start_date=date(2027, 3, 1),
        end_date=date(2027, 3, 31),
        languages=["sv"],
    )
    make_posting(
        db,
        title="ongoing",
        start_date=TODAY,
        end_date=None,
        postcode="00980",
        languages=["fi", "en"],
    )
    assert sorted(found(db, start="2027-03-20", end="2027-04-10")) == ["ongoing", "spring"]
    assert found(db, start="2027-04-01") == ["ongoing"]
    assert found(db, language="sv") == ["spring"]
    assert found(db, area="eastern") == ["ongoing"]
    assert found(db, area="00980") == ["ongoing"]
    assert found(db, area="central") == ["spring"]


def test_drafts_and_ended_postings_never_show(db: Session) -> None:
    make_posting(db, title="draft", publish=False)
    make_posting(
        db, title="ended", start_date=TODAY - timedelta(days=20), end_date=TODAY - timedelta(days=1)
    )
    make_posting(db, title="last day", start_date=TODAY - timedelta(days=20), end_date=TODAY)
    assert found(db) == ["last day"]


def test_pages_by_key_both_ways(db: Session) -> None:
    for day in range(45):
        make_posting(db, title=f"p{day:02}", start_date=TODAY + timedelta(days=day))
    search = SearchIn()
    criteria = service.criteria_for(db, search)
    first = service.search(db, criteria=criteria, query=search, today=TODAY)
    assert first.total == 45
    assert len(first.results.items) == 20
    assert first.results.previous_key is None
    assert first.results.next_key is not None
    nxt = SearchIn(after=first.results.next_key.encode())
    second = service.search(db, criteria=criteria, query=nxt, today=TODAY)
    assert [p.title for p in second.results.items] == [f"p{d:02}" for d in range(20, 40)]
    assert second.results.previous_key is not None
    back = SearchIn(before=second.results.previous_key.encode())
    again = service.search(db, criteria=criteria, query=back, today=TODAY)
    assert [p.title for p in again.results.items] == [f"p{d:02}" for d in range(20)]


def test_unknown_filters_are_refused_with_their_field(db: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.criteria_for(db, SearchIn(field=["nonexistent"]))
    assert caught.value.errors[0]["loc"] == ["field"]
    with pytest.raises(ValidationFailed):
        service.criteria_for(db, SearchIn(area="atlantis"))
    # A method code given as a field is refused too.
    with pytest.raises(ValidationFailed):
        service.criteria_for(db, SearchIn(field=["real_work"]))


def test_search_syntax_in_the_text_is_only_text(db: Session) -> None:
    make_posting(db, title="Kauppa")
    for text in ['"', "kauppa:*", "a & b | !c", "NEAR(a b)", "tags : f1", "' OR 1=1 --", "*", "()"]:
        found(db, q=text)  # never an error


def test_stop_words_do_not_decide_on_either_database(db: Session) -> None:
    make_posting(db, title="Leipomo", description="Leivomme ja myymme.")
    assert found(db, q="leipomo ja kirjasto") == []  # kirjasto is not there
    assert found(db, q="leipomo ja") == ["Leipomo"]
    assert found(db, q="och leipomo") == ["Leipomo"]
