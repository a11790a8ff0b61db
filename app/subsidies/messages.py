"""Messages of a Helsinki-lisä application between the applicant and the handlers, and the
handlers' internal notes (helsinkilisa.md §5.1, H24–H25).

- An applicant message comes from the employer of the application, never on a draft (nor on a
  cancelled application, which is closed); it e-mails nobody: handlers see unread counts.
- A handler message e-mails the application's contact person, in the application's language,
  that there is a new message, with a link to the application; the e-mail never carries the
  message itself (it may hold personal data, and e-mail is not a safe channel for it).
- A note is internal: never shown to the applicant, never e-mailed.

Session first, keyword arguments; never commits. Every write and read is audited (names of
fields only, never the content).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from app import audit
from app.companies.models import Company
from app.db import utcnow
from app.errors import AppError, Conflict, NotFound, PermissionDenied
from app.i18n import N_
from app.notifications.service import queue_email, render_email
from app.security import Actor
from app.subsidies import events
from app.subsidies.models import Application, ApplicationStatus, Message, MessageKind
from app.subsidies.transitions import HANDLING

S = ApplicationStatus
MAX_CONTENT = 4096
# The statuses in which the applicant may write: sent and not closed.
APPLICANT_WRITABLE = frozenset(
    {S.received, S.handling, S.additional_information_needed, S.accepted, S.rejected}
)
EMAIL_KIND = "subsidy_message"


def employer_application_path(application_id: int | None) -> str:
    """The employer's own page of an application, linked from the e-mails."""
    return f"/employer/subsidies/applications/{application_id}"


def application_link(base_url: str, application: Application) -> str:
    return base_url.rstrip("/") + employer_application_path(application.id)


class MessagesClosed(Conflict):
    code = "subsidy_messages_closed"
    message = N_("Messages cannot be sent on this application in its current state.")


class NoContactEmail(AppError):
    status_code = 409
    code = "subsidy_without_contact_email"
    message = N_(
        "The application has no contact e-mail address, so the applicant cannot be notified. "
        "Add the contact person's e-mail address first."
    )


class EmptyMessage(AppError):
    status_code = 422
    code = "subsidy_message_empty"
    message = N_("Write the message first.")


def _is_staff(actor: Actor) -> bool:
    return actor.kind == "staff" and not HANDLING.isdisjoint(actor.roles)


def _require_employer_of(session: Session, application: Application, actor: Actor) -> None:
    """The employer acting for the application's company; anyone else is refused (404 for
    another company's application, as everywhere in the service)."""
    if actor.kind != "employer" or not actor.business_id:
        raise PermissionDenied()
    company_id = session.exec(
        select(Company.id).where(Company.business_id == actor.business_id)
    ).first()
    if company_id is None or company_id != application.company_id:
        raise NotFound()


def check_allowed(
    session: Session, *, application: Application, actor: Actor, kind: MessageKind
) -> None:
    """Raise unless `actor` may write a message of `kind` on `application` now."""
    if kind == MessageKind.applicant_message:
        _require_employer_of(session, application, actor)
        if application.status not in APPLICANT_WRITABLE:
            raise MessagesClosed()
        return
    if not _is_staff(actor):
        raise PermissionDenied()
    if kind == MessageKind.handler_message and application.status in (S.draft, S.cancelled):
        raise MessagesClosed()


def notify_applicant(
    session: Session,
    *,
    application: Application,
    template: str,
    context: dict[str, object],
    base_url: str,
) -> None:
    """Queue one of the service's e-mails to the contact person, in the application's language,
    with the link to the application and its number (the caller's transaction)."""
    if not application.contact_email:
        raise NoContactEmail()
    language = application.language if application.language in ("fi", "sv", "en") else "fi"
    subject, text, html = render_email(
        template,
        {
            **context,
            "application_number": str(application.application_number or ""),
            "link": application_link(base_url, application),
            "lang": language,
        },
        language=language,
        session=session,
    )
    queue_email(
        session,
        to=application.contact_email,
        subject=subject,
        body_text=text,
        body_html=html,
        kind=f"subsidies.{template.removeprefix('subsidy_')}",
        language=language,
    )


def post(
    session: Session,
    *,
    application: Application,
    actor: Actor,
    kind: MessageKind,
    content: str,
    base_url: str = "",
    notify: bool = True,
) -> Message:
    """Add a message or a note (see the module's rules). A handler message e-mails the
    applicant unless `notify` is False (the information request sends its own e-mail).
    `base_url` (e.g. "https://portal.hel.fi") makes the e-mail's link absolute."""
    text = content.strip()
    if not text:
        raise EmptyMessage()
    if len(text) > MAX_CONTENT:
        text = text[:MAX_CONTENT]
    kind = MessageKind(kind)
    check_allowed(session, application=application, actor=actor, kind=kind)
    now = utcnow()
    message = Message(
        application_id=application.id or 0,
        kind=kind,
        sender_id=events.actor_user_id(actor),
        sender_name=events.actor_name(session, actor),
        content=text,
        created_at=now,
        # One's own message is seen by one's own side.
        seen_by_applicant_at=now if kind == MessageKind.applicant_message else None,
        seen_by_handler_at=now if kind != MessageKind.applicant_message else None,
    )
    session.add(message)
    session.flush()
    if kind == MessageKind.handler_message and notify:
        notify_applicant(
            session,
            application=application,
            template=EMAIL_KIND,
            context={},
            base_url=base_url,
        )
    audit.record(
        session,
        actor=actor,
        action=f"subsidy_application.{kind}.add",
        target_type="subsidy_application",
        target_id=application.id,
        fields=["content"],
        detail=f"message={message.id}",
    )
    return message


def _list(session: Session, application: Application, kinds: Iterable[str]) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(Message.application_id == application.id, col(Message.kind).in_(list(kinds)))
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
    )


def _mark(session: Session, application: Application, *, kind: MessageKind, column: str) -> None:
    table: sa.Table = Message.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(
            table.c.application_id == application.id,
            table.c.kind == kind.value,
            table.c[column].is_(None),
        )
        .values({column: utcnow()})
    )


def for_applicant(
    session: Session,
    *,
    application: Application,
    actor: Actor | None = None,
    mark_seen: bool = True,
) -> list[Message]:
    """The conversation as the applicant sees it, oldest first: never the notes. Marks the
    handlers' messages seen (after reading them, so the page can still show which were new)."""
    found = _list(
        session, application, (MessageKind.applicant_message, MessageKind.handler_message)
    )
    if mark_seen:
        _mark(session, application, kind=MessageKind.handler_message, column="seen_by_applicant_at")
    if actor is not None and found:
        audit.record(
            session,
            actor=actor,
            action="subsidy_application.messages.read",
            target_type="subsidy_application",
            target_id=application.id,
            fields=["content"],
            detail=f"messages={len(found)}",
        )
    return found


def for_staff(
    session: Session,
    *,
    application: Application,
    actor: Actor | None = None,
    mark_seen: bool = True,
) -> list[Message]:
    """Messages and notes, oldest first. Marks the applicant's messages seen by the handlers."""
    found = _list(session, application, [k.value for k in MessageKind])
    if mark_seen:
        _mark(session, application, kind=MessageKind.applicant_message, column="seen_by_handler_at")
    if actor is not None and found:
        audit.record(
            session,
            actor=actor,
            action="subsidy_application.messages.read",
            target_type="subsidy_application",
            target_id=application.id,
            fields=["content"],
            detail=f"messages={len(found)}",
        )
    return found


def unread_by_staff(session: Session, *, application_ids: Iterable[int]) -> dict[int, int]:
    """Per application: the applicant's messages no handler has opened yet (the queue's
    column). Applications without unread messages are left out."""
    ids = [i for i in application_ids if i]
    if not ids:
        return {}
    rows = session.exec(
        select(Message.application_id, func.count())
        .where(
            col(Message.application_id).in_(ids),
            Message.kind == MessageKind.applicant_message,
            col(Message.seen_by_handler_at).is_(None),
        )
        .group_by(col(Message.application_id))
    ).all()
    return dict(rows)


def unread_by_applicant(session: Session, *, application_ids: Iterable[int]) -> dict[int, int]:
    """Per application: the handlers' messages the applicant has not opened yet."""
    ids = [i for i in application_ids if i]
    if not ids:
        return {}
    rows = session.exec(
        select(Message.application_id, func.count())
        .where(
            col(Message.application_id).in_(ids),
            Message.kind == MessageKind.handler_message,
            col(Message.seen_by_applicant_at).is_(None),
        )
        .group_by(col(Message.application_id))
    ).all()
    return dict(rows)
