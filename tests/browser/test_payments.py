"""From decisions to money in a real browser (issue #7): a handler approves a Kesäseteli claim, a
decider accepts a Helsinki-lisä application, a payer builds a batch, a second payer approves it,
makes and downloads the bank file (XSD-valid), marks the payments paid, and the employer sees
"paid" on both. axe-core checks the payment pages on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.db import make_engine
from app.documents.storage import LocalFileStore
from app.payments import bank_file
from app.subsidies import handling, messages
from app.subsidies.staff_schemas import CalculationIn
from tests import conftest as root
from tests.admin import subsidy_factories as hf
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import PageWatch, axe_violations
from tests.subsidies import factories as sf
from tests.summer_voucher import factories as vf

NewPage = Callable[..., tuple[Page, PageWatch]]
COMPANY = "2956285-9"  # employer-one's organisation


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], (page.url, violations)


def decisions_waiting() -> tuple[int, int]:
    """In the live server's database: a sent claim and a calculated application in handling,
    both of employer-one's company. Returns (claim id, application id)."""
    settings = root.make_settings(browser_conftest.LIVE_DATABASE_URL)
    store = LocalFileStore(settings.files_dir)
    engine = make_engine(browser_conftest.LIVE_DATABASE_URL)
    try:
        with Session(engine) as session:
            root.open_summer_voucher_year(session)
            employer = sf.employer_actor(session, subject="employer-one", business_id=COMPANY)
            youth, voucher = vf.accepted_youth(session, first_name="Maksu", last_name="Testinen")
            claim = vf.submitted_claim(session, store, actor=employer, youth=youth, voucher=voucher)
            application = sf.submitted_application(session, store, actor=employer)
            handling.take(session, application=application, actor=hf.staff(session))
            handling.calculate(
                session,
                application=application,
                data=CalculationIn(
                    start_date=date(2023, 9, 1),
                    end_date=date(2023, 10, 31),
                    monthly_pay=Decimal("2500"),
                    other_expenses=Decimal("200"),
                    state_aid_max_percentage=100,
                ),
                actor=hf.staff(session),
            )
            session.commit()
            return claim.id or 0, application.id or 0
    finally:
        engine.dispose()


def staff_page(new_page: NewPage, path: str, sub: str) -> tuple[Page, PageWatch]:
    page, watch = new_page(locale="fi-FI")
    page.goto(path)
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    watch.console_errors.clear()  # the test provider's own login page
    return page, watch


def test_decisions_to_a_paid_bank_file(new_page: NewPage, tmp_path: Path) -> None:
    claim_id, application_id = decisions_waiting()

    handler, _ = staff_page(
        new_page, f"/admin/summer-voucher/claims/{claim_id}/decision", "staff-handler"
    )
    handler.locator('label[for="decision-accepted"]').click()
    handler.get_by_role("button", name="Tallenna päätös").click()
    expect(handler).to_have_url(re.compile(rf"/admin/summer-voucher/claims/{claim_id}"))

    decider, _ = staff_page(
        new_page, f"/admin/subsidies/{application_id}/decision", "staff-decider"
    )
    decider.locator('label[for="f-decision-accepted"]').click()
    decider.locator('label[for="f-granted_as_de_minimis_aid-false"]').click()
    decider.get_by_role("button", name="Tallenna päätös").click()
    expect(decider).to_have_url(re.compile(rf"/admin/subsidies/{application_id}$"))

    # The first payer puts both payments into a batch.
    payer, watch = staff_page(new_page, "/admin/payments", "staff-payer")
    expect(payer.get_by_role("heading", level=1)).to_have_text("Maksut")
    assert_accessible(payer)
    payer.get_by_role("link", name="Valitse maksut maksuerään").click()
    expect(payer.get_by_role("heading", level=1)).to_have_text("Maksettavat maksut")
    assert_accessible(payer)
    rows = payer.locator('input[name="item_ids"]')
    expect(rows.first).to_be_visible()
    rows_chosen = rows.count()  # the two of this test, and any earlier tests left payable
    for index in range(rows_chosen):  # from the keyboard
        rows.nth(index).focus()
        payer.keyboard.press("Space")
        expect(rows.nth(index)).to_be_checked()
    payer.get_by_role("button", name="Lisää valitut maksut maksuerään").click()
    expect(payer.get_by_role("heading", level=1)).to_contain_text("Luonnos")
    expect(
        payer.get_by_text("Toinen maksaja hyväksyy maksuerän: sinä kokosit sen.")
    ).to_be_visible()
    assert_accessible(payer)
    found = re.search(r"/admin/payments/batches/\d+$", payer.url)
    assert found, payer.url
    batch_path = found.group(0)
    assert watch.foreign_requests == []

    # The second payer approves it, makes the bank file and downloads it.
    second, watch = staff_page(new_page, batch_path, "staff-payer2")
    second.get_by_role("button", name="Hyväksy maksuerä").click()
    expect(second.get_by_role("heading", level=1)).to_contain_text("Hyväksytty")
    assert_accessible(second)
    second.get_by_role("button", name="Tee maksuaineisto").click()
    expect(second.get_by_role("heading", level=1)).to_contain_text("Maksuaineisto tehty")
    with second.expect_download() as download_info:
        second.get_by_role("link", name="Lataa maksuaineisto (ISO 20022 pain.001)").click()
    saved = tmp_path / "pain001.xml"
    download_info.value.save_as(saved)
    assert bank_file.validate(saved.read_bytes()) == []
    assert saved.read_bytes().count(b"<CdtTrfTxInf>") >= 2
    assert_accessible(second)

    # Both paid, from the keyboard-reachable forms of the table.
    mark = second.get_by_role("button", name="Merkitse maksetuksi")
    for _ in range(rows_chosen):
        mark.first.click()
        expect(second.get_by_role("heading", level=1)).to_be_visible()
    expect(second.get_by_role("heading", level=1)).to_contain_text("Suljettu")
    assert_accessible(second)
    assert watch.foreign_requests == []
    assert watch.console_errors == []

    # The employer sees "paid" on the claim and on the application.
    employer, _ = new_page(locale="fi-FI")
    employer.goto(f"/employer/summer-voucher/claims/{claim_id}")
    employer.locator('button[name="sub"][value="employer-one"]').click()
    expect(employer.get_by_text(re.compile(r"maksettu \d"))).to_be_visible()
    assert_accessible(employer)
    employer.goto(messages.employer_application_path(application_id))
    if "/employer/subsidies/terms" in employer.url:  # this user's first Helsinki-lisä page
        consents = employer.locator('input[name="consent_ids"]')
        for index in range(consents.count()):
            employer.locator(f'label[for="{consents.nth(index).get_attribute("id")}"]').click()
        employer.get_by_role("button", name="Hyväksy ja jatka").click()
    expect(employer.get_by_text(re.compile(r"maksettu \d"))).to_be_visible()
    assert_accessible(employer)
