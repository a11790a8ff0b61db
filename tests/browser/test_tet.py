"""TET in a real browser (issue #6): an employer drafts, previews and publishes a posting in
Finnish; a pupil on a 360 px wide phone finds it in Swedish by a field of work and a feature,
opens it and goes back to the same search; stored XSS payloads stay text; axe-core on every
page (search with and without results, detail, editor)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.db import make_engine
from app.tet import service
from tests.browser import conftest
from tests.browser.conftest import PageWatch, axe_violations
from tests.tet.factories import COMPANY, OTHER_COMPANY, make_posting

NewPage = Callable[..., tuple[Page, PageWatch]]
TITLE = "Eläintenhoitajan apulainen"


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], (page.url, violations)


def fits_the_screen(page: Page) -> bool:
    """No horizontal scrolling on a phone."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def filters_of(url: str) -> list[tuple[str, str]]:
    """The search's filters in a URL (an empty form field is no filter)."""
    return sorted((k, v) for k, v in parse_qsl(urlsplit(url).query) if v)


def employer_publishes_in_finnish(page: Page, watch: PageWatch) -> None:
    page.goto("/tet/manage")
    page.locator('button[name="sub"][value="employer-one"]').click()
    expect(page).to_have_url(re.compile(r"/tet/manage$"))
    watch.console_errors.clear()  # the test provider's own login page loads a CDN stylesheet
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    assert_accessible(page)
    page.get_by_role("link", name="Lisää uusi TET-paikka").click()

    # T3: the supervisor confirmation comes first, once.
    if "/confirm" in page.url:
        assert_accessible(page)
        page.locator("label[for='f-confirm']").click()
        page.get_by_role("button", name=re.compile("Vahvista")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uusi TET-ilmoitus")
    assert_accessible(page)

    # A draft needs only the title, the unit and the address.
    page.locator("#f-title").fill(TITLE)
    page.locator("#f-org_unit").fill("Korkeasaaren eläintarha")
    page.locator("#f-street").fill("Mustikkamaanpolku 12")
    page.locator("#f-postcode").fill("00570")
    page.locator("#f-city").fill("Helsinki")
    page.get_by_role("button", name="Tallenna julkaisematta").click()
    expect(page.locator("main")).to_contain_text("Luonnos tallennettiin")
    expect(page).to_have_url(re.compile(r"/tet/manage/\d+/edit"))
    expect(page.locator("#f-title")).to_have_value(TITLE)
    assert_accessible(page)

    # Publishing without the rest: the error summary lists what is missing, values stay.
    page.get_by_role("button", name="Julkaise", exact=True).click()
    summary = page.locator(".hds-notification--error, [role=alert]").first
    expect(summary).to_be_visible()
    expect(page.locator("#f-title")).to_have_value(TITLE)
    assert_accessible(page)

    start = service.today() + timedelta(days=10)
    page.locator("#f-contact_name").fill("Eija Esimerkki")
    page.locator("#f-contact_phone").fill("040 123 4567")
    page.locator("#f-contact_email").fill("eija@example.com")
    page.locator("#f-start_date").fill(start.isoformat())
    page.locator("#f-end_date").fill((start + timedelta(days=30)).isoformat())
    page.locator("label[for='f-languages-fi']").click()
    page.locator("label[for='f-languages-sv']").click()
    page.locator("#f-description").fill("Hoidat eläimiä hoitajan kanssa: ruokinta ja siivous.")
    page.locator("label[for='f-fields-environment']").click()
    page.locator("label[for='f-methods-real_work']").click()
    page.locator("label[for='f-features-animals']").click()
    page.locator("label[for='f-features-outdoors']").click()
    page.locator("#f-keywords").fill("eläimet, eläintarha")

    # The preview shows the posting as pupils will see it; publishing from there.
    page.get_by_role("button", name="Tallenna luonnos ja esikatsele").click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    expect(page.locator("main")).to_contain_text("Hoidat eläimiä hoitajan kanssa")
    expect(page.locator("main")).to_contain_text("Eija Esimerkki")
    assert_accessible(page)
    page.locator("label[for='f-accept_terms']").click()
    page.get_by_role("button", name="Julkaise", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tet/manage(\?.*)?$"))
    expect(page.locator("main")).to_contain_text(TITLE)
    assert_accessible(page)


def test_employer_publishes_and_a_pupil_finds_it_in_swedish_on_a_phone(
    new_page: NewPage,
) -> None:
    page, watch = new_page(locale="fi-FI")
    employer_publishes_in_finnish(page, watch)

    pupil, pupil_watch = new_page(locale="sv-FI", width=360, height=740)
    pupil.goto("/tet")
    expect(pupil.locator("html")).to_have_attribute("lang", "sv")
    expect(pupil.locator("h1")).to_contain_text("PRAO")
    assert fits_the_screen(pupil)
    assert_accessible(pupil)
    pupil.locator("label[for='f-field-environment']").click()
    pupil.locator("label[for='f-feature-animals']").click()
    pupil.locator(
        "form[role=search] button[type=submit], form.tet-search button[type=submit]"
    ).first.click()
    expect(pupil).to_have_url(re.compile(r"field=environment"))
    expect(pupil).to_have_url(re.compile(r"feature=animals"))
    search_url = pupil.url
    result = pupil.get_by_role("link", name=re.compile(TITLE))
    expect(result).to_be_visible()
    assert fits_the_screen(pupil)
    assert_accessible(pupil)
    result.click()
    expect(pupil.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(pupil.locator("main")).to_contain_text("Eija Esimerkki")
    expect(pupil.locator("a[href^='tel:']")).to_be_visible()
    assert fits_the_screen(pupil)
    assert_accessible(pupil)
    pupil.get_by_role("link", name=re.compile("Tillbaka")).first.click()
    assert filters_of(pupil.url) == filters_of(search_url)
    expect(pupil.get_by_role("link", name=re.compile(TITLE))).to_be_visible()
    assert pupil_watch.console_errors == []


PAYLOADS = (
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1>",
    "javascript:window.__xss=1",
    "{{ 7*7 }}<b>bold</b>",
)


def test_stored_payloads_are_only_text(new_page: NewPage) -> None:
    engine = make_engine(conftest.LIVE_DATABASE_URL)
    try:
        with Session(engine) as session:
            for payload in PAYLOADS:
                make_posting(
                    session,
                    OTHER_COMPANY,
                    title=f"XSS {payload}"[:128],
                    description=f"Kuvaus {payload}",
                    keywords=[payload[:50]],
                    fields=["ict"],
                )
            session.commit()
    finally:
        engine.dispose()
    page, watch = new_page(locale="en-GB")
    page.goto("/tet?q=XSS&field=ict")
    expect(page.get_by_role("link", name=re.compile("XSS")).first).to_be_visible()
    for link in page.get_by_role("link", name=re.compile("^XSS")).all()[:3]:
        href = link.get_attribute("href")
        assert href is not None
        detail, _ = new_page(locale="en-GB")
        detail.goto(href)
        expect(detail.get_by_role("heading", level=1)).to_contain_text("XSS")
        assert detail.evaluate("window.__xss") is None
        assert detail.locator("main script, main img[src='x'], main svg[onload]").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.locator("main img[src='x'], main svg[onload]").count() == 0
    expect(page.locator("main")).to_contain_text("<b>bold</b>")
    assert watch.console_errors == []


def test_search_without_results_suggests_and_is_accessible(new_page: NewPage) -> None:
    for lang, locale in (("fi", "fi-FI"), ("sv", "sv-FI"), ("en", "en-GB")):
        page, _ = new_page(locale=locale)
        page.goto("/tet?q=zzqqxx+kahvila")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page)
        page.goto("/tet?field=nonexistent")
        assert_accessible(page)


def test_the_editor_pages_are_accessible_in_swedish_and_english(new_page: NewPage) -> None:
    engine = make_engine(conftest.LIVE_DATABASE_URL)
    try:
        with Session(engine) as session:
            draft = make_posting(session, COMPANY, publish=False, title="Luonnos")
            session.commit()
            draft_id = draft.id
    finally:
        engine.dispose()
    for lang, locale in (("sv", "sv-FI"), ("en", "en-GB")):
        page, watch = new_page(locale=locale)
        page.goto("/tet/manage")
        page.locator('button[name="sub"][value="employer-one"]').click()
        expect(page).to_have_url(re.compile(r"/tet/manage$"))
        watch.console_errors.clear()  # the test provider's own login page loads a CDN stylesheet
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page)
        for path in ("/tet/manage/confirm", "/tet/manage/new", "/tet/manage/terms"):
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            assert_accessible(page)
        for suffix in ("edit", "preview", "delete"):
            page.goto(f"/tet/manage/{draft_id}/{suffix}")
            expect(page.locator("h1")).to_be_visible()
            assert_accessible(page)
        # The editor's error summary in this language.
        page.goto(f"/tet/manage/{draft_id}/edit")
        page.locator("#f-title").fill("")
        page.locator("button[name=action][value=draft]").click()
        expect(page.locator("[data-error-summary]")).to_be_visible()
        assert_accessible(page)
