"""The handlers' notes as pages, shared by the youth application and the claim back office:
labels, the edit links of one's own notes, and the edit and delete pages of a note (K52)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from app.auth.dependencies import Auth, deny
from app.errors import PermissionDenied
from app.i18n import gettext
from app.summer_voucher import claim_handling
from app.summer_voucher.models import NoteType, TimelineEntry
from app.templating import render

TIMELINE_KINDS = ("note", "status")


def timeline_filter(value: str | None) -> str | None:
    """`?timeline=note|status`; anything else shows everything."""
    return value if value in TIMELINE_KINDS else None


def note_type_names() -> dict[str, str]:
    return {
        NoteType.internal.value: gettext("Internal note"),
        NoteType.external.value: gettext("External message"),
    }


def note_labels() -> dict[str, str]:
    return {
        "content": gettext("Note"),
        "note_type": gettext("Type of the note"),
        "important": gettext("Mark as important"),
        "attachment_id": gettext("Concerning a file"),
    }


def own_note_links(
    request: Request, entries: list[TimelineEntry], auth: Auth, route: str, **params: int
) -> dict[int, str]:
    """Edit links for the notes this handler wrote: only the author may change a note."""
    return {
        entry.id: request.url_for(route, note_id=entry.id, **params).path
        for entry in entries
        if entry.id is not None and entry.kind == "note" and entry.actor_id == auth.user.id
    }


def require_own(request: Request, db: Session, auth: Auth, note: TimelineEntry) -> None:
    """Another handler's note is refused (403), and the attempt goes to the audit log."""
    try:
        claim_handling.require_author(note, auth.actor)
    except PermissionDenied:
        raise deny(request, db, auth) from None


@dataclass(frozen=True)
class NoteUrls:
    back: str  # the detail page the note belongs to
    action: str  # where the page's form posts
    delete_url: str | None = None  # the delete confirmation, linked from the edit page


def note_page(
    request: Request,
    *,
    template: str,
    note: TimelineEntry,
    urls: NoteUrls,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The edit page (note_edit.html) or the delete confirmation (note_delete.html) of a note."""
    return render(
        request,
        template,
        {
            "note": note,
            "back": urls.back,
            "action": urls.action,
            "delete_url": urls.delete_url,
            "values": values
            if values is not None
            else {
                "content": note.content or "",
                "note_type": note.note_type,
                "important": "true" if note.important else "",
            },
            "errors": errors or {},
            "labels": note_labels(),
            "note_type_names": note_type_names(),
        },
        status_code=status,
    )
