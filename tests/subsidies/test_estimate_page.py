"""/subsidies/estimate without JavaScript: the form in fi/sv/en, the result on the same page with
the typed values kept, the error summary, CSRF, and no login."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

URL = "/subsidies/estimate"
TITLES = {
    "fi": "Arvioi Helsinki-lisän määrä",
    "sv": "Uppskatta Helsingforstillägget",
    "en": "Estimate the Helsinki benefit",
}
TOTALS = {
    "fi": "Arvioitu Helsinki-lisä yhteensä: 1\u00a0600,00\u00a0€",
    "sv": "Uppskattat stöd sammanlagt: 1\u00a0600,00\u00a0€",
    "en": "Estimated benefit in total: 1\u00a0600,00\u00a0€",
}
SUMMARY = {"fi": "Tarkista seuraavat:", "sv": "Kontrollera följande:", "en": "Check the following:"}

H33_FORM = {
    "benefit_type": "salary_benefit",
    "start_date": "2023-09-01",
    "end_date": "2023-10-31",
    "monthly_pay": "2 500,00",
    "indirect_labour_costs": "200",
    "vacation_money": "",
    "state_aid_max_percentage": "100",
    # The pay subsidy on the form's second row: the empty first row is left out.
    "pay_subsidies-1-start_date": "2023-09-01",
    "pay_subsidies-1-end_date": "2023-10-31",
    "pay_subsidies-1-pay_subsidy_percent": "70",
}


def text(page: str) -> str:
    """The page's visible text in one line (entities decoded, tags dropped)."""
    plain = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"[ \t\r\n]+", " ", plain).strip()  # no-break spaces are kept


def value_of(page: str, name: str) -> str | None:
    match = re.search(
        rf'<input id="f-{re.escape(name)}" name="{re.escape(name)}"[^>]*value="([^"]*)"', page
    )
    return html.unescape(match.group(1)) if match else None


def send(client: TestClient, csrf: Callable[[], str], form: dict[str, str], lang: str) -> Any:
    return client.post(URL, data={"csrf_token": csrf(), **form}, headers={"Accept-Language": lang})


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_form_in_each_language(client: TestClient, lang: str) -> None:
    response = client.get(URL, headers={"Accept-Language": lang})
    assert response.status_code == 200
    page = response.text
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{TITLES[lang]}</h1>" in page
    assert 'name="csrf_token"' in page
    # Every field has its label; the groups are fieldsets with legends.
    for name in (
        "start_date",
        "end_date",
        "monthly_pay",
        "pay_subsidies-2-work_time_percent",
        "training_compensations-0-monthly_amount",
    ):
        assert f'<label for="f-{name}"' in page
    assert page.count("<fieldset") >= 7
    assert (
        'id="f-benefit_type-salary_benefit" name="benefit_type" value="salary_benefit" checked'
        in page
    )
    # The live result region exists before any result; the script is a file (CSP: no inline).
    assert 'role="status" aria-live="polite"' in page
    assert '<script src="/static/js/estimate.js" defer></script>' in page
    assert "<script>" not in page
    assert "data-estimate-details hidden" in page


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_result_on_the_same_page_with_the_typed_values(
    client: TestClient, csrf: Callable[[], str], lang: str
) -> None:
    response = send(client, csrf, H33_FORM, lang)
    assert response.status_code == 200
    page = response.text
    shown = text(page)
    assert TOTALS[lang] in shown
    assert "1.9.2023–31.10.2023 2,00 800,00\u00a0€ 1\u00a0600,00\u00a0€" in shown
    assert value_of(page, "monthly_pay") == "2 500,00"
    assert value_of(page, "pay_subsidies-1-start_date") == "2023-09-01"
    assert value_of(page, "pay_subsidies-0-start_date") == ""
    assert '<option value="70" selected>70 %</option>' in page
    assert (
        'id="f-state_aid_max_percentage-100" name="state_aid_max_percentage" value="100" checked'
        in page
    )
    assert "data-error-summary" not in page
    assert "data-estimate-details hidden" not in page
    # The rule values used, with their day and source.
    assert "1.7.2023" in shown
    assert "SALARY_BENEFIT_MAX" in shown


def test_the_rule_values_are_named_in_the_language(
    client: TestClient, csrf: Callable[[], str]
) -> None:
    shown = text(send(client, csrf, H33_FORM, "fi").text)
    assert "Palkan Helsinki-lisä enintään kuukaudessa 800,00\u00a0€ 1.7.2023" in shown
    assert "70 %:n palkkatuesta vähennetään enintään kuukaudessa 1\u00a0770,00\u00a0€" in shown
    assert "Jakso on lyhyempi kuin (kuukautta) 24 1.7.2023" in shown


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_errors_keep_the_values_and_link_to_their_fields(
    client: TestClient, csrf: Callable[[], str], lang: str
) -> None:
    form = {
        **H33_FORM,
        "monthly_pay": "",
        "pay_subsidies-1-start_date": "2023-08-01",  # before the period
        "pay_subsidies-1-end_date": "2023-10-31",
    }
    response = send(client, csrf, form, lang)
    assert response.status_code == 422
    page = response.text
    assert SUMMARY[lang] in page
    assert 'href="#f-monthly_pay"' in page
    assert 'href="#f-pay_subsidies-1-start_date"' in page
    assert (
        'id="f-pay_subsidies-1-start_date" name="pay_subsidies-1-start_date" class="hds-text-input__input" type="date" value="2023-08-01"'
        in page
    )
    assert 'aria-invalid="true" aria-describedby="f-monthly_pay-error"' in page
    assert value_of(page, "indirect_labour_costs") == "200"
    assert "data-estimate-details hidden" in page


def test_type_errors_on_a_later_row_point_at_that_row(
    client: TestClient, csrf: Callable[[], str]
) -> None:
    form = {
        **H33_FORM,
        "pay_subsidies-2-start_date": "2023-10-01",
        "pay_subsidies-2-pay_subsidy_percent": "100",
        "pay_subsidies-2-work_time_percent": "150",
    }
    page = send(client, csrf, form, "en").text
    assert 'href="#f-pay_subsidies-2-end_date"' in page
    assert 'href="#f-pay_subsidies-2-work_time_percent"' in page
    assert "Pay subsidy 3: working time (%): Enter a number of at most 100." in text(page)


def test_training_compensation_needs_the_apprenticeship(
    client: TestClient, csrf: Callable[[], str]
) -> None:
    form = {
        **H33_FORM,
        "training_compensations-0-start_date": "2023-09-01",
        "training_compensations-0-end_date": "2023-10-31",
        "training_compensations-0-monthly_amount": "100",
    }
    page = send(client, csrf, form, "en").text
    assert 'href="#f-training_compensations"' in page
    assert send(client, csrf, {**form, "apprenticeship": "true"}, "en").status_code == 200


def test_without_the_csrf_token_the_form_is_refused(client: TestClient) -> None:
    response = client.post(URL, data=H33_FORM, headers={"Accept-Language": "en"})
    assert response.status_code == 403


def test_employment_benefit_needs_no_pay(client: TestClient, csrf: Callable[[], str]) -> None:
    form = {
        "benefit_type": "employment_benefit",
        "start_date": "2025-09-01",
        "end_date": "2025-10-15",
    }
    page = send(client, csrf, form, "en").text
    assert "Estimated benefit in total: 750,00\u00a0€" in text(page)
    assert (
        'id="f-benefit_type-employment_benefit" name="benefit_type" value="employment_benefit" checked'
        in page
    )
