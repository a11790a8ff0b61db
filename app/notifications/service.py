"""Queue e-mail in the caller's transaction and render it from templates in the recipient's language.

A domain service calls `render_email` and `queue_email` next to the change the e-mail reports;
the router's commit makes both durable together, a rollback discards both. Nothing here talks to
a mail server: that is the drain's job (sender.py).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.policy import default as email_policy
from functools import lru_cache
from typing import Any, NamedTuple

from jinja2 import Environment
from sqlmodel import Session

from app import i18n
from app.logs import get_logger
from app.notifications import email_templates
from app.notifications.models import OutboxMessage
from app.templating import build_environment

logger = get_logger(__name__)

# Attachments travel inside the outbox row, so they are kept small: a decision or a voucher PDF.
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    content: bytes


class RenderedEmail(NamedTuple):
    subject: str
    text: str
    html: str


def _check_addresses(value: str, *, field: str, single: bool) -> None:
    """Refuse what the mail server would refuse, now, while the caller can still roll back.

    The error names the field, never the address: it may end up in a log.
    """
    try:
        header = email_policy.header_factory(field, value)
        addresses = header.addresses
        defects = header.defects
    except (IndexError, ValueError) as exc:  # the parser raises on some malformed input
        raise ValueError(f"invalid e-mail address in {field}") from exc
    if defects or not addresses or any(not a.domain for a in addresses):
        raise ValueError(f"invalid e-mail address in {field}")
    if single and len(addresses) != 1:
        raise ValueError(f"{field} takes exactly one address")


def _check_language(language: str) -> None:
    if language not in i18n.LANGUAGES:
        raise ValueError(f"unknown language {language!r}: one of {', '.join(i18n.LANGUAGES)}")


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    bcc: str | None = None,
    attachments: Sequence[Attachment] = (),
    kind: str,
    language: str,
) -> OutboxMessage:
    """Add one e-mail to the outbox in `session`'s transaction; never commits.

    `to` is one address ("name@example.com" or "Name <name@example.com>"); `bcc` is one or more,
    comma separated (e.g. a handlers' mailbox). `kind` names the notification for operations,
    e.g. "summer_voucher.activation". Invalid input raises ValueError here rather than failing
    later in the drain, where nobody could correct it.
    """
    _check_addresses(to, field="to", single=True)
    if bcc is not None:
        _check_addresses(bcc, field="bcc", single=False)
    _check_language(language)
    if "\r" in subject or "\n" in subject:
        raise ValueError("the subject must be one line")
    if sum(len(a.content) for a in attachments) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"attachments exceed {MAX_ATTACHMENT_BYTES} bytes")
    for attachment in attachments:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        if not (maintype and subtype and attachment.filename):
            raise ValueError("an attachment needs a filename and a type/subtype content type")
    message = OutboxMessage(
        kind=kind,
        language=language,
        to_address=to,
        bcc=bcc,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=[
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "content_base64": base64.b64encode(a.content).decode("ascii"),
            }
            for a in attachments
        ],
    )
    session.add(message)
    return message


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Strict: a missing variable in an e-mail is a bug to find in tests, not a blank in a letter.
    return build_environment(strict=True)


def render_email(
    template_name: str,
    context: Mapping[str, Any],
    *,
    language: str,
    session: Session | None = None,
) -> RenderedEmail:
    """Render templates/email/<template_name>/{subject.txt, body.txt, body.html} in `language`,
    or, given a `session`, the staff admins' edited text of that kind and language if any
    (email_templates.py: rendered in a sandbox).

    HTML is autoescaped, the text parts are not. The subject is folded onto one line, so a
    template's line breaks can never become header lines. An edited text that fails with this
    context (it was checked only with sample values) is logged and the files are used instead:
    the e-mail still goes out.
    """
    _check_language(language)
    if session is not None:
        override = email_templates.find_override(session, kind=template_name, language=language)
        if override is not None:
            try:
                subject, text, html = email_templates.render_parts(
                    {part: getattr(override, part) for part in email_templates.PARTS},
                    context,
                    language=language,
                )
                return RenderedEmail(subject=subject, text=text, html=html)
            except Exception as exc:
                logger.error(
                    "email_template.render_failed",
                    kind=template_name,
                    language=language,
                    error=type(exc).__name__,
                )
    env = _environment()
    with i18n.language(language):
        subject, text, html = (
            env.get_template(f"email/{template_name}/{part}").render(context)
            for part in ("subject.txt", "body.txt", "body.html")
        )
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)
