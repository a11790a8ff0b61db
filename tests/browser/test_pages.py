"""The public pages in a real browser: languages, the language switch, keyboard use and axe-core."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageWatch, axe_violations

NewPage = Callable[..., tuple[Page, PageWatch]]
LOCALES = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}
H1 = {
    "fi": "Helsingin kaupungin työnantajapalvelut verkossa",
    "sv": "Helsingfors stads e-tjänster för arbetsgivare",
    "en": "Employer e-services of the City of Helsinki",
}
PAGES = [
    "/",
    "/accessibility",
    "/privacy",
    "/accessibility/feedback",
    "/accessibility/feedback/thanks",
    "/no-such-page",
]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_landing_page_renders_in_each_language(new_page: NewPage, lang: str) -> None:
    page, watch = new_page(locale=LOCALES[lang])
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(H1[lang])
    expect(page.get_by_role("heading", level=2)).to_have_count(3)
    # The HDS stylesheet really applied (vendored file, no CDN).
    assert page.evaluate("getComputedStyle(document.body).fontFamily").strip() != ""
    assert watch.foreign_requests == []
    assert watch.console_errors == []


def test_language_switch_keeps_the_page_and_the_choice(new_page: NewPage) -> None:
    page, watch = new_page(locale="fi-FI")
    page.goto("/privacy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tietosuojaseloste")
    page.get_by_role("navigation", name="Kieli").get_by_role("link", name="Svenska").click()
    expect(page).to_have_url(f"{watch.base_url}/privacy")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dataskyddsbeskrivning")
    page.get_by_role("link", name="Tillgänglighetsutlåtande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tillgänglighetsutlåtande")
    page.get_by_role("navigation", name="Språk").get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(H1["en"])
    assert watch.foreign_requests == []


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_wcag_violations(new_page: NewPage, lang: str, path: str) -> None:
    page, watch = new_page(locale=LOCALES[lang])
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert axe_violations(page) == []
    assert watch.foreign_requests == []
    assert watch.console_errors == []


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_form_with_errors_has_no_violations_and_focuses_the_summary(
    new_page: NewPage, lang: str
) -> None:
    page, _watch = new_page(locale=LOCALES[lang])
    page.goto("/accessibility/feedback")
    page.locator("#f-wants_reply").check()
    page.locator("#f-page").fill("/tet?q=kauppa")
    page.locator("button[type=submit]").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(page.locator("#f-page")).to_have_value("/tet?q=kauppa")
    expect(page.locator("#f-wants_reply")).to_be_checked()
    expect(page.locator("#f-message")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []


def test_feedback_can_be_sent_with_the_keyboard_only(new_page: NewPage) -> None:
    page, watch = new_page(locale="en-GB")
    page.goto("/accessibility/feedback")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    message = page.get_by_label("Your feedback")
    for _ in range(30):  # Tab through the page's own order until the first field is reached
        if page.evaluate("document.activeElement.id") == "f-message":
            break
        page.keyboard.press("Tab")
    expect(message).to_be_focused()
    page.keyboard.type("The date fields are hard to use with a screen reader.")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your feedback")
    assert watch.foreign_requests == []


def test_skip_link_is_visible_when_focused(new_page: NewPage) -> None:
    page, _watch = new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    box = page.get_by_role("link", name="Siirry sisältöön").bounding_box()
    assert box is not None
    assert box["y"] >= 0


@pytest.mark.parametrize("path", ["/", "/accessibility/feedback"])
def test_narrow_phone_screen_needs_no_horizontal_scrolling(new_page: NewPage, path: str) -> None:
    page, _watch = new_page(width=320, height=640)
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.fixture
def summer_voucher_year(live_server: str) -> None:
    """An open application year in the live server's database."""
    from sqlmodel import Session

    import tests.browser.conftest as browser_conftest
    from app.db import make_engine
    from tests.conftest import open_summer_voucher_year

    engine = make_engine(browser_conftest.LIVE_DATABASE_URL)
    with Session(engine) as session:
        open_summer_voucher_year(session)
        session.commit()
    engine.dispose()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_youth_pages_have_no_violations(
    new_page: NewPage, lang: str, summer_voucher_year: None
) -> None:
    page, watch = new_page(locale=LOCALES[lang])
    for path in (
        "/summer-voucher",
        "/summer-voucher/apply",
        "/summer-voucher/thanks",
        "/summer-voucher/activate/x",
    ):
        page.goto(path)
        assert axe_violations(page) == [], path
    page.goto("/summer-voucher/apply")
    page.locator("button[type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert axe_violations(page) == []
    assert watch.foreign_requests == []
