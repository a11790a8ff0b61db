"""Files of a Helsinki-lisä application (H16–H18): PDF, PNG or JPEG judged by content (checked
by app.documents.uploads before they reach here), at most 20 per application, contents in the
file store under a random key. Employers add and remove files while they may edit the
attachments step; staff while they may edit the application. Every read is audited.
"""

from __future__ import annotations

from sqlmodel import Session, func, select

from app import audit
from app.db import utcnow
from app.documents.storage import FileStore
from app.documents.uploads import CheckedFile
from app.errors import AppError, NotFound
from app.i18n import N_
from app.security import Actor
from app.subsidies import events, service
from app.subsidies.models import Application, Attachment, AttachmentType
from app.subsidies.schemas import Step

MAX_PER_APPLICATION = 20
# Kinds an employer adds; the scanned paper application is staff's (H31).
EMPLOYER_KINDS: tuple[AttachmentType, ...] = tuple(
    k for k in AttachmentType if k != AttachmentType.full_application
)


class TooManyAttachments(AppError):
    status_code = 422
    code = "too_many_attachments"
    message = N_("An application can have at most 20 files. Remove a file before adding another.")


class KindNotAllowed(AppError):
    status_code = 422
    code = "attachment_kind_not_allowed"
    message = N_("Choose the type of the file from the list.")


def kinds_for(actor: Actor) -> tuple[AttachmentType, ...]:
    return tuple(AttachmentType) if service.is_staff(actor) else EMPLOYER_KINDS


def _label(attachment: Attachment) -> str:
    return f"{attachment.filename} ({attachment.kind})"


def add(
    session: Session,
    *,
    application: Application,
    kind: AttachmentType,
    upload: CheckedFile,
    store: FileStore,
    actor: Actor,
) -> Attachment:
    if not service.can_edit_step(application, Step.attachments, actor):
        raise service.ApplicationLocked()
    if kind not in kinds_for(actor):
        raise KindNotAllowed()
    count = session.exec(
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.application_id == application.id)
    ).one()
    if count >= MAX_PER_APPLICATION:
        raise TooManyAttachments()
    key = store.save(upload.data)
    attachment = Attachment(
        application_id=application.id or 0,
        kind=kind,
        filename=upload.filename,
        content_type=upload.content_type,
        size_bytes=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        uploaded_by_id=events.actor_user_id(actor),
        uploaded_by_staff=service.is_staff(actor),
    )
    session.add(attachment)
    application.updated_at = utcnow()
    session.add(application)
    session.flush()
    service.record_change(
        session,
        application=application,
        field_name="attachments",
        old=None,
        new=_label(attachment),
        actor=actor,
    )
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.attachment.add",
        target_type="subsidy_application",
        target_id=application.id,
        detail=f"attachment={attachment.id};kind={kind}",
    )
    return attachment


def list_for(session: Session, *, application: Application) -> list[Attachment]:
    return service.attachments_of(session, application)


def get(session: Session, *, application: Application, attachment_id: int) -> Attachment:
    attachment = session.exec(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.application_id == application.id
        )
    ).first()
    if attachment is None:
        raise NotFound()
    return attachment


def read(
    session: Session,
    *,
    application: Application,
    attachment: Attachment,
    store: FileStore,
    actor: Actor,
) -> bytes:
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.attachment.read",
        target_type="subsidy_application",
        target_id=application.id,
        detail=f"attachment={attachment.id};kind={attachment.kind}",
    )
    return store.read(attachment.storage_key)


def delete(
    session: Session, *, application: Application, attachment: Attachment, actor: Actor
) -> None:
    if not service.can_edit_step(application, Step.attachments, actor):
        raise service.ApplicationLocked()
    attachment_id = attachment.id
    label = _label(attachment)
    session.delete(attachment)
    application.updated_at = utcnow()
    session.add(application)
    session.flush()
    service.record_change(
        session,
        application=application,
        field_name="attachments",
        old=label,
        new=None,
        actor=actor,
    )
    audit.record(
        session,
        actor=actor,
        action="subsidy_application.attachment.delete",
        target_type="subsidy_application",
        target_id=application.id,
        detail=f"attachment={attachment_id}",
    )
