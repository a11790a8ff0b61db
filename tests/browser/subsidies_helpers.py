"""What the Helsinki-lisä browser tests share: logging in as the association and filling the
wizard in English over two logins up to the confirmation page (test_subsidies_wizard.py and
test_subsidies_story.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Dialog, Page, expect

from app.subsidies import service
from tests.browser.conftest import PageWatch, axe_violations
from tests.subsidies.factories import PDF, hetu, png_bytes

NewPage = Callable[..., tuple[Page, PageWatch]]
ASSOCIATION = "Kallion Nuorisoyhdistys ry (1234567-1)"


@dataclass(frozen=True)
class Employee:
    first_name: str = "Aino"
    last_name: str = "Virtanen"
    hetu: str = field(default_factory=lambda: hetu("010190", 234))

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], (page.url, violations)


def log_in_as_the_association(page: Page) -> None:
    """On the test provider's page: the demo user with two organisations picks the association."""
    page.locator('button[name="sub"][value="employer-two-orgs"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose the organisation you act for")
    page.locator("label", has_text=ASSOCIATION).click()
    page.get_by_role("button", name="Continue").click()


def log_in_as_staff(page: Page, watch: PageWatch, path: str, sub: str) -> None:
    """Open a staff page, log in on the test provider's page as `sub`, land back on it."""
    page.goto(path)
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    watch.console_errors.clear()  # the test provider's own login page loads a CDN stylesheet


def apply_over_two_logins(
    page: Page,
    watch: PageWatch,
    tmp_path: Path,
    *,
    employee: Employee | None = None,
    contact_email: str = "eija@example.com",
) -> int:
    """The association accepts the terms of service (first visit only), fills the wizard part
    way, saves and logs out, logs in again, resumes the draft from its home page, adds the files
    and sends the application. Ends on the confirmation page; returns the application number.
    axe-core checks every page; the keyboard drives some of it."""
    employee = employee or Employee()
    contract = tmp_path / "employment-contract.pdf"
    contract.write_bytes(PDF)
    consent = tmp_path / "consent.png"
    consent.write_bytes(png_bytes())

    # 1. The first visit asks for the terms of service, then comes back.
    page.goto("/employer/subsidies")
    log_in_as_the_association(page)
    watch.console_errors.clear()  # the test provider's own login page loads a CDN stylesheet
    if "/employer/subsidies/terms" in page.url:
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Terms of service of the Helsinki benefit"
        )
        assert_accessible(page)
        page.get_by_role("button", name="Accept and continue").click()
        expect(page.get_by_text("Tick every box to continue.").first).to_be_visible()
        assert_accessible(page)
        watch.console_errors.clear()  # the refusal answers 422, as it should
        for label in page.locator("label[for^=f-consent_ids-]").all():
            label.click()
        page.get_by_role("button", name="Accept and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Helsinki benefit applications")
    assert_accessible(page)
    page.get_by_role("link", name="Apply for the Helsinki benefit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for the Helsinki benefit")
    assert_accessible(page)
    page.get_by_role("button", name="Start a new application").click()

    # 2. The employer part: the association's own question is asked.
    expect(page.get_by_role("heading", level=1)).to_have_text("Employer")
    expect(page.get_by_text("Kallion Nuorisoyhdistys ry").first).to_be_visible()
    assert_accessible(page)
    # The address fields appear only when asked for (progressive JavaScript).
    expect(page.locator("#f-alternative_street_address")).to_be_hidden()
    page.locator("label[for=f-use_alternative_address]").click()
    expect(page.locator("#f-alternative_street_address")).to_be_visible()
    page.locator("label[for=f-use_alternative_address]").click()
    page.get_by_label("Bank account (IBAN)").fill("FI00 1234")  # a typo first
    page.get_by_label("Contact person's first name").fill("Eija")
    page.get_by_label("Contact person's last name").fill("Esimerkki")
    page.get_by_label("Contact person's phone number").fill("040 123 4567")
    page.get_by_label("Contact person's e-mail address").fill(contact_email)
    page.locator("label[for=f-language-en]").click()
    page.locator("label[for=f-association_has_business_activities-true]").click()
    page.locator("label[for=f-co_operation_negotiations-false]").click()
    page.locator("label[for=f-other_subsidised_employed-false]").click()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Check the following:")).to_be_visible()
    expect(page.locator("#f-iban")).to_have_value("FI00 1234")  # the typed value is kept
    expect(page.locator("#f-iban")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert_accessible(page)
    watch.console_errors.clear()  # the refusal answers 422, as it should
    # Keyboard only: correct the account and send the form with Enter.
    page.locator("#f-iban").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("FI21 1234 5600 0007 85")
    page.keyboard.press("Enter")

    # 3. De minimis: the rows appear with "yes".
    expect(page.get_by_role("heading", level=1)).to_have_text("De minimis aid")
    assert_accessible(page)
    expect(page.locator("#f-aids")).to_be_hidden()
    page.locator("label[for=f-de_minimis_aid-true]").click()
    expect(page.locator("#f-aids")).to_be_visible()
    today = service.today()
    page.get_by_label("Granter").fill("Business Finland")
    page.get_by_label("Amount (€)").fill("12 000")
    page.get_by_label("Date granted").fill((today - timedelta(days=100)).isoformat())
    page.get_by_role("button", name="Save and continue").click()

    # 4. The employee: saved and closed midway.
    expect(page.get_by_role("heading", level=1)).to_have_text("Employee and employment")
    assert_accessible(page)
    page.get_by_label("Employee's first name").fill(employee.first_name)
    page.get_by_label("Employee's last name").fill(employee.last_name)
    page.get_by_label("Employee's personal identity code").fill(employee.hetu)
    page.locator("label[for=f-is_living_in_helsinki]").click()
    page.locator("label[for=f-association_immediate_manager_check]").click()
    page.get_by_label("Job title").fill("Youth worker")
    page.get_by_label("Working hours a week").fill("37,5")
    page.get_by_label("Collective agreement").fill("Sivistystyönantajat")
    page.get_by_label("Gross pay a month (€)").fill("2 400")
    page.get_by_label("Holiday pay a month (€)").fill("0")
    page.get_by_label("Indirect labour costs a month (€)").fill("480")
    page.locator("label[for=f-pay_subsidy_granted-false]").click()
    expect(page.locator("#f-pay_subsidy_percent")).to_be_hidden()
    page.locator("label[for=f-apprenticeship_program-false]").click()
    # Leaving with unsaved changes asks first (the browser's own dialog).
    dialogs: list[str] = []

    def stay(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="All parts of the application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Employee and employment")
    assert dialogs == ["beforeunload"]
    page.get_by_role("button", name="Save and close").click()
    expect(page.get_by_text("The draft was saved.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Log out").click()
    expect(page).not_to_have_url(re.compile(r"/employer/"))

    # 5. Another day: log in again and resume from the home page.
    page.goto("/employer")
    log_in_as_the_association(page)
    watch.console_errors.clear()  # the test provider's login page again
    expect(page.get_by_role("heading", level=1)).to_have_text("Kallion Nuorisoyhdistys ry")
    assert_accessible(page)
    page.get_by_role("link", name=f"Continue the draft: {employee.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Helsinki benefit application")
    expect(page.locator("#state-employee")).to_have_text("Completed")
    expect(page.locator("#state-period")).to_have_text("Not started")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Continue where you left off")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Benefit period")
    assert_accessible(page)
    start = today - timedelta(days=10)
    page.get_by_label("Start date of the benefit period").fill(start.isoformat())
    page.get_by_label("End date of the benefit period").fill(
        (service.add_months(start, 6) - timedelta(days=1)).isoformat()
    )
    page.get_by_role("button", name="Save and continue").click()

    # 6. Files, checked by their content.
    expect(page.get_by_role("heading", level=1)).to_have_text("Attachments")
    assert_accessible(page)
    page.get_by_label("Type of file").select_option("employment_contract")
    page.get_by_label("File", exact=True).set_input_files(str(contract))
    page.get_by_role("button", name="Upload the file").click()
    expect(page.get_by_role("link", name="employment-contract.pdf")).to_be_visible()
    page.get_by_label("Type of file").select_option("employee_consent")
    page.get_by_label("File", exact=True).set_input_files(str(consent))
    page.get_by_role("button", name="Upload the file").click()
    expect(page.get_by_role("link", name="consent.png")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continue").click()

    # 7. Check, accept the terms of the benefit, send.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(page.get_by_text("The application cannot be sent yet")).to_have_count(0)
    expect(page.get_by_text("Business Finland")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms and sending")
    assert_accessible(page)
    for label in page.locator("label[for^=f-consent_ids-]").all():
        label.click()
    page.get_by_role("button", name="Send the application").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("The application was sent")
    number = page.get_by_text(re.compile(r"Application number: \d+"))
    expect(number).to_be_visible()
    assert_accessible(page)
    found = re.search(r"\d+", number.inner_text())
    assert found is not None
    return int(found.group(0))
