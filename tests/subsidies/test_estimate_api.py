"""POST /api/v1/subsidies/estimate through HTTP: the contract, field messages, no CSRF or
session needed, the rate limit and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.deps import get_session
from app.main import create_app
from app.subsidies.estimate_api import helsinki_today

URL = "/api/v1/subsidies/estimate"
MONEY = re.compile(r"^\d+\.\d{2}$")

H33: dict[str, Any] = {
    "benefit_type": "salary_benefit",
    "start_date": "2023-09-01",
    "end_date": "2023-10-31",
    "monthly_pay": "2500.00",
    "indirect_labour_costs": "200.00",
    "vacation_money": "0.00",
    "state_aid_max_percentage": 100,
    "pay_subsidies": [
        {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
    ],
    "training_compensations": [],
    "apprenticeship": False,
    "override_monthly_benefit_amount": None,
    "instalments_enabled": False,
}


def post(client: TestClient, body: Any, lang: str = "en") -> Any:
    return client.post(URL, json=body, headers={"Accept-Language": lang})


def test_the_answer_is_the_contract(client: TestClient) -> None:
    response = post(client, H33)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"total", "rows", "instalments", "rules"}
    assert answer["total"] == "1600.00"
    assert answer["rows"] == [
        {
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "months": "2.00",
            "monthly_amount": "800.00",
            "amount": "1600.00",
        }
    ]
    # Estimated today: the first instalment falls due today, under today's rules.
    assert answer["instalments"] == [
        {"amount": "1600.00", "due_date": helsinki_today().isoformat()}
    ]
    assert [rule["name"] for rule in answer["rules"]] == [
        "subsidies.calculation_range_max_months",
        "subsidies.salary_benefit_monthly_max",
        "subsidies.pay_subsidy_monthly_cap_70",
        "subsidies.instalment_threshold",
    ]
    for rule in answer["rules"]:
        assert set(rule) == {"name", "value", "effective_from", "source"}
        assert date.fromisoformat(rule["effective_from"]) <= helsinki_today()
        assert rule["source"]
    assert answer["rules"][1]["value"] == "800.00"
    assert answer["rules"][0]["value"] == "24"


def test_split_period_and_two_instalments(client: TestClient) -> None:
    body = {
        **H33,
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "pay_subsidies": [
            {"start_date": "2025-07-01", "end_date": "2025-12-31", "pay_subsidy_percent": 50}
        ],
        "instalments_enabled": True,
    }
    answer = post(client, body).json()
    # A pay subsidy keeps the cap at 800 for the whole application.
    assert [
        (r["start_date"], r["months"], r["monthly_amount"], r["amount"]) for r in answer["rows"]
    ] == [
        ("2025-01-01", "6.00", "800.00", "4800.00"),
        ("2025-07-01", "6.00", "800.00", "4800.00"),
    ]
    assert answer["total"] == "9600.00"
    body["pay_subsidies"] = []
    answer = post(client, body).json()
    assert answer["total"] == "18000.00"
    today = helsinki_today()
    assert answer["instalments"] == [
        {"amount": "9000.00", "due_date": today.isoformat()},
        {"amount": "9000.00", "due_date": max(date(2025, 7, 1), today).isoformat()},
    ]


def test_money_may_be_written_the_finnish_way_and_only_needed_fields_given(
    client: TestClient,
) -> None:
    answer = post(
        client,
        {
            "benefit_type": "salary_benefit",
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "monthly_pay": "2 500,00",
            "indirect_labour_costs": 200,
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
            ],
        },
    ).json()
    assert answer["total"] == "1600.00"
    employment = post(
        client,
        {
            "benefit_type": "employment_benefit",
            "start_date": "2025-09-01",
            "end_date": "2025-10-15",
        },
    ).json()
    assert employment["total"] == "750.00"
    assert all(
        MONEY.match(value) for value in (employment["total"], employment["rows"][0]["amount"])
    )


def test_no_csrf_token_session_or_cookie(client: TestClient) -> None:
    """Other services call it as it is: no session first, no token, and no cookie comes back."""
    response = client.post(URL, json=H33)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert not client.cookies


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "Choose one of the options."),
        ("fi", "Valitse jokin vaihtoehdoista."),
        ("sv", "Välj ett av alternativen."),
    ],
)
def test_type_errors_are_422_with_field_messages(
    client: TestClient, lang: str, message: str
) -> None:
    body = {**H33, "pay_subsidies": [{**H33["pay_subsidies"][0], "pay_subsidy_percent": 60}]}
    response = post(client, body, lang)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "pay_subsidies", 0, "pay_subsidy_percent"],
                "msg": message,
                "type": "literal_error",
            }
        ]
    }


@pytest.mark.parametrize(
    ("lang", "range_message", "outside_message"),
    [
        (
            "en",
            "The period must be shorter than 24 months: enter an end date before 1.9.2025.",
            "The dates must be within the benefit period.",
        ),
        (
            "fi",
            "Jakson on oltava lyhyempi kuin 24 kuukautta: anna päättymispäivä ennen 1.9.2025.",
            "Päivämäärien on oltava tukijakson sisällä.",
        ),
        (
            "sv",
            "Perioden måste vara kortare än 24 månader: ange ett slutdatum före 1.9.2025.",
            "Datumen måste ligga inom stödperioden.",
        ),
    ],
)
def test_rule_errors_are_422_with_every_field(
    client: TestClient, lang: str, range_message: str, outside_message: str
) -> None:
    body = {
        **H33,
        "end_date": "2025-09-01",
        "pay_subsidies": [
            {"start_date": "2023-08-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
        ],
    }
    response = post(client, body, lang)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "end_date"], "msg": range_message, "type": "calculator_range_too_long"},
        {
            "loc": ["body", "pay_subsidies", 0, "start_date"],
            "msg": outside_message,
            "type": "calculator_outside_period",
        },
    ]


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        (
            {"override_monthly_benefit_amount": "1500.01"},
            ["body", "override_monthly_benefit_amount"],
            "calculator_override_max",
        ),
        ({"end_date": "2023-08-31"}, ["body", "end_date"], "employment_dates_order"),
        ({"monthly_pay": None}, ["body", "monthly_pay"], "missing"),
        ({"state_aid_max_percentage": 60}, ["body", "state_aid_max_percentage"], "literal_error"),
        ({"benefit_type": "commission"}, ["body", "benefit_type"], "literal_error"),
        ({"start_date": "1.9.2023"}, ["body", "start_date"], "date_from_datetime_parsing"),
        ({"monthly_pay": "lots"}, ["body", "monthly_pay"], "euros"),
        ({"name": "Matti"}, ["body", "name"], "extra_forbidden"),
        (
            {
                "training_compensations": [
                    {"start_date": "2023-09-01", "end_date": "2023-10-31", "monthly_amount": "100"}
                ]
            },
            ["body", "training_compensations"],
            "calculator_training_needs_apprenticeship",
        ),
    ],
)
def test_invalid_inputs(
    client: TestClient, change: dict[str, Any], loc: list[Any], kind: str
) -> None:
    response = post(client, {**H33, **change})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(error["loc"], error["type"]) for error in detail] == [(loc, kind)]
    assert detail[0]["msg"]
    assert detail[0]["msg"] != "Check this value."


def test_a_manual_amount_over_the_maximum_names_it(client: TestClient) -> None:
    response = post(client, {**H33, "override_monthly_benefit_amount": "1600"}, "fi")
    assert response.json()["detail"][0]["msg"] == (
        "Anna kuukausittainen määrä, joka on enintään 1\u00a0500,00 €."
    )


def test_not_json_is_422(client: TestClient) -> None:
    response = client.post(URL, content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.fixture
def limited_client(settings: Settings, db: Session) -> Iterator[TestClient]:
    limited_app = create_app(
        settings.model_copy(
            update={"rate_limits": {**settings.rate_limits, "subsidy_estimate": (3, 600)}}
        )
    )
    limited_app.dependency_overrides[get_session] = lambda: db
    try:
        yield TestClient(limited_app, raise_server_exceptions=False)
    finally:
        limited_app.state.engine.dispose()


def test_rate_limited_per_client(limited_client: TestClient) -> None:
    answers = [post(limited_client, H33) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[3].headers["retry-after"]) <= 600
    assert answers[3].json()["detail"]["code"] == "rate_limited"


def test_the_page_and_the_api_share_the_limit(limited_client: TestClient) -> None:
    token = limited_client.get("/api/v1/csrf").json()["csrf_token"]
    for _ in range(3):
        assert post(limited_client, H33).status_code == 200
    page = limited_client.post(
        "/subsidies/estimate", data={"csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 429
    assert "You have sent too many requests" in page.text


def test_documented_in_openapi_with_examples(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][URL]["post"]
    assert operation["tags"] == ["subsidies"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {
        "salary_benefit",
        "split_period",
        "apprenticeship",
        "instalments",
        "employment_benefit",
    } <= set(examples)
    assert set(operation["responses"]) >= {"200", "422", "429"}
    assert (
        operation["responses"]["200"]["content"]["application/json"]["example"]["total"]
        == "3224.00"
    )
    schema = document["components"]["schemas"]["EstimateIn"]
    assert set(schema["properties"]) == set(H33)
    assert schema["additionalProperties"] is False
    out = document["components"]["schemas"]["EstimateOut"]
    assert set(out["properties"]) == {"total", "rows", "instalments", "rules"}


@pytest.mark.parametrize(
    "name",
    ["salary_benefit", "split_period", "apprenticeship", "instalments", "employment_benefit"],
)
def test_the_documented_examples_work(client: TestClient, name: str) -> None:
    examples = client.get("/openapi.json").json()["paths"][URL]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    response = post(client, examples[name]["value"])
    assert response.status_code == 200, response.text
    expected = {
        "salary_benefit": "1600.00",
        "split_period": "3224.00",
        "instalments": "18000.00",
        "employment_benefit": "750.00",
    }
    if name in expected:
        assert response.json()["total"] == expected[name]
