"""Logging in through the real test provider in a browser: organisation choice, switch, logout."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageWatch, axe_violations

NewPage = Callable[..., tuple[Page, PageWatch]]


def pick_demo_user(page: Page, sub: str) -> None:
    """On the test provider's login page, choose one of the predefined demo users."""
    page.locator(f'button[name="sub"][value="{sub}"]').click()


def test_two_organisation_employer_chooses_switches_and_logs_out(
    new_page: NewPage, idp: str
) -> None:
    page, watch = new_page(locale="fi-FI")
    page.goto("/")
    page.get_by_role("link", name="Kirjaudu työnantajana").click()
    expect(page).to_have_url(re.compile("^" + re.escape(idp)))
    pick_demo_user(page, "employer-two-orgs")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Valitse organisaatio, jonka puolesta asioit"
    )
    assert axe_violations(page) == []
    page.locator("label", has_text="Kallion Nuorisoyhdistys ry (1234567-1)").click()
    page.get_by_role("button", name="Jatka").click()

    expect(page).to_have_url(f"{watch.base_url}/employer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kallion Nuorisoyhdistys ry")
    expect(
        page.get_by_text("Toimii organisaation Kallion Nuorisoyhdistys ry (1234567-1) puolesta")
    ).to_be_visible()
    expect(page.get_by_text("Aatteellinen yhdistys")).to_be_visible()  # from the trade register
    assert axe_violations(page) == []

    page.get_by_role("link", name="Vaihda organisaatiota").click()
    page.locator("label", has_text="Rakennus Demo Oy (3045112-8)").click()
    page.get_by_role("button", name="Jatka").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rakennus Demo Oy")

    old_cookies = page.context.cookies()
    page.get_by_role("button", name="Kirjaudu ulos").click()
    expect(page).to_have_url(re.compile("^" + re.escape(f"{idp}/oauth2/end_session")))

    replay, _ = new_page(locale="fi-FI")
    replay.context.add_cookies(old_cookies)  # type: ignore[arg-type]
    replay.goto("/employer")
    expect(replay).to_have_url(re.compile("^" + re.escape(idp)))  # sent to log in again
    assert watch.foreign_requests == []


def test_employer_with_one_company_lands_on_its_home(new_page: NewPage) -> None:
    page, _watch = new_page(locale="sv-FI")
    page.goto("/employer")
    pick_demo_user(page, "employer-one")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kahvila Esimerkki Oy")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert axe_violations(page) == []


def test_person_without_organisations_sees_why_and_can_log_out(new_page: NewPage) -> None:
    page, _watch = new_page(locale="en-GB")
    page.goto("/login")
    pick_demo_user(page, "no-orgs")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "No authorisation to act for an organisation"
    )
    assert axe_violations(page) == []
    page.get_by_role("main").get_by_role("button", name="Log out").click()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_staff_admin_pages_have_no_violations(new_page: NewPage, lang: str) -> None:
    page, _watch = new_page(locale={"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}[lang])
    page.goto("/admin/login")
    pick_demo_user(page, "staff-admin")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert axe_violations(page) == []
    page.goto("/admin/sessions")
    expect(page.get_by_role("table")).to_be_visible()
    assert axe_violations(page) == []
    page.goto("/admin/users/1/end-sessions")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(page) == []


def test_failed_login_page_has_no_violations(new_page: NewPage) -> None:
    page, _watch = new_page(locale="en-GB")
    page.goto("/auth/callback?code=forged&state=forged")
    expect(page.get_by_role("heading", level=1)).to_have_text("Login failed")
    assert axe_violations(page) == []


def test_handler_youth_application_pages_have_no_violations(new_page: NewPage) -> None:
    page, _watch = new_page(locale="fi-FI")
    page.goto("/admin/login")
    pick_demo_user(page, "staff-handler")
    page.goto("/admin/summer-voucher/youth")
    expect(page.get_by_role("table")).to_be_visible()
    assert axe_violations(page) == []

    page.goto("/admin/summer-voucher/youth/new")
    page.locator("form.stacked-form button[type=submit]").click()  # empty: the error state
    expect(page.locator("[data-error-summary]")).to_be_visible()
    assert axe_violations(page) == []

    for name, value in {
        "first_name": "Amira",
        "last_name": "Haddad",
        "birthdate": "2010-03-04",
        "postcode": "00500",
        "school": "Kallion lukio",
        "phone": "040 765 4321",
        "email": f"amira-{uuid.uuid4().hex[:8]}@example.com",
        "description": "Muuttanut Suomeen viime vuonna.",
    }.items():
        page.locator(f'[name="{name}"]').fill(value)
    page.locator('label[for="tg-primary_target_group"]').click()
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/summer-voucher/youth/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(page) == []
    page.goto("/admin/summer-voucher/youth")
    expect(page.get_by_role("table")).to_contain_text("Amira Haddad")
    assert axe_violations(page) == []
