"""The Helsinki-lisä estimate page in a real browser: the live result with JavaScript (the page's
script calls the JSON API), the same page without JavaScript, the keyboard alone, axe-core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PageWatch, axe_violations

NewPage = Callable[..., tuple[Page, PageWatch]]
LOCALES = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}
TOTAL = {
    "fi": "Arvioitu Helsinki-lisä yhteensä: 1\u00a0600,00\u00a0€",
    "sv": "Uppskattat stöd sammanlagt: 1\u00a0600,00\u00a0€",
    "en": "Estimated benefit in total: 1\u00a0600,00\u00a0€",
}
URL = "/subsidies/estimate"


def fill_h33(page: Page) -> None:
    """helsinkilisa.md §3.5's first example: 2 months of 800 € = 1600 €."""
    page.locator("#f-start_date").fill("2023-09-01")
    page.locator("#f-end_date").fill("2023-10-31")
    page.locator("#f-monthly_pay").fill("2 500,00")
    page.locator("#f-indirect_labour_costs").fill("200")
    page.locator('label[for="f-state_aid_max_percentage-100"]').click()
    page.locator("#f-pay_subsidies-0-start_date").fill("2023-09-01")
    page.locator("#f-pay_subsidies-0-end_date").fill("2023-10-31")
    page.locator("#f-pay_subsidies-0-pay_subsidy_percent").select_option("70")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_result_follows_the_form_live(new_page: NewPage, lang: str) -> None:
    page, watch = new_page(locale=LOCALES[lang])
    page.goto(URL)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    status = page.locator("[data-estimate-status]")
    expect(status).to_have_attribute("aria-live", "polite")
    assert axe_violations(page) == []
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    fill_h33(page)
    expect(status).to_have_text(TOTAL[lang])
    rows = page.locator("[data-estimate-rows] tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("1.9.2023–31.10.20232,00800,00\u00a0€1\u00a0600,00\u00a0€")
    expect(page.locator("[data-estimate-instalments] tr")).to_have_count(1)
    expect(page.locator("[data-estimate-rules] tr").first).to_contain_text("1.7.2023")
    # Nothing was sent as a form: the script asked the API.
    assert page.url.endswith(URL)
    posted = [urlsplit(r.split(" ", 1)[1]).path for r in requests if r.startswith("POST ")]
    assert "/api/v1/subsidies/estimate" in posted
    assert URL not in posted
    # A change updates the result: a 50 % subsidy of 2500 leaves 1450, capped at 800.
    page.locator("#f-pay_subsidies-0-end_date").fill("2023-09-30")
    expect(page.locator("[data-estimate-rows] tr")).to_have_count(2)
    expect(status).to_contain_text("1\u00a0600,00\u00a0€")
    page.locator('label[for="f-state_aid_max_percentage-50"]').click()
    # State aid 50 %: 1350 - 1750 is nothing for September, 800 for October.
    expect(status).to_contain_text("800,00\u00a0€")
    assert axe_violations(page) == []
    assert [e for e in watch.console_errors if "status of 422" not in e] == []
    assert watch.foreign_requests == []


def test_problems_show_live_and_link_to_their_fields(new_page: NewPage) -> None:
    page, watch = new_page(locale="en-GB")
    page.goto(URL)
    status = page.locator("[data-estimate-status]")
    page.locator("#f-start_date").fill("2023-09-01")
    page.locator("#f-end_date").fill("2023-10-31")
    # Until the pay and the state-aid maximum are in, the script does not ask.
    expect(status).to_have_text("Fill in the form to see the estimate.")
    page.locator("#f-monthly_pay").fill("2500")
    page.locator('label[for="f-state_aid_max_percentage-100"]').click()
    page.locator("#f-pay_subsidies-1-start_date").fill("2023-08-01")
    page.locator("#f-pay_subsidies-1-end_date").fill("2023-10-31")
    page.locator("#f-pay_subsidies-1-pay_subsidy_percent").select_option("70")
    expect(status).to_have_text("The estimate cannot be calculated yet. Check these:")
    problems = page.locator("[data-estimate-problems] a")
    expect(problems).to_have_count(1)
    expect(problems.first).to_have_attribute("href", "#f-pay_subsidies-1-start_date")
    expect(problems.first).to_have_text(
        "Pay subsidy 2: start date: The dates must be within the benefit period."
    )
    expect(page.locator("[data-estimate-details]")).to_be_hidden()
    assert axe_violations(page) == []
    # Chromium logs every 422 answer of the API as a failed load; nothing else may be logged.
    assert [e for e in watch.console_errors if "status of 422" not in e] == []
    # Corrected, the result comes back: 2500 - 1750 = 750 a month for two months.
    page.locator("#f-pay_subsidies-1-start_date").fill("2023-09-01")
    expect(status).to_have_text("Estimated benefit in total: 1\u00a0500,00\u00a0€")
    expect(problems).to_have_count(0)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_sending_with_errors_has_no_violations_and_focuses_the_summary(
    new_page: NewPage, lang: str
) -> None:
    page, _watch = new_page(locale=LOCALES[lang])
    page.goto(URL)
    page.locator("#f-start_date").fill("2023-09-01")
    page.locator("button[type=submit]").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(page.locator("#f-start_date")).to_have_value("2023-09-01")
    expect(page.locator("#f-end_date")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []


@pytest.fixture
def no_script_page(browser: Browser, live_server: str) -> Iterator[Callable[[str], Page]]:
    contexts: list[BrowserContext] = []

    def make(locale: str) -> Page:
        context = browser.new_context(
            base_url=live_server, locale=locale, java_script_enabled=False
        )
        context.route(
            lambda url: not url.startswith(("http://127.0.0.1", "data:")),
            lambda route: route.abort(),
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_without_javascript_the_form_posts_and_shows_the_result(
    no_script_page: Callable[[str], Page], lang: str
) -> None:
    page = no_script_page(LOCALES[lang])
    page.goto(URL)
    fill_h33(page)
    page.locator("button[type=submit]").click()
    expect(page.locator("[data-estimate-status]")).to_have_text(TOTAL[lang])
    expect(page.locator("[data-estimate-notice]")).to_contain_text("1\u00a0600,00\u00a0€")
    expect(page.locator("#f-monthly_pay")).to_have_value("2 500,00")
    expect(page.locator("#f-pay_subsidies-0-pay_subsidy_percent")).to_have_value("70")
    expect(page.locator("#f-state_aid_max_percentage-100")).to_be_checked()
    expect(page.locator("[data-estimate-rules] tr").first).to_be_visible()


def tab_to(page: Page, element_id: str, limit: int = 80) -> None:
    """Tab through the page's own order until the element has the focus."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def type_date(page: Page, element_id: str, iso: str) -> None:
    """Type a date into a date field with the keys alone. Chromium orders the field's parts by
    the browser's own locale, not the page's: day first is tried, then month first."""
    tab_to(page, element_id)
    year, month, day = iso.split("-")
    page.keyboard.type(day + month + year)
    if page.locator(f"#{element_id}").input_value() != iso:
        page.keyboard.press("Shift+Tab")  # back from the year to the first part
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(month + day + year)
    expect(page.locator(f"#{element_id}")).to_have_value(iso)


def test_keyboard_only(new_page: NewPage) -> None:
    page, watch = new_page(locale="en-GB")
    page.goto(URL)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    type_date(page, "f-start_date", "2023-09-01")
    type_date(page, "f-end_date", "2023-10-31")
    tab_to(page, "f-monthly_pay")
    page.keyboard.type("2500")
    tab_to(page, "f-indirect_labour_costs")
    page.keyboard.type("200")
    # A radio group is one Tab stop; the arrow keys choose within it.
    tab_to(page, "f-state_aid_max_percentage-50")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#f-state_aid_max_percentage-100")).to_be_checked()
    type_date(page, "f-pay_subsidies-0-start_date", "2023-09-01")
    type_date(page, "f-pay_subsidies-0-end_date", "2023-10-31")
    tab_to(page, "f-pay_subsidies-0-pay_subsidy_percent")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#f-pay_subsidies-0-pay_subsidy_percent")).to_have_value("70")
    status = page.locator("[data-estimate-status]")
    expect(status).to_have_text(TOTAL["en"])
    # Enter in a text field sends the form: the same result from the server.
    tab_to(page, "f-monthly_pay", limit=120)
    page.keyboard.press("Enter")
    expect(page.locator("[data-estimate-notice]")).to_contain_text("1\u00a0600,00\u00a0€")
    expect(status).to_have_text(TOTAL["en"])
    assert axe_violations(page) == []
    assert watch.console_errors == []


def test_narrow_phone_screen_needs_no_horizontal_scrolling(new_page: NewPage) -> None:
    page, _watch = new_page(width=320, height=640)
    page.goto(URL)
    fill_h33(page)
    expect(page.locator("[data-estimate-rows] tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
