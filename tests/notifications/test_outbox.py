"""The e-mail outbox end to end: queued in a transaction, drained to a real SMTP server (aiosmtpd on
a free loopback port), retried while the server is down, never lost and never sent twice.

The drain opens its own connections, so these tests commit their outbox rows (a rolled-back test
transaction would be invisible to it) and delete them afterwards. They write no audit rows.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, delete, func, select, text
from sqlmodel import Session, col
from structlog.testing import capture_logs

from app import crypto
from app.db import make_engine, utcnow
from app.notifications.config import MailSettings
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.sender import (
    DrainResult,
    FileSender,
    SmtpSender,
    drain,
    retry_delay,
)
from app.notifications.service import (
    MAX_ATTACHMENT_BYTES,
    Attachment,
    queue_email,
    render_email,
)
from app.notifications.worker import outbox_worker, run_outbox_once
from tests.conftest import make_settings

MAIL_FROM = "Kesäseteli <kesaseteli@hel.fi>"
TO = "Matti Meikäläinen <matti.meikalainen@example.com>"
HANDLERS = "kasittelijat@example.com"
# A small but well-formed PDF: header, one empty object, trailer.
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd's Controller cannot take port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """aiosmtpd handler: keeps each message parsed as a mail client would (the wire's CRLF line
    ends made local); can refuse recipients."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parse(envelope.content.replace(b"\r\n", b"\n")),
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    inbox: Inbox
    sender: SmtpSender


def smtp_sender(port: int) -> SmtpSender:
    return SmtpSender(
        MailSettings(
            _env_file=None,
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            mail_from=MAIL_FROM,
        ),
        timeout=5,
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(inbox, smtp_sender(port))
    finally:
        controller.stop()


@pytest.fixture
def smtp_down() -> SmtpSender:
    """A sender pointed at a closed port: connection refused, as when the server is down."""
    return smtp_sender(free_port())


@pytest.fixture(scope="module")
def module_engine(database_url: str) -> Iterator[Engine]:
    crypto.configure(make_settings(database_url))
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(module_engine: Engine) -> Iterator[Engine]:
    """The test database's engine; the outbox rows a test commits are deleted after it."""
    with Session(module_engine) as session:
        before = session.scalar(select(func.max(OutboxMessage.id))) or 0
    yield module_engine
    with Session(module_engine) as session:
        session.execute(delete(OutboxMessage).where(col(OutboxMessage.id) > before))
        session.commit()


def queue_committed(engine: Engine, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "to": TO,
        "subject": "Kesäsetelisi",
        "body_text": "Hei Matti,\n\nkesäsetelisi on liitteenä.\n",
        "kind": "test.message",
        "language": "fi",
        **overrides,
    }
    with Session(engine) as session:
        message = queue_email(session, **values)
        session.commit()
        assert message.id is not None
        return message.id


def load(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def test_queued_message_arrives_intact(engine: Engine, smtp: SmtpServer) -> None:
    subject = "Päätös: kesäseteli ÅÄÖ åäö"
    text_body = "Hei Matti,\n\npäätös on liitteenä.\n"
    html_body = "<p>Hei Matti,</p><p>päätös on liitteenä.</p>\n"
    message_id = queue_committed(
        engine,
        subject=subject,
        body_text=text_body,
        body_html=html_body,
        bcc=HANDLERS,
        attachments=[Attachment("päätös 2026.pdf", "application/pdf", PDF)],
        kind="summer_voucher.voucher",
    )

    assert asyncio.run(drain(engine, smtp.sender)) == DrainResult(sent=1)

    [received] = smtp.inbox.received
    assert received.mail_from == "kesaseteli@hel.fi"
    assert sorted(received.rcpt_tos) == [HANDLERS, "matti.meikalainen@example.com"]
    message = received.message
    assert "Bcc" not in message  # the handlers' copy is blind
    assert message["Subject"] == subject
    assert message["From"].addresses[0].display_name == "Kesäseteli"
    assert message["To"].addresses[0].display_name == "Matti Meikäläinen"
    assert message["Content-Language"] == "fi"
    assert message["Message-ID"].startswith(f"<outbox.{message_id}.")
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert plain.get_content() == text_body
    assert html.get_content() == html_body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "päätös 2026.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF

    row = load(engine, message_id)
    assert row.status == OutboxStatus.sent
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error is None
    assert asyncio.run(drain(engine, smtp.sender)) == DrainResult()  # sent once only


def test_smtp_down_keeps_the_message_until_the_server_is_back(
    engine: Engine, smtp_down: SmtpSender, smtp: SmtpServer
) -> None:
    first = queue_committed(engine)
    second = queue_committed(engine)
    now = utcnow()

    # One refused connection ends the drain: the second message keeps all its attempts.
    assert asyncio.run(drain(engine, smtp_down, now=now)) == DrainResult(retried=1)
    row = load(engine, first)
    assert row.status == OutboxStatus.pending
    assert row.attempts == 1
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error is not None
    assert row.last_error.startswith("SenderUnavailable: SMTPConnectError")
    assert load(engine, second).attempts == 0

    assert asyncio.run(drain(engine, smtp.sender, now=now)) == DrainResult(sent=1)  # the second
    later = now + timedelta(minutes=1)
    assert asyncio.run(drain(engine, smtp.sender, now=later)) == DrainResult(sent=1)  # the first
    assert len(smtp.inbox.received) == 2
    assert load(engine, first).status == OutboxStatus.sent


def test_misconfigured_sender_stops_the_drain(engine: Engine, smtp: SmtpServer) -> None:
    """STARTTLS required of a server that offers none: no message could go, so only one spends
    an attempt."""
    first = queue_committed(engine)
    second = queue_committed(engine)
    settings = smtp.sender.settings.model_copy(update={"smtp_starttls": True})

    assert asyncio.run(drain(engine, SmtpSender(settings))) == DrainResult(retried=1)

    row = load(engine, first)
    assert row.last_error is not None
    assert row.last_error.startswith("SenderUnavailable: SMTPException")
    assert load(engine, second).attempts == 0
    assert smtp.inbox.received == []


@pytest.mark.parametrize(
    ("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (8, 60), (500, 60)]
)
def test_retry_delay_doubles_up_to_an_hour(attempts: int, minutes: int) -> None:
    assert retry_delay(attempts) == timedelta(minutes=minutes)


def test_message_fails_after_max_attempts_and_is_kept(
    engine: Engine, smtp_down: SmtpSender
) -> None:
    message_id = queue_committed(engine)
    now = utcnow()
    waits = []
    for _attempt in (1, 2):
        result = asyncio.run(drain(engine, smtp_down, now=now, max_attempts=3))
        assert result == DrainResult(retried=1)
        row = load(engine, message_id)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2)]

    with capture_logs() as logs:
        assert asyncio.run(drain(engine, smtp_down, now=now, max_attempts=3)) == DrainResult(
            failed=1
        )
    row = load(engine, message_id)
    assert row.status == OutboxStatus.failed
    assert row.attempts == 3
    assert row.last_error is not None
    assert [(e["event"], e["log_level"]) for e in logs] == [("outbox.failed", "error")]
    # Failed is final for the drain, but the row stays for staff to look into.
    later = now + timedelta(days=1)
    assert asyncio.run(drain(engine, smtp_down, now=later, max_attempts=3)) == DrainResult()


def test_refused_recipient_is_retried_without_stopping_the_drain_or_logging_the_address(
    engine: Engine, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse.add("ei.ole@example.com")
    refused = queue_committed(engine, to="ei.ole@example.com")
    accepted = queue_committed(engine)

    with capture_logs() as logs:
        assert asyncio.run(drain(engine, smtp.sender)) == DrainResult(sent=1, retried=1)

    assert load(engine, accepted).status == OutboxStatus.sent
    row = load(engine, refused)
    assert row.status == OutboxStatus.pending
    assert row.last_error is not None
    assert row.last_error.startswith("SMTPRecipientsRefused")
    assert "<address>" in row.last_error
    assert "@" not in row.last_error
    assert [e["event"] for e in logs] == ["outbox.retry", "outbox.sent"]
    assert "example.com" not in repr(logs)
    assert "Meikäläinen" not in repr(logs)


def test_message_taken_by_some_recipients_is_not_sent_again(
    engine: Engine, smtp: SmtpServer
) -> None:
    """The handlers' BCC copy is refused, the recipient's accepted: a retry would repeat it."""
    smtp.inbox.refuse.add(HANDLERS)
    message_id = queue_committed(engine, bcc=HANDLERS)

    with capture_logs() as logs:
        assert asyncio.run(drain(engine, smtp.sender)) == DrainResult(sent=1)

    assert smtp.inbox.received[0].rcpt_tos == ["matti.meikalainen@example.com"]
    assert load(engine, message_id).status == OutboxStatus.sent
    [refusal] = [e for e in logs if e["event"] == "outbox.recipients_refused"]
    assert refusal["refused"] == 1
    assert refusal["codes"] == [550]
    assert "example.com" not in repr(logs)


def test_unreadable_message_does_not_block_the_outbox(engine: Engine, smtp: SmtpServer) -> None:
    """A row whose key is gone is retried and finally failed like any message that cannot be
    sent; the messages behind it still go out."""
    unreadable = queue_committed(engine)
    readable = queue_committed(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE outbox_message SET to_address = :value WHERE id = :id"),
            {"value": "v1:retired-key:AAAA", "id": unreadable},
        )

    assert asyncio.run(drain(engine, smtp.sender, max_attempts=1)) == DrainResult(sent=1, failed=1)

    assert load(engine, readable).status == OutboxStatus.sent
    with engine.connect() as conn:
        status, last_error = conn.execute(
            text("SELECT status, last_error FROM outbox_message WHERE id = :id"),
            {"id": unreadable},
        ).one()
    assert status == OutboxStatus.failed
    assert last_error.startswith("DecryptionError")


def test_message_of_a_rolled_back_transaction_is_never_sent(
    engine: Engine, smtp: SmtpServer
) -> None:
    with Session(engine) as session:
        queue_email(session, to=TO, subject="Peruttu", body_text="-", kind="test", language="fi")
        session.flush()  # in the database, inside the transaction
        session.rollback()  # the change it reported failed

    assert asyncio.run(drain(engine, smtp.sender)) == DrainResult()
    assert smtp.inbox.received == []


def test_file_sender_writes_a_readable_eml(engine: Engine, tmp_path: Path) -> None:
    rendered = render_email("test_message", {"name": "Åsa"}, language="sv")
    queue_committed(
        engine,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        bcc=HANDLERS,
        attachments=[Attachment("beslut för Åsa.pdf", "application/pdf", PDF)],
        language="sv",
    )
    directory = tmp_path / "mail"

    assert asyncio.run(drain(engine, FileSender(directory))) == DrainResult(sent=1)

    [path] = directory.iterdir()  # no partial file left behind
    assert path.suffix == ".eml"
    message = parse(path.read_bytes())
    assert message["Subject"] == "Testmeddelande från Helsingfors stads arbetsgivartjänster"
    assert message["From"].addresses[0].display_name == "Helsingin kaupunki"
    assert message["Bcc"] == HANDLERS  # kept in the file, so a developer sees every recipient
    plain = message.get_body(preferencelist=("plain",))
    assert isinstance(plain, EmailMessage)
    assert "Hej Åsa," in plain.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "beslut för Åsa.pdf"
    assert attachment.get_content() == PDF


def test_unwritable_mail_directory_is_a_sender_outage(engine: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    message_id = queue_committed(engine)

    assert asyncio.run(drain(engine, FileSender(blocker / "mail"))) == DrainResult(retried=1)
    row = load(engine, message_id)
    assert row.status == OutboxStatus.pending
    assert row.last_error is not None
    assert row.last_error.startswith("SenderUnavailable")


def test_personal_data_is_encrypted_at_rest(engine: Engine) -> None:
    message_id = queue_committed(
        engine,
        bcc=HANDLERS,
        subject="Nuoren kesäsetelihakemus: Matti Meikäläinen",
        body_text="Matti Meikäläinen, matti.meikalainen@example.com",
        body_html="<p>Matti Meikäläinen</p>",
        attachments=[Attachment("Matti Meikäläinen.pdf", "application/pdf", PDF)],
    )
    with engine.connect() as conn:
        raw = conn.execute(
            text(
                "SELECT to_address, bcc, subject, body_text, body_html, attachments"
                " FROM outbox_message WHERE id = :id"
            ),
            {"id": message_id},
        ).one()
    for value in raw:
        assert value.startswith("v1:")
        assert "example.com" not in value
        assert "Meik" not in value
    row = load(engine, message_id)
    assert row.to_address == TO
    assert row.bcc == HANDLERS
    assert row.attachments[0]["filename"] == "Matti Meikäläinen.pdf"


@pytest.mark.parametrize(
    "overrides",
    [
        {"to": "not an address"},
        {"to": "matti@"},
        {"to": "matti@example.com, maija@example.com"},
        {"to": "matti@example.com\nBcc: everyone@example.com"},
        {"bcc": "handlers"},
        {"subject": "Kesäseteli\nBcc: everyone@example.com"},
        {"language": "de"},
        {
            "attachments": [
                Attachment("big.pdf", "application/pdf", bytes(MAX_ATTACHMENT_BYTES + 1))
            ]
        },
        {"attachments": [Attachment("voucher.pdf", "pdf", PDF)]},
        {"attachments": [Attachment("", "application/pdf", PDF)]},
    ],
)
def test_queue_email_refuses_what_could_not_be_sent(
    engine: Engine, overrides: dict[str, Any]
) -> None:
    values: dict[str, Any] = {
        "to": TO,
        "subject": "Kesäseteli",
        "body_text": "-",
        "kind": "test",
        "language": "fi",
    }
    with Session(engine) as session, pytest.raises(ValueError, match=r".") as caught:
        queue_email(session, **{**values, **overrides})
    assert "example.com" not in str(caught.value)  # errors may be logged: no addresses


def test_queue_email_takes_name_and_address_and_several_bcc(engine: Engine) -> None:
    with Session(engine) as session:
        message = queue_email(
            session,
            to=TO,
            bcc=f"{HANDLERS}, Maija <maija@example.com>",
            subject="Kesäseteli",
            body_text="-",
            kind="test",
            language="en",
        )
        assert message in session.new  # added to the caller's transaction, not committed
        session.rollback()


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("fi", "Testiviesti Helsingin kaupungin työnantajapalveluista", "Hei <Åsa & Öberg>,"),
        ("sv", "Testmeddelande från Helsingfors stads arbetsgivartjänster", "Hej <Åsa & Öberg>,"),
        ("en", "Test message from the City of Helsinki employer services", "Hello <Åsa & Öberg>,"),
    ],
)
def test_render_email_in_the_recipients_language(
    language: str, subject: str, greeting: str
) -> None:
    rendered = render_email("test_message", {"name": "<Åsa & Öberg>"}, language=language)
    assert rendered.subject == subject
    assert rendered.text.startswith(greeting)
    assert f'<html lang="{language}">' in rendered.html
    assert "&lt;Åsa &amp; Öberg&gt;" in rendered.html  # HTML escaped, plain text not
    assert "<Åsa" not in rendered.html


def test_render_email_refuses_a_missing_variable_and_an_unknown_language() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render_email("test_message", {}, language="fi")
    with pytest.raises(ValueError, match="unknown language"):
        render_email("test_message", {"name": "Åsa"}, language="de")


def test_outbox_worker_sends_new_messages_until_stopped(engine: Engine, smtp: SmtpServer) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(outbox_worker(engine, smtp.sender, interval=0.05, stop=stop))
        await asyncio.to_thread(queue_committed, engine)
        for _ in range(200):
            if smtp.inbox.received:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(worker, timeout=5)

    asyncio.run(scenario())
    assert len(smtp.inbox.received) == 1


def test_outbox_worker_outlives_a_failing_drain(tmp_path: Path, smtp: SmtpServer) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # no outbox table at all

    async def scenario() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(outbox_worker(broken, smtp.sender, interval=0.01, stop=stop))
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(worker, timeout=5)

    try:
        with capture_logs() as logs:
            asyncio.run(scenario())
    finally:
        broken.dispose()
    assert len([e for e in logs if e["event"] == "outbox.drain_failed"]) >= 2


def test_run_outbox_once_drains_everything_due(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    for _ in range(3):
        queue_committed(engine)
    mail_settings = MailSettings(
        _env_file=None,
        mail_backend="file",
        mail_dir=tmp_path / "mail",
    )

    result = run_outbox_once(make_settings(database_url), mail_settings)

    assert result == DrainResult(sent=3)
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3


@dataclass
class RecordingSender:
    """Records what it sends; a short pause per message lets two drains overlap."""

    mail_from: str = MAIL_FROM
    sent: list[str] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.sleep(0.002)
        self.sent.append(str(message["Message-ID"]))


@pytest.mark.postgres
def test_concurrent_drains_never_send_a_message_twice(engine: Engine) -> None:
    count = 60
    with Session(engine) as session:
        for n in range(count):
            queue_email(
                session, to=TO, subject=f"Viesti {n}", body_text="-", kind="test", language="fi"
            )
        session.commit()
    sender = RecordingSender()
    results: list[DrainResult] = []
    start = threading.Barrier(2)

    def run() -> None:  # each thread checks out its own connection from the pool
        start.wait()
        results.append(asyncio.run(drain(engine, sender, batch=count)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(sender.sent) == count
    assert len(set(sender.sent)) == count
    assert sum(r.sent for r in results) == count
    assert all(r.sent > 0 for r in results)  # both really drained, side by side
