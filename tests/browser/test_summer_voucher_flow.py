"""Kesäseteli end to end in a real browser, with a real SMTP server (aiosmtpd): a youth applies in
Swedish and confirms from the e-mail, the voucher arrives with its PDF, an employer claims it in
Finnish with attachments, and a handler approves the claim. axe-core checks every page."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.db import make_engine, utcnow
from app.notifications.config import MailSettings
from app.notifications.worker import run_outbox_once
from app.summer_voucher.population import DEFAULT_FIXTURE
from tests import conftest as root
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import PageWatch, axe_violations
from tests.summer_voucher.factories import PDF, png_bytes

NewPage = Callable[..., tuple[Page, PageWatch]]


@dataclass
class Inbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = BytesParser(policy=policy.default).parsebytes(
            envelope.content.replace(b"\r\n", b"\n")
        )
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, MailSettings]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            handler,
            MailSettings(
                _env_file=None, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=port
            ),
        )
    finally:
        controller.stop()


def send_mail(mail: MailSettings) -> None:
    """What the outbox job does in production: send every queued message over SMTP. In a
    thread of its own: Playwright keeps an event loop running in this one."""
    settings = root.make_settings(browser_conftest.LIVE_DATABASE_URL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run_outbox_once, settings, mail).result(timeout=60)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def sixteen_year_old() -> dict[str, Any]:
    """A Helsinki resident of the fixture register who is 16 this year (the 9th graders)."""
    year = utcnow().year
    for person in json.loads(Path(DEFAULT_FIXTURE).read_text()):
        hetu = person["hetu"]
        century = {"+": 1800, "-": 1900, "A": 2000}.get(hetu[6], 1900)
        born = century + int(hetu[4:6])
        if (
            year - born == 16
            and person["alive"]
            and not person["non_disclosure"]
            and person["home_municipality"]["name"] == "Helsinki"
        ):
            return dict(person)
    pytest.skip("the fixture register has no 16-year-old this year")


def assert_accessible(page: Page) -> None:
    assert axe_violations(page) == [], page.url


def test_youth_voucher_claim_and_approval(
    new_page: NewPage, idp: str, inbox: tuple[Inbox, MailSettings], tmp_path: Path
) -> None:
    mailbox, mail = inbox
    engine = make_engine(browser_conftest.LIVE_DATABASE_URL)
    with Session(engine) as session:
        if root.open_summer_voucher_year(session) is not None:
            session.commit()
    engine.dispose()
    person = sixteen_year_old()

    # 1. The youth applies in Swedish.
    youth, watch = new_page(locale="sv-FI")
    youth.goto("/summer-voucher/apply")
    expect(youth.locator("html")).to_have_attribute("lang", "sv")
    assert_accessible(youth)
    youth.locator("[name=first_name]").fill(person["first_names"].split()[0])
    youth.locator("[name=last_name]").fill(person["last_name"])
    youth.locator("[name=hetu]").fill(person["hetu"])
    youth.locator("[name=postcode]").fill(person["address"]["postcode"])
    youth.locator("label[for=f-is_unlisted_school]").click()
    youth.locator("[name=unlisted_school]").fill("Botby grundskola")
    youth.locator("label[for=tg-primary_target_group]").click()
    youth.locator("[name=phone]").fill("040 123 4567")
    email = f"ung.{person['hetu'][:6]}@example.com"
    youth.locator("[name=email]").fill(email)
    youth.locator("label[for=f-terms_accepted]").click()
    youth.locator("form.stacked-form button[type=submit]").click()
    expect(youth.get_by_role("heading", level=1)).to_have_text("Kolla din e-post")
    assert_accessible(youth)

    send_mail(mail)
    # Earlier browser tests may have queued mail of their own in the shared database.
    (activation,) = [message for to, message in mailbox.messages if to == [email]]
    link = re.search(r"http://\S+/summer-voucher/activate/\S+", body_text(activation))
    assert link is not None
    youth.goto(link.group(0))
    assert_accessible(youth)
    youth.locator("main form button[type=submit]").click()
    assert_accessible(youth)

    # 2. The voucher arrives at once (an eligible Helsinki resident), with its PDF.
    send_mail(mail)
    ((recipients, voucher_mail),) = [
        (to, message)
        for to, message in mailbox.messages
        if email in to and message is not activation
    ]
    assert "kesaseteli@hel.fi" in recipients  # the handler mailbox's copy
    text = body_text(voucher_mail)
    found = re.search(r"\b([0-9A-Z]{3}(?:-[0-9A-Z]{1,3})+)\b", text)
    assert found is not None, text
    serial = found.group(1)
    pdfs = [p for p in voucher_mail.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    assert pdfs[0].get_content().startswith(b"%PDF")
    assert watch.foreign_requests == []

    # 3. The employer claims it in Finnish.
    contract = tmp_path / "tyosopimus.pdf"
    contract.write_bytes(PDF)
    payslip = tmp_path / "palkkalaskelma.png"
    payslip.write_bytes(png_bytes())
    employer, watch = new_page(locale="fi-FI")
    employer.goto("/employer/summer-voucher")
    employer.locator('button[name="sub"][value="employer-one"]').click()
    expect(employer.get_by_role("heading", level=1)).to_have_text("Kesäsetelin korvaushakemukset")
    watch.console_errors.clear()  # the test provider's own login page loads a CDN stylesheet
    assert_accessible(employer)
    employer.get_by_role("button", name="Tee uusi hakemus").click()
    expect(employer.get_by_role("heading", level=1)).to_have_text("Kesäsetelin korvaushakemus")
    assert_accessible(employer)
    employer.get_by_label("Työntekijän nimi").fill(
        f"{person['first_names'].split()[0]} {person['last_name']}"
    )
    employer.get_by_label("Kesäsetelin sarjanumero").fill(serial.lower())
    employer.get_by_role("button", name="Hae nuoren tiedot").click()
    expect(employer.get_by_text(serial)).to_be_visible()
    year = utcnow().year
    employer.get_by_label("Työpaikan postinumero").fill("00100")
    employer.get_by_label("Työsuhteen alkamispäivä").fill(f"{year}-06-02")
    employer.get_by_label("Työsuhteen päättymispäivä").fill(f"{year}-07-31")
    employer.get_by_label("Tehdyt työtunnit").fill("75,5")
    employer.get_by_label("Maksettu palkka (€)").fill("870,00")
    employer.get_by_label("Työtehtävät").fill("Kahvilan asiakaspalvelu")
    employer.locator("label[for=hired-no]").click()
    employer.locator("#f-contact_name").fill("Eija Esimerkki")
    employer.get_by_label("Yhteyshenkilön sähköpostiosoite").fill("eija@example.com")
    employer.get_by_label("Yhteyshenkilön puhelinnumero").fill("040 765 4321")
    employer.get_by_label("Tilinumero (IBAN)").fill("FI21 1234 5600 0007 85")
    employer.get_by_role("button", name="Tallenna luonnos").click()
    expect(employer.get_by_text("Luonnos tallennettiin.")).to_be_visible()
    assert_accessible(employer)
    employer.get_by_label("Lisää tiedosto: Työsopimus").set_input_files(str(contract))
    employer.locator("form:has(#f-attachments_employment_contract) button").click()
    employer.get_by_label("Lisää tiedosto: Palkkalaskelma").set_input_files(str(payslip))
    employer.locator("form:has(#f-attachments_payslip) button").click()
    expect(employer.get_by_role("link", name="palkkalaskelma.png")).to_be_visible()
    employer.get_by_role("link", name="Tarkista ja lähetä").click()
    expect(employer.get_by_role("heading", level=1)).to_have_text("Tarkista ja lähetä hakemus")
    assert_accessible(employer)
    employer.locator("label[for=f-terms_accepted]").click()
    employer.get_by_role("button", name="Lähetä hakemus").click()
    expect(employer.get_by_role("heading", level=1)).to_have_text("Hakemus on lähetetty")
    assert_accessible(employer)
    employer.get_by_role("link", name="Palaa hakemuksiin").click()
    expect(employer.get_by_text("Lähetetty")).to_be_visible()
    assert watch.foreign_requests == []
    assert watch.console_errors == []

    # 4. A handler approves it in the back office (Finnish), keyboard and all.
    handler, watch = new_page(locale="fi-FI")
    handler.goto("/admin/summer-voucher/claims")
    handler.locator('button[name="sub"][value="staff-handler"]').click()
    expect(handler.get_by_role("heading", level=1)).to_have_text(
        "Kesäseteli: työnantajien hakemukset"
    )
    watch.console_errors.clear()  # the test provider's login page
    assert_accessible(handler)
    handler.get_by_role("link", name=re.compile(re.escape(serial))).click()
    expect(handler.get_by_text("Kahvila Esimerkki Oy").first).to_be_visible()
    assert_accessible(handler)
    # A note (keyboard only), its edit page, and the request-for-information page.
    handler.locator("#f-content").fill("Palkkalaskelma tarkistettu.")
    handler.keyboard.press("Tab")
    handler.locator("#f-content").focus()
    handler.get_by_role("button", name="Lisää muistiinpano").focus()
    handler.keyboard.press("Enter")
    expect(handler.get_by_text("Palkkalaskelma tarkistettu.")).to_be_visible()
    assert_accessible(handler)
    handler.get_by_role("link", name=re.compile("Muokkaa tai poista")).first.click()
    assert_accessible(handler)
    handler.go_back()
    handler.get_by_role("link", name="Pyydä työnantajalta lisätietoja").click()
    assert_accessible(handler)
    handler.go_back()
    handler.get_by_role("link", name="Hyväksy", exact=True).click()
    assert_accessible(handler)
    expect(handler.locator("#decision-accepted")).to_be_checked()
    handler.get_by_role("button", name="Tallenna päätös").click()
    expect(handler.get_by_text("Hyväksytty").first).to_be_visible()
    expect(handler.get_by_text("350,00").first).to_be_visible()
    assert_accessible(handler)
    handler.goto("/admin/summer-voucher/exports")
    assert_accessible(handler)
    assert watch.foreign_requests == []
    assert watch.console_errors == []

    # The employer sees the decision and the amount.
    employer.reload()
    employer.get_by_role("link", name=re.compile("avaa hakemus")).first.click()
    expect(employer.get_by_text("Hakemus hyväksyttiin.", exact=False)).to_be_visible()
    assert_accessible(employer)
