"""Helsinki-lisä from the application to the decision in a real browser (issue #5): an association
fills the wizard in English over two logins and sends it; a handler finds it by its number,
takes it and asks for more information, reopening the employee part; the applicant gets the
e-mail (a real SMTP server, aiosmtpd), follows its link, sees the request and the deadline,
changes the pay and sends it again; the handler sees the change in the change history and
calculates; a decider accepts it (not de minimis); the applicant sees the decision, the amount
and the timeline with every status and its date. axe-core checks every page on the way; the
keyboard drives the search, the request and the answer."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app import i18n
from app.db import make_engine
from app.notifications.config import MailSettings
from app.notifications.worker import run_outbox_once
from app.subsidies import handling, service
from app.subsidies.models import Application
from app.templating import format_day, format_euros
from tests import conftest as root
from tests.browser import conftest as browser_conftest
from tests.browser.subsidies_helpers import (
    Employee,
    NewPage,
    apply_over_two_logins,
    assert_accessible,
    log_in_as_staff,
    log_in_as_the_association,
)
from tests.subsidies.factories import hetu

CONTACT = "story.contact@example.com"  # this test's own: other tests' mail is not ours
EMPLOYEE = Employee("Mikko", "Lahtinen", hetu("150395", 321))
REQUEST = "Please check the gross pay: the employment contract says 2 600 € a month."


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

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if address in recipients]


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
    """What the outbox job does in production, in a thread of its own: Playwright keeps an
    event loop running in this one."""
    settings = root.make_settings(browser_conftest.LIVE_DATABASE_URL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run_outbox_once, settings, mail).result(timeout=60)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def stored(application_id: int) -> Application:
    engine = make_engine(browser_conftest.LIVE_DATABASE_URL)
    try:
        with Session(engine) as session:
            application = session.get(Application, application_id)
            assert application is not None
            session.expunge(application)
            return application
    finally:
        engine.dispose()


def in_language(lang: str, value: Any, formatter: Any) -> str:
    with i18n.language(lang):
        return str(formatter(value))


def no_failures(page: Page, watch: browser_conftest.PageWatch) -> None:
    assert watch.foreign_requests == [], page.url
    assert watch.console_errors == [], watch.console_errors


def test_an_application_from_the_wizard_to_the_decision(
    new_page: NewPage, inbox: tuple[Inbox, MailSettings], tmp_path: Path
) -> None:
    mailbox, mail = inbox
    send_mail(mail)  # earlier tests' queued mail out of the way
    mailbox.messages.clear()

    # 1. The association fills the wizard in English over two logins and sends it.
    applicant, watch = new_page(locale="en-GB")
    number = apply_over_two_logins(
        applicant, watch, tmp_path, employee=EMPLOYEE, contact_email=CONTACT
    )
    applicant.get_by_role("link", name="Open the application").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text(
        f"Helsinki benefit application {number}"
    )
    found = re.search(r"/employer/subsidies/applications/(\d+)$", applicant.url)
    assert found is not None, applicant.url
    application_id = int(found.group(1))
    expect(applicant.get_by_text("Waiting for handling").first).to_be_visible()
    assert_accessible(applicant)
    no_failures(applicant, watch)
    applicant.get_by_role("button", name="Log out").click()
    expect(applicant).not_to_have_url(re.compile(r"/employer/"))
    watch.console_errors.clear()  # the test provider's logout page loads a CDN stylesheet

    # 2. A handler finds it by its number (keyboard), takes it and asks for more information,
    # reopening the employee part.
    handler, staff_watch = new_page(locale="fi-FI")
    log_in_as_staff(handler, staff_watch, "/admin/subsidies", "staff-handler")
    expect(handler.get_by_role("heading", level=1)).to_have_text("Helsinki-lisähakemukset")
    assert_accessible(handler)
    handler.locator("#f-q").focus()
    handler.keyboard.type(str(number))
    handler.keyboard.press("Enter")
    expect(handler).to_have_url(re.compile(f"[?&]q={number}(&|$)"))
    expect(handler.get_by_text(re.compile("^Hakutulokset: 1 "))).to_be_visible()
    link = handler.get_by_role("link", name=re.compile(f"^{number}\\W+avaa hakemus {number}$"))
    expect(link).to_be_visible()
    expect(handler.get_by_role("row", name=re.compile(EMPLOYEE.name))).to_contain_text("Saapunut")
    assert_accessible(handler)
    link.focus()
    handler.keyboard.press("Enter")
    expect(handler.get_by_role("heading", level=1)).to_have_text(f"Helsinki-lisähakemus {number}")
    assert_accessible(handler)
    handler.get_by_role("button", name="Ota käsittelyyn").click()
    expect(handler.get_by_text("Käsittelet tätä hakemusta.")).to_be_visible()
    assert_accessible(handler)
    handler.get_by_role("link", name="Pyydä lisätietoja").click()
    expect(handler.get_by_role("heading", level=1)).to_have_text("Pyydä hakijalta lisätietoja")
    assert_accessible(handler)
    deadline = handling.information_deadline()
    shown_deadline = format_day(deadline)  # d.M.yyyy in every language of the service
    expect(handler.get_by_text(shown_deadline)).to_be_visible()
    handler.get_by_label("Mitä tarvitset hakijalta?").focus()
    handler.keyboard.type(REQUEST)
    handler.locator("#step-employee").focus()
    handler.keyboard.press("Space")
    expect(handler.locator("#step-employee")).to_be_checked()
    handler.get_by_role("button", name="Lähetä pyyntö").focus()
    handler.keyboard.press("Enter")
    expect(handler.get_by_role("heading", level=1)).to_have_text(f"Helsinki-lisähakemus {number}")
    expect(handler.locator(".status-tag").first).to_have_text("Lisätietoja tarvitaan")
    expect(handler.get_by_text(f"hakijan määräaika on {shown_deadline}")).to_be_visible()
    expect(handler.locator("#messages")).to_contain_text(REQUEST)
    assert_accessible(handler)
    no_failures(handler, staff_watch)

    # 3. The applicant's e-mail: in English, with the deadline and the link, not the message.
    send_mail(mail)
    (request_mail,) = mailbox.to(CONTACT)
    assert request_mail["Subject"] == (
        "More information is needed for your Helsinki benefit application"
    )
    text = body_text(request_mail)
    assert f"application {number} needs more information" in text, text
    assert shown_deadline in text, text
    assert REQUEST not in text
    link_found = re.search(r"http://\S+/employer/subsidies/applications/\d+", text)
    assert link_found is not None, text
    assert link_found.group(0).endswith(f"/employer/subsidies/applications/{application_id}")

    # 4. The applicant follows the link, logs in, sees the request and the deadline.
    applicant.goto(link_found.group(0))
    log_in_as_the_association(applicant)
    watch.console_errors.clear()  # the test provider's login page
    expect(applicant.get_by_role("heading", level=1)).to_have_text(
        f"Helsinki benefit application {number}"
    )
    expect(applicant.locator(".status-tag")).to_have_text("More information needed")
    request = applicant.get_by_role("region", name="The handler asks for more information")
    expect(request).to_contain_text(REQUEST)
    expect(request).to_contain_text(f"send the application again by {shown_deadline}")
    expect(applicant.get_by_text(f"Answer by {shown_deadline}.")).to_be_visible()
    assert_accessible(applicant)
    # The dashboard lists it among those waiting for the applicant, with the deadline.
    applicant.get_by_role("link", name="Back to the applications").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Helsinki benefit applications")
    waiting = applicant.locator("section[aria-labelledby=h-information]")
    row = waiting.get_by_role("row", name=re.compile(EMPLOYEE.name))
    expect(row).to_contain_text(str(number))
    expect(row).to_contain_text("More information needed")
    expect(row).to_contain_text(shown_deadline)
    assert_accessible(applicant)
    row.get_by_role("link").click()
    # The message is in the conversation, too.
    applicant.get_by_role("link", name=re.compile("^Messages with the handler")).click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Messages with the handler")
    expect(applicant.get_by_text(REQUEST)).to_be_visible()
    assert_accessible(applicant)
    applicant.go_back()

    # 5. Only the employee part opens; the pay is changed from the keyboard, and sent again.
    request.get_by_role("link", name="Employee and employment").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Employee and employment")
    expect(applicant.get_by_label("Job title")).to_have_value("Youth worker")
    assert_accessible(applicant)
    applicant.get_by_label("Gross pay a month (€)").focus()
    applicant.keyboard.press("Control+A")
    applicant.keyboard.type("2 600")
    applicant.keyboard.press("Enter")
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(applicant.get_by_text("The application cannot be sent yet")).to_have_count(0)
    assert_accessible(applicant)
    applicant.get_by_role("link", name="Continue to sending").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Terms and sending")
    assert_accessible(applicant)
    for label in applicant.locator("label[for^=f-consent_ids-]").all():
        label.click()  # only if the terms changed since the first sending
    applicant.get_by_role("button", name="Send the application again").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("The application was sent again")
    assert_accessible(applicant)
    applicant.get_by_role("link", name="Open the application").click()
    expect(applicant.locator(".status-tag")).to_have_text("In handling")
    expect(
        applicant.get_by_role("region", name="The handler asks for more information")
    ).to_have_count(0)
    assert_accessible(applicant)
    no_failures(applicant, watch)

    # 6. The handler sees the change in the change history and calculates.
    handler.reload()
    expect(handler.locator(".status-tag").first).to_have_text("Käsittelyssä")
    change = handler.locator("#changes").get_by_role(
        "row", name=re.compile(r"Bruttopalkka kuukaudessa")
    )
    expect(change).to_have_count(1)
    expect(change).to_contain_text("2400")
    expect(change).to_contain_text("2600")
    expect(change).to_contain_text("(hakija)")
    assert_accessible(handler)
    handler.get_by_role("link", name="Avaa laskuri").click()
    expect(handler.get_by_role("heading", level=1)).to_have_text("Laskuri")
    expect(handler.locator("#f-monthly_pay")).to_have_value("2600,00")  # the changed pay
    application = stored(application_id)
    assert application.start_date is not None
    assert application.end_date is not None
    expect(handler.locator("#f-start_date")).to_have_value(application.start_date.isoformat())
    expect(handler.locator("#f-end_date")).to_have_value(application.end_date.isoformat())
    assert_accessible(handler)
    handler.locator('label[for="f-benefit_type-salary_benefit"]').click()
    handler.locator('label[for="f-state_aid_max_percentage-100"]').click()
    handler.get_by_role("button", name="Laske").click()
    total = handler.get_by_text(re.compile("^Yhteensä: "))
    expect(total).to_be_visible()
    expect(handler.get_by_role("table", name="Laskelman rivit")).to_be_visible()
    found = re.match(r"Yhteensä: (.+?€), laskettu", total.inner_text())
    assert found is not None, total.inner_text()
    calculated = found.group(1)  # e.g. "4 800,00 €" (the narrow spaces as Babel writes them)
    assert_accessible(handler)
    handler.get_by_role("link", name="Takaisin hakemukseen").click()
    expect(handler.locator("#calculation")).to_contain_text("Yhteensä: ")
    expect(handler.locator("#calculation")).not_to_contain_text("laske uudelleen")
    expect(handler.get_by_text("Päätöksen tekee päättäjä.")).to_be_visible()
    assert_accessible(handler)
    no_failures(handler, staff_watch)

    # 7. A decider accepts it, not as de minimis aid.
    decider, decider_watch = new_page(locale="fi-FI")
    path = f"/admin/subsidies/{application_id}"
    log_in_as_staff(decider, decider_watch, path, "staff-decider")
    expect(decider.get_by_role("heading", level=1)).to_have_text(f"Helsinki-lisähakemus {number}")
    assert_accessible(decider)
    decider.get_by_role("link", name="Tee päätös").click()
    expect(decider.get_by_role("heading", level=1)).to_have_text("Tee päätös hakemuksesta")
    expect(
        decider.get_by_text(f"Nykyinen laskelma antaa {calculated}", exact=False)
    ).to_be_visible()
    assert_accessible(decider)
    decider.locator('label[for="f-decision-accepted"]').click()
    decider.locator('label[for="f-granted_as_de_minimis_aid-false"]').click()
    decider.get_by_role("button", name="Tallenna päätös").click()
    expect(decider).to_have_url(re.compile(re.escape(path) + "$"))
    expect(decider.locator(".status-tag").first).to_have_text("Hyväksytty")
    decided = stored(application_id)
    assert decided.status == "accepted"
    assert decided.granted_amount is not None
    assert decided.granted_amount > 0
    assert decided.granted_as_de_minimis_aid is False
    assert in_language("fi", decided.granted_amount, format_euros) == calculated  # frozen
    expect(
        decider.get_by_text(
            re.compile(
                "^Hyväksytty .*: "
                + re.escape(in_language("fi", decided.granted_amount, format_euros))
            )
        )
    ).to_be_visible()
    expect(decider.get_by_text("Ei myönnetty de minimis -tukena.")).to_be_visible()
    assert_accessible(decider)
    no_failures(decider, decider_watch)

    # The decision e-mail, in English.
    send_mail(mail)
    decision_mail = mailbox.to(CONTACT)[-1]
    assert decision_mail["Subject"] == (
        "The decision on your Helsinki benefit application is ready"
    )
    assert f"application {number}." in body_text(decision_mail)

    # 8. The applicant sees the decision, the amount and the timeline.
    applicant.reload()
    expect(applicant.locator(".status-tag")).to_have_text("Accepted")
    decision = applicant.locator("section[aria-labelledby=h-decision]")
    expect(decision).to_contain_text("The Helsinki benefit was granted.")
    amount = in_language("en", decided.granted_amount, format_euros)
    expect(decision.locator("dt:has-text('Amount granted') + dd")).to_have_text(amount)
    expect(decision.locator("dt:has-text('Granted as de minimis aid') + dd")).to_have_text("No")
    timeline = applicant.locator("section[aria-labelledby=h-timeline] li")
    expect(timeline).to_have_count(6)
    titles = [
        "Draft created",
        "Application sent: waiting for handling",
        "Taken into handling",
        "The handler asked for more information",
        "Sent again with more information: in handling",
        "Decision: accepted",
    ]
    days = {format_day(service.today() - timedelta(days=n)) for n in (0, 1)}
    for entry, title in zip(timeline.all(), titles, strict=True):
        expect(entry.locator("strong")).to_have_text(title)
        when = entry.locator("time")
        expect(when).to_have_attribute("datetime", re.compile(r"^\d{4}-\d{2}-\d{2}T"))
        shown = when.inner_text()
        assert re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4} \d{2}:\d{2}", shown), shown
        assert shown.split()[0] in days, shown
    expect(timeline.last).to_contain_text("(now)")
    assert_accessible(applicant)
    applicant.get_by_role("link", name="Back to the applications").click()
    closed = applicant.locator("section[aria-labelledby=h-decided]")
    expect(closed.get_by_role("row", name=re.compile(EMPLOYEE.name))).to_contain_text("Accepted")
    assert_accessible(applicant)
    no_failures(applicant, watch)
