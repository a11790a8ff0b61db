"""The pupils' TET search as JSON (#6 part 4): the page's filters as query parameters, pages by
`next` / `previous` URLs, 422 in the app's error shape, one posting, the classifications,
OpenAPI documentation, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.db import utcnow
from app.tet import service
from app.tet.models import TetClassification
from tests.tet.factories import make_posting
from tests.tet.test_search_page import QUERY_KEYS, QUERY_VALUES

URL = "/api/v1/tet/postings"
TODAY = service.today()


def search(client: TestClient, params: Any = None, language: str = "en") -> dict[str, Any]:
    """The answer to the search with these parameters, or to a `next` / `previous` URL."""
    url, params = (params, None) if isinstance(params, str) else (URL, params)
    answer = client.get(url, params=params, headers={"Accept-Language": language})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_a_posting_in_the_answer(client: TestClient, db: Session) -> None:
    posting = make_posting(
        db,
        title="Kassatyö",
        languages=["fi", "sv"],
        features=["customers"],
        end_date=None,
        keywords=["kassa"],
    )
    body = search(client)
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    item = body["items"][0]
    assert item == {
        "id": posting.id,
        "title": "Kassatyö",
        "organisation": "Kahvila Esimerkki Oy",
        "org_unit": "Kallion myymälä",
        "description": posting.description,
        "street": "Fleminginkatu 1",
        "postcode": "00530",
        "city": "Helsinki",
        "district": "Keskinen suurpiiri",
        "latitude": None,
        "longitude": None,
        "start_date": posting.start_date.isoformat() if posting.start_date else None,
        "end_date": None,
        "spots": 2,
        "languages": ["fi", "sv"],
        "fields": [{"code": "retail", "kind": "field", "name": "Kauppa ja myynti"}],
        "methods": [{"code": "real_work", "kind": "method", "name": "Tee oikeita töitä"}],
        "features": [{"code": "customers", "kind": "feature", "name": "Asiakkaiden kanssa"}],
        "keywords": ["kassa"],
        "contact_name": "Eija Esimerkki",
        "contact_phone": "+358401234567",
        "contact_email": "eija@example.com",
        "website": "https://www.example.com",
        "image_url": None,
        "photographer": None,
        "url": f"/tet/postings/{posting.id}",
    }
    swedish = search(client, {"lang": "sv"})["items"][0]
    assert swedish["fields"][0]["name"] == "Handel och försäljning"
    assert swedish["district"] == "Mellersta stordistriktet"
    assert search(client, {"lang": "en"})["items"][0]["district"] == "Central Helsinki"


def test_the_filters_of_the_page(client: TestClient, db: Session) -> None:
    make_posting(
        db,
        title="Kauppa",
        fields=["retail"],
        features=["customers", "teamwork"],
        languages=["fi"],
        start_date=date(2027, 3, 1),
        end_date=date(2027, 3, 31),
    )
    make_posting(
        db,
        title="Koodari",
        fields=["ict"],
        methods=["shadowing"],
        features=["computer", "teamwork"],
        languages=["sv"],
        postcode="00980",
        start_date=date(2027, 5, 1),
        end_date=None,
    )
    make_posting(db, title="Luonnos", publish=False)
    make_posting(
        db,
        title="Päättynyt",
        start_date=TODAY - timedelta(days=5),
        end_date=TODAY - timedelta(days=1),
    )
    cases: list[tuple[Any, list[str]]] = [
        ({}, ["Kauppa", "Koodari"]),
        ({"q": "koodar"}, ["Koodari"]),
        ([("field", "retail"), ("field", "ict")], ["Kauppa", "Koodari"]),
        ({"method": "shadowing"}, ["Koodari"]),
        ([("feature", "teamwork"), ("feature", "computer")], ["Koodari"]),
        ({"start": "2027-04-01"}, ["Koodari"]),
        ({"start": "2027-03-10", "end": "2027-03-12"}, ["Kauppa"]),
        ({"language": "sv"}, ["Koodari"]),
        ({"area": "eastern"}, ["Koodari"]),
        ({"area": "00530"}, ["Kauppa"]),
        ({"q": "luonnos"}, []),
        ({"q": "päättynyt"}, []),
    ]
    for params, expected in cases:
        body = search(client, params)
        assert sorted(titles(body)) == expected, params
        assert body["count"] == len(expected), params


def test_pages_by_next_and_previous_urls(client: TestClient, db: Session) -> None:
    for day in range(45):
        make_posting(db, title=f"p{day:02}", start_date=TODAY + timedelta(days=day))
    first = search(client, {"field": "retail", "lang": "sv"})
    assert first["count"] == 45
    assert len(first["items"]) == 20
    assert first["previous"] is None
    assert first["next"].startswith(URL + "?field=retail&lang=sv&after=")
    second = search(client, first["next"])
    assert titles(second) == [f"p{d:02}" for d in range(20, 40)]
    assert second["items"][0]["fields"][0]["name"] == "Handel och försäljning"
    third = search(client, second["next"])
    assert titles(third) == [f"p{d:02}" for d in range(40, 45)]
    assert third["next"] is None
    back = search(client, third["previous"])
    assert titles(back) == titles(second)
    assert titles(search(client, back["previous"])) == titles(first)


def test_ordered_by_matching_interests(client: TestClient, db: Session) -> None:
    make_posting(db, title="one", fields=["ict"], start_date=TODAY)
    make_posting(db, title="two", fields=["ict", "offices"], start_date=TODAY + timedelta(days=2))
    both = [("field", "ict"), ("field", "offices")]
    assert titles(search(client, both)) == ["two", "one"]
    assert titles(search(client, [*both, ("sort", "start")])) == ["one", "two"]


@pytest.mark.parametrize(
    ("params", "loc", "kind"),
    [
        ({"field": "nonexistent"}, ["query", "field"], "classification"),
        ({"method": "retail"}, ["query", "method"], "classification"),
        ({"feature": "Not A Code"}, ["query", "feature"], "classification"),
        ({"area": "atlantis"}, ["query", "area"], "area"),
        ({"start": "2027-05-01", "end": "2027-04-01"}, ["query", "end"], "end_before_start"),
        ({"start": "2027-13-01"}, ["query", "start"], "date_from_datetime_parsing"),
        ({"language": "de"}, ["query", "language"], "literal_error"),
        ({"sort": "random"}, ["query", "sort"], "literal_error"),
        ({"q": "x" * 201}, ["query", "q"], "string_too_long"),
        ({"after": "garbage"}, ["query", "after"], "page_key"),
        ({"after": "2027-01-01.99999999999999999999"}, ["query", "after"], "page_key"),
        ({"lang": "de"}, ["query", "lang"], "literal_error"),
    ],
)
def test_an_invalid_filter_is_422_in_the_app_error_shape(
    client: TestClient, params: dict[str, str], loc: list[str], kind: str
) -> None:
    answer = client.get(URL, params=params, headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert [error["loc"] for error in detail] == [loc]
    assert detail[0]["type"] == kind
    assert detail[0]["msg"]


def test_the_messages_follow_the_request_language(client: TestClient) -> None:
    answer = client.get(URL, params={"area": "atlantis"}, headers={"Accept-Language": "fi"})
    assert answer.json()["detail"][0]["msg"].startswith("Valitse alue")


@pytest.fixture
def posted(db: Session) -> None:
    make_posting(db, title="Kauppa")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=8))
def test_any_query_string_is_200_or_422_never_a_500(
    client: TestClient, posted: None, pairs: list[tuple[str, str]]
) -> None:
    answer = client.get(URL, params=pairs)
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 422:
        assert all({"loc", "msg", "type"} <= set(error) for error in answer.json()["detail"])


def test_one_posting(client: TestClient, db: Session) -> None:
    posting = make_posting(db, title="Kauppa")
    answer = client.get(f"{URL}/{posting.id}", params={"lang": "en"})
    assert answer.status_code == 200
    assert answer.json()["title"] == "Kauppa"
    assert answer.json()["fields"][0]["name"] == "Retail and sales"
    draft = make_posting(db, publish=False)
    ended = make_posting(
        db, start_date=TODAY - timedelta(days=5), end_date=TODAY - timedelta(days=1)
    )
    for posting_id in (draft.id, ended.id, 999_999):
        missing = client.get(f"{URL}/{posting_id}")
        assert missing.status_code == 404
        assert missing.json()["detail"]["code"] == "not_found"
    assert client.get(f"{URL}/99999999999999999999").status_code == 422
    assert client.get(f"{URL}/abc").status_code == 422


def test_the_classifications_in_use(client: TestClient, db: Session) -> None:
    row = db.exec(select(TetClassification).where(TetClassification.code == "animals")).one()
    row.retired_at = utcnow()
    db.add(row)
    db.flush()
    answer = client.get("/api/v1/tet/classifications")
    assert answer.status_code == 200
    codes = {item["code"]: item for item in answer.json()}
    assert codes["retail"] == {"code": "retail", "kind": "field", "name": "Kauppa ja myynti"}
    assert codes["shadowing"]["kind"] == "method"
    assert codes["customers"]["kind"] == "feature"
    assert "animals" not in codes
    swedish = client.get("/api/v1/tet/classifications", params={"lang": "sv"}).json()
    assert {item["code"]: item["name"] for item in swedish}["retail"] == "Handel och försäljning"
    # A retired value is no longer a filter.
    refused = client.get(URL, params={"feature": "animals"})
    assert refused.status_code == 422


def test_documented_in_openapi(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][URL]["get"]
    assert operation["tags"] == ["tet"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    expected = {"q", "field", "method", "feature", "start", "end", "language", "area", "sort"}
    assert expected | {"after", "before", "lang"} == set(parameters)
    for name in parameters:
        assert parameters[name]["in"] == "query"
        assert parameters[name].get("description"), name
    assert parameters["field"]["schema"]["type"] == "array"
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/SearchOut")
    assert "422" in operation["responses"]
    assert "429" in operation["responses"]
    assert f"{URL}/{{posting_id}}" in document["paths"]
    assert "/api/v1/tet/classifications" in document["paths"]
    # The pages are not part of the API.
    assert "/tet" not in document["paths"]
