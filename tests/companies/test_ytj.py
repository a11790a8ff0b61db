"""The YTJ client against the recorded-answer fake over real HTTP on loopback."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from app.companies.ytj import RegisterCompany, RegisterUnavailable, YtjClient, from_settings
from app.demo import DEMO_COMPANIES, DemoCompany
from tests.companies.conftest import UNKNOWN_BUSINESS_ID
from tests.conftest import make_settings
from tests.fakes.ytj import (
    COMPANIES_PATH,
    MALFORMED_ID,
    RATE_LIMITED,
    SERVER_ERROR,
    RecordedAnswer,
    YtjFake,
    recorded_business_ids,
)


def _record_variant(
    fake: YtjFake, source: str, business_id: str, change: Callable[[dict[str, Any]], None]
) -> None:
    """Record a copy of `source`'s company under `business_id`, altered by `change`."""
    body = copy.deepcopy(fake.answers[source].body)
    company = body["companies"][0]
    company["businessId"]["value"] = business_id
    change(company)
    fake.answers[business_id] = RecordedAnswer(200, "application/json", body)


def test_a_company_gets_its_current_name_and_its_visiting_address(ytj: YtjClient) -> None:
    # Not the earlier name "Esimerkin Kahvitupa Oy" nor the parallel "Café Exempel Ab"; the
    # visiting address although the postal address (a PO box) is listed first.
    assert ytj.fetch("2956285-9") == RegisterCompany(
        business_id="2956285-9",
        name="Kahvila Esimerkki Oy",
        company_form="Osakeyhtiö",
        industry="Kahvilat ja kahvibaarit",
        street_address="Mannerheimintie 1",
        postcode="00100",
        city="Helsinki",
        end_date=None,
    )


def test_the_request_is_one_get_of_companies_by_formatted_business_id(
    fake: YtjFake, ytj: YtjClient
) -> None:
    ytj.fetch("29562859")
    [request] = fake.requests
    assert request.method == "GET"
    assert request.path == COMPANIES_PATH
    assert request.query == {"businessId": ["2956285-9"]}
    assert request.headers["accept"] == "application/json"


def test_the_current_company_form_wins_over_the_previous_one_listed_first(ytj: YtjClient) -> None:
    company = ytj.fetch("3045112-8")
    assert company is not None
    assert company.company_form == "Osakeyhtiö"


def test_an_association_with_only_a_po_box_and_no_business_line(ytj: YtjClient) -> None:
    assert ytj.fetch("3100005-4") == RegisterCompany(
        business_id="3100005-4",
        name="Vallilan Laulajat ry",
        company_form="Aatteellinen yhdistys",
        industry=None,
        street_address="PL 45",
        postcode="00511",
        city="Helsinki",
    )


def test_a_ceased_company_is_returned_with_its_end_date_and_other_languages(
    ytj: YtjClient,
) -> None:
    assert ytj.fetch("3100007-0") == RegisterCompany(
        business_id="3100007-0",
        name="Handelshuset Gammal Ab",
        company_form="Aktiebolag",  # only a Swedish description
        industry="Other retail sale in non-specialised stores",  # only an English one
        street_address="Runebergsgatan 5 A 3 b",
        postcode="00100",
        city="Helsingfors",  # only a Swedish post office
        end_date=date(2024, 6, 30),
    )


@pytest.mark.parametrize("business_id", recorded_business_ids())
def test_every_recorded_company_parses(ytj: YtjClient, business_id: str) -> None:
    company = ytj.fetch(business_id)
    assert company is not None
    assert company.business_id == business_id
    assert company.name
    assert company.postcode
    assert company.city


@pytest.mark.parametrize("demo", DEMO_COMPANIES, ids=lambda demo: demo.business_id)
def test_the_demo_companies_match_the_demo_data(ytj: YtjClient, demo: DemoCompany) -> None:
    company = ytj.fetch(demo.business_id)
    assert company is not None
    fields = ("name", "company_form", "industry", "street_address", "postcode", "city")
    assert {f: getattr(company, f) for f in fields} == {f: getattr(demo, f) for f in fields}


def test_a_form_without_descriptions_falls_back_to_its_code(fake: YtjFake, ytj: YtjClient) -> None:
    def strip_descriptions(company: dict[str, Any]) -> None:
        for form in company["companyForms"]:
            form["descriptions"] = []

    _record_variant(fake, "3045112-8", "3100001-1", strip_descriptions)
    company = ytj.fetch("3100001-1")
    assert company is not None
    assert company.company_form == "16"


def test_a_company_without_a_current_trade_name_is_unusable(fake: YtjFake, ytj: YtjClient) -> None:
    def only_parallel_names(company: dict[str, Any]) -> None:
        company["names"] = [n for n in company["names"] if n["type"] == "2"]

    _record_variant(fake, "2956285-9", "3100001-1", only_parallel_names)
    with pytest.raises(RegisterUnavailable):
        ytj.fetch("3100001-1")


def test_an_unknown_business_id_is_none(fake: YtjFake, ytj: YtjClient) -> None:
    assert ytj.fetch(UNKNOWN_BUSINESS_ID) is None
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "trouble",
    [
        pytest.param(lambda fake: fake.force(MALFORMED_ID), id="400"),
        pytest.param(lambda fake: fake.force(RATE_LIMITED), id="429-text-plain"),
        pytest.param(lambda fake: fake.force(SERVER_ERROR), id="500"),
        pytest.param(lambda fake: fake.server.down(), id="503"),
    ],
)
def test_error_answers_mean_the_register_is_unavailable(
    fake: YtjFake, ytj: YtjClient, trouble: Callable[[YtjFake], None]
) -> None:
    trouble(fake)
    with pytest.raises(RegisterUnavailable):
        ytj.fetch("2956285-9")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(RecordedAnswer(200, "text/html", "<html>Huoltokatko</html>"), id="html"),
        pytest.param(RecordedAnswer(200, "application/json", {"companies": "?"}), id="shape"),
    ],
)
def test_an_unparseable_answer_means_the_register_is_unavailable(
    fake: YtjFake, ytj: YtjClient, answer: RecordedAnswer
) -> None:
    fake.answers["2956285-9"] = answer
    with pytest.raises(RegisterUnavailable):
        ytj.fetch("2956285-9")


def test_a_slow_register_times_out(fake: YtjFake) -> None:
    fake.server.delay = 0.5
    with (
        YtjClient(fake.base_url, 0.2) as client,
        pytest.raises(RegisterUnavailable, match="timeout"),
    ):
        client.fetch("2956285-9")


def test_a_register_that_does_not_listen_is_unavailable() -> None:
    with YtjFake().running() as stopped:
        base_url = stopped.base_url
    with (
        YtjClient(base_url, 2.0) as client,
        pytest.raises(RegisterUnavailable, match="unreachable"),
    ):
        client.fetch("2956285-9")


@pytest.mark.parametrize("business_id", ["2956285-8", "295628", "", "abcdefg-h"])
def test_an_invalid_business_id_never_reaches_the_register(
    fake: YtjFake, ytj: YtjClient, business_id: str
) -> None:
    with pytest.raises(ValueError, match="business id"):
        ytj.fetch(business_id)
    assert fake.requests == []


def test_from_settings_uses_the_configured_register(fake: YtjFake) -> None:
    settings = make_settings("sqlite://", ytj_base_url=fake.base_url, ytj_timeout_seconds=1.5)
    with from_settings(settings) as client:
        company = client.fetch("1234567-1")
    assert company is not None
    assert company.company_form == "Aatteellinen yhdistys"
    assert len(fake.requests) == 1
