"""The Helsinki-lisä back office in a real browser (Finnish): a handler finds a sent application,
takes it into handling, checks a section, calculates, and a decider opens the decision; axe-core
checks every staff page on the way."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.db import make_engine
from app.documents.storage import LocalFileStore
from tests import conftest as root
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import PageWatch, axe_violations
from tests.subsidies import factories as sf

NewPage = Callable[..., tuple[Page, PageWatch]]


def assert_accessible(page: Page) -> None:
    assert axe_violations(page) == [], page.url


def sent_application() -> tuple[int, int]:
    """A received application in the live server's database: (id, application number)."""
    settings = root.make_settings(browser_conftest.LIVE_DATABASE_URL)
    engine = make_engine(browser_conftest.LIVE_DATABASE_URL)
    try:
        with Session(engine) as session:
            application = sf.submitted_application(
                session,
                LocalFileStore(settings.files_dir),
                actor=sf.employer_actor(session, subject="browser-subsidy-employer"),
                employee={"employee_hetu": sf.hetu("170384", 456)},
            )
            session.commit()
            return application.id or 0, application.application_number or 0
    finally:
        engine.dispose()


def staff_page(new_page: NewPage, path: str, sub: str) -> tuple[Page, PageWatch]:
    page, watch = new_page(locale="fi-FI")
    page.goto(path)
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    watch.console_errors.clear()  # the test provider's own login page
    return page, watch


def test_the_staff_pages_are_accessible(new_page: NewPage) -> None:
    application_id, number = sent_application()
    base = "/admin/subsidies"
    handler, watch = staff_page(new_page, base, "staff-handler")
    expect(handler.get_by_role("heading", level=1)).to_have_text("Helsinki-lisähakemukset")
    assert_accessible(handler)
    # Search by the application number, from the keyboard.
    handler.locator("#f-q").fill(str(number))
    handler.locator("#f-q").press("Enter")
    link = handler.get_by_role("link", name=re.compile(f"^{number}"))
    expect(link).to_be_visible()
    assert_accessible(handler)
    link.click()
    expect(handler.get_by_role("heading", level=1)).to_have_text(f"Helsinki-lisähakemus {number}")
    assert_accessible(handler)
    handler.get_by_role("button", name="Ota käsittelyyn").click()
    expect(handler.get_by_text("Käsittelet tätä hakemusta.")).to_be_visible()
    assert_accessible(handler)
    mark = handler.locator("#section-employee form button")
    expect(mark).to_contain_text("Merkitse tarkistetuksi")
    mark.click()
    expect(handler.locator("#section-employee form button")).to_contain_text(
        "Poista tarkistusmerkintä"
    )
    for link_name in ("Pyydä lisätietoja", "Peru hakemus"):
        handler.get_by_role("link", name=link_name).click()
        assert_accessible(handler)
        handler.go_back()
    handler.locator("#section-employee").get_by_role("link", name=re.compile("^Muuta")).click()
    expect(handler.get_by_role("heading", level=1)).to_have_text("Muuta: Työntekijä ja työsuhde")
    assert_accessible(handler)
    handler.go_back()
    handler.get_by_role("link", name="Avaa laskuri").click()
    expect(handler.get_by_role("heading", level=1)).to_have_text("Laskuri")
    assert_accessible(handler)
    handler.locator("#f-start_date").fill("2023-09-01")
    handler.locator("#f-end_date").fill("2023-10-31")
    handler.locator('label[for="f-state_aid_max_percentage-100"]').click()
    handler.get_by_role("button", name="Laske").click()
    expect(handler.get_by_text(re.compile("Yhteensä: "))).to_be_visible()
    assert_accessible(handler)
    handler.get_by_role("link", name="Lisää aiempi tuki").click()
    assert_accessible(handler)
    handler.goto(f"{base}/paper")
    assert_accessible(handler)
    handler.get_by_role("button", name="Aloita hakemuksen syöttäminen").click()
    expect(handler.locator(".hds-error-summary")).to_be_visible()
    assert_accessible(handler)
    assert watch.foreign_requests == []
    # The refused form answers 422 on purpose; nothing else may fail.
    assert [e for e in watch.console_errors if "422" not in e] == []

    decider, watch = staff_page(new_page, f"{base}/{application_id}", "staff-decider")
    decider.get_by_role("link", name="Tee päätös").click()
    expect(decider.get_by_role("heading", level=1)).to_have_text("Tee päätös hakemuksesta")
    assert_accessible(decider)
    decider.get_by_role("button", name="Tallenna päätös").click()
    expect(decider.locator(".hds-error-summary")).to_be_visible()
    assert_accessible(decider)
    assert watch.foreign_requests == []
