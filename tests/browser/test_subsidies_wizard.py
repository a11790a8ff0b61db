"""Helsinki-lisä in a real browser, in English: an association accepts the terms of service,
fills the wizard part way, saves and logs out, logs in again, resumes the draft from its home
page, adds the files and sends the application. axe-core checks every page; the keyboard
drives some of it; the leave-with-unsaved-changes warning and the revealed fields are the
progressive JavaScript's. The steps are subsidies_helpers.apply_over_two_logins, which the
whole story (test_subsidies_story.py) shares."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.subsidies_helpers import NewPage, apply_over_two_logins, assert_accessible


def test_an_association_applies_over_two_logins(new_page: NewPage, tmp_path: Path) -> None:
    page, watch = new_page(locale="en-GB")
    apply_over_two_logins(page, watch, tmp_path)
    page.get_by_role("link", name="Open the application").click()
    expect(page.get_by_text("Waiting for handling").first).to_be_visible()
    expect(page.get_by_text("Application sent: waiting for handling")).to_be_visible()
    expect(page.get_by_text("010190-****")).to_be_visible()  # the code masked once sent
    assert_accessible(page)
    page.get_by_role("link", name="Messages with the handler").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages with the handler")
    assert_accessible(page)
    assert watch.foreign_requests == []
    assert watch.console_errors == [], watch.console_errors
