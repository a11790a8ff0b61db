"""Staff admins edit the e-mail texts: per kind and language, with preview, a test message to
themselves and validation on save (K64). The texts are Jinja2 rendered in a sandbox; see
app/notifications/email_templates.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.dependencies import StaffAdminAuth, require_staff_admin
from app.auth.models import User
from app.deps import SessionDep
from app.errors import NotFound
from app.forms import parse_form
from app.i18n import LANGUAGE_NAMES, LANGUAGES, N_, gettext
from app.notifications import email_templates as templates
from app.notifications.email_templates import EmailKind, EmailTemplateIn
from app.notifications.models import EmailTemplate
from app.notifications.service import queue_email
from app.templating import render

router = APIRouter(
    prefix="/admin/email-templates",
    dependencies=[Depends(require_staff_admin)],
    include_in_schema=False,
)

ACTIONS = ("save", "preview", "test", "reset")
TEST_KIND = "email_template.test"
NOTICES = {
    "saved": N_("The e-mail text was saved. The next e-mails of this kind use it."),
    "reset": N_("The e-mail text was returned to the default."),
}


def _kind(kind: str, language: str) -> EmailKind:
    found = templates.KINDS.get(kind)
    if found is None or language not in LANGUAGES:
        raise NotFound()
    return found


def _editor_name(db: SessionDep, row: EmailTemplate | None) -> str | None:
    if row is None or row.updated_by_id is None:
        return None
    user = db.get(User, row.updated_by_id)
    return user.name if user is not None else None


@router.get("", name="email_templates")
def email_template_list(request: Request, db: SessionDep) -> Response:
    """Every editable kind in every language: edited or the default, and the last change."""
    rows = templates.overrides(db)
    entries: list[dict[str, Any]] = []
    for kind in templates.KINDS.values():
        for language in LANGUAGES:
            row = rows.get((kind.name, language))
            entries.append(
                {
                    "kind": kind,
                    "title": gettext(kind.title),
                    "language": language,
                    "language_name": LANGUAGE_NAMES[language],
                    "row": row,
                    "editor": _editor_name(db, row),
                }
            )
    return render(request, "admin/email_templates/list.html", {"entries": entries})


def _edit_page(
    request: Request,
    db: SessionDep,
    kind: EmailKind,
    language: str,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    preview: tuple[str, str, str] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    row = templates.find_override(db, kind=kind.name, language=language)
    return render(
        request,
        "admin/email_templates/edit.html",
        {
            "kind": kind,
            "title": gettext(kind.title),
            "variables": [(v.name, gettext(v.description)) for v in kind.variables],
            "language": language,
            "language_name": LANGUAGE_NAMES[language],
            "row": row,
            "editor": _editor_name(db, row),
            "values": values,
            "errors": errors or {},
            "preview": (
                None
                if preview is None
                else {"subject": preview[0], "text": preview[1], "html": preview[2]}
            ),
            "notice": notice,
            "problem": problem,
        },
        status_code=status,
    )


@router.get("/{kind}/{language}", name="email_template_edit")
def email_template_edit(
    request: Request, kind: str, language: str, db: SessionDep, done: str | None = None
) -> Response:
    """The form, filled with the edited text or else the file template's source."""
    email_kind = _kind(kind, language)
    row = templates.find_override(db, kind=kind, language=language)
    values: dict[str, Any] = (
        {part: getattr(row, part) for part in templates.PARTS}
        if row is not None
        else templates.file_sources(kind)
    )
    notice = gettext(NOTICES[done]) if done in NOTICES else None
    return _edit_page(request, db, email_kind, language, values, notice=notice)


def _done(request: Request, kind: str, language: str, done: str) -> Response:
    path = request.url_for("email_template_edit", kind=kind, language=language).path
    return RedirectResponse(f"{path}?done={done}", status_code=303)


@router.post("/{kind}/{language}", name="email_template_post")
async def email_template_post(
    request: Request, kind: str, language: str, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    """One form, four buttons: save, preview and test check the typed text first; a refused
    text comes back as typed, with its errors."""
    email_kind = _kind(kind, language)
    form = await request.form()
    action = form.get("action")
    if action not in ACTIONS:
        raise HTTPException(status_code=400)
    if action == "reset":
        if templates.reset_override(db, kind=email_kind, language=language, actor=auth.actor):
            db.commit()
        return _done(request, kind, language, "reset")

    result = parse_form(EmailTemplateIn, form)
    values = result.values
    errors = result.errors
    if result.data is not None:
        errors = templates.validate(email_kind, result.data.parts(), language=language)
    if result.data is None or errors:
        return _edit_page(request, db, email_kind, language, values, errors=errors, status=422)
    parts = result.data.parts()

    if action == "save":
        templates.save_override(
            db,
            kind=email_kind,
            language=language,
            parts=parts,
            actor=auth.actor,
            user_id=auth.user.id,
        )
        db.commit()
        return _done(request, kind, language, "saved")

    rendered = templates.render_parts(
        parts, templates.sample_context(email_kind, language), language=language
    )
    if action == "preview":
        return _edit_page(request, db, email_kind, language, values, preview=rendered)

    # action == "test": the sample e-mail to the admin's own address, through the outbox.
    address = auth.user.email
    subject, text, html = rendered
    try:
        queue_email(
            db,
            to=address or "",
            subject=subject,
            body_text=text,
            body_html=html,
            kind=TEST_KIND,
            language=language,
        )
    except ValueError:  # no address, or one the mail server would refuse
        problem = gettext(
            N_(
                "Your user account has no usable e-mail address, so the test message cannot "
                "be sent."
            )
        )
        return _edit_page(request, db, email_kind, language, values, problem=problem, status=409)
    db.commit()
    notice = gettext(N_("A test message was queued to %(address)s.")) % {"address": address}
    return _edit_page(request, db, email_kind, language, values, notice=notice)
