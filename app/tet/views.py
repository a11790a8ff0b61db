"""The TET posting editor (fi/sv/en) for employers acting for a business id and for staff of a
city unit (#6, T3–T22): my postings (published / drafts / ended), the supervisor confirmation
before a first posting, the editor (save a draft with title, unit and address; publish with
everything and the terms), the preview as pupils see it, publishing from the list, unpublishing,
copying, deleting, the posting's image, and the terms of use.

Every page works without JavaScript. Another owner's posting answers 404 (dependencies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from app.deps import SessionDep
from app.documents.uploads import UploadRejected
from app.errors import ValidationFailed
from app.forms import errors_by_field, normalize
from app.i18n import N_, current_language, gettext
from app.security import safe_local_path
from app.templating import path_for, render
from app.tet import repository, service
from app.tet.dependencies import EditorDep, posting_of, require_tet_editor
from app.tet.models import ClassificationKind, PostingStatus, TetClassification, TetPosting
from app.tet.schemas import DESCRIPTION_MAX, PostingIn, publish_problems

PREFIX = "/tet/manage"
router = APIRouter(
    prefix=PREFIX, dependencies=[Depends(require_tet_editor)], include_in_schema=False
)

LIST_FIELDS = ("languages", "fields", "methods", "features")
# The form's fields in page order: the error summary follows it.
FIELD_ORDER = (
    "title",
    "org_unit",
    "street",
    "postcode",
    "city",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "contact_email",
    "start_date",
    "end_date",
    "spots",
    "languages",
    "description",
    "website",
    "fields",
    "methods",
    "features",
    "keywords",
    "accept_terms",
    "file",
    "photographer",
)
LANGUAGE_OPTIONS = (("fi", "Suomi"), ("sv", "Svenska"), ("en", "English"))
ACTIONS = ("draft", "publish", "preview")

# Success messages after a redirect (?done=...).
NOTICES = {
    "saved": N_("The draft was saved."),
    "created": N_("The draft was saved. You can now add an image below."),
    "published": N_("The TET posting was published. Pupils can now find it."),
    "updated": N_("The changes were saved and published."),
    "unpublished": N_(
        "The posting was unpublished and moved to the drafts. Pupils no longer see it."
    ),
    "copied": N_("A copy was made as a new draft. Check the dates before publishing it."),
    "deleted": N_("The TET posting was deleted."),
    "image": N_("The image was saved."),
    "image_removed": N_("The image was removed."),
}


def labels() -> dict[str, str]:
    return {
        "title": gettext("Job title"),
        "org_unit": gettext("Unit or department"),
        "street": gettext("Street address"),
        "postcode": gettext("Postcode"),
        "city": gettext("City"),
        "latitude": gettext("Latitude"),
        "longitude": gettext("Longitude"),
        "description": gettext("Description of the TET place"),
        "contact_name": gettext("Contact person's name"),
        "contact_phone": gettext("Contact person's phone number"),
        "contact_email": gettext("Contact person's e-mail address"),
        "start_date": gettext("Start date"),
        "end_date": gettext("End date"),
        "spots": gettext("Number of TET places"),
        "languages": gettext("Languages used in the TET place"),
        "fields": gettext("Field of work"),
        "methods": gettext("What kind of TET?"),
        "features": gettext("Work features"),
        "keywords": gettext("Keywords"),
        "website": gettext("Website"),
        "photographer": gettext("Photographer's name"),
        "accept_terms": gettext("Terms of use"),
        "file": gettext("Image"),
        "confirm": gettext("Confirmation"),
    }


def _notice(request: Request) -> str | None:
    key = request.query_params.get("done")
    return gettext(NOTICES[key]) if key in NOTICES else None


def _edit_url(posting: TetPosting, request: Request) -> str:
    return path_for(request, "tet_manage_edit", posting_id=posting.id)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _list_url(request: Request, done: str | None = None) -> str:
    url = path_for(request, "tet_manage_list")
    return f"{url}?done={done}" if done else url


def _errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Field messages in the form's order (the error summary reads top to bottom)."""
    found = errors_by_field(errors)
    if "accept_terms" in found:
        found["accept_terms"] = gettext("Accept the terms of use to publish the posting.")
    order = {name: index for index, name in enumerate(FIELD_ORDER)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))


# --- Form values ----------------------------------------------------------------------------------


def _shown(name: str, value: Any) -> Any:
    """A stored value as the form shows it."""
    if name in LIST_FIELDS:
        return [str(v) for v in value or []]
    if value is None:
        return ""
    if name == "keywords":
        return ", ".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def posting_values(db: SessionDep, posting: TetPosting) -> dict[str, Any]:
    return {name: _shown(name, value) for name, value in service.as_input(db, posting).items()}


def _strings(items: Iterable[Any]) -> list[str]:
    return [item for item in items if isinstance(item, str)]


def _read_form(form: FormData, posting: TetPosting | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the schema gets, what the form shows again). Keywords are one comma-separated
    text field; the photographer's credit is edited with the image, so it is kept."""
    raw: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in PostingIn.model_fields:
        if name in LIST_FIELDS:
            raw[name] = values[name] = _strings(form.getlist(name))
        elif name == "keywords":
            text = form.get("keywords")
            values[name] = text if isinstance(text, str) else ""
            raw[name] = values[name].split(",")
        elif name == "photographer":
            raw[name] = posting.photographer if posting is not None else None
        else:
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""
            raw[name] = values[name]
    values["accept_terms"] = "true" if form.get("accept_terms") else ""
    return normalize(PostingIn, raw), values


def _parse(
    form: FormData, posting: TetPosting | None, *, publishing: bool
) -> tuple[PostingIn | None, dict[str, Any], list[dict[str, Any]]]:
    """The editor's input, or every problem at once: the field errors and, when publishing,
    what publishing still needs."""
    normalized, values = _read_form(form, posting)
    try:
        return PostingIn.model_validate(normalized), values, []
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors()]
    if publishing:
        errors += publish_problems(PostingIn.model_construct(**normalized))
        needs_terms = posting is None or posting.status != PostingStatus.published
        if needs_terms and not form.get("accept_terms"):
            errors.append({"loc": ["accept_terms"], "type": "must_be_true"})
    return None, values, errors


def _stored_problems(db: SessionDep, posting: TetPosting) -> list[dict[str, Any]]:
    """What the saved posting still lacks before it may be published."""
    try:
        return publish_problems(service.stored_input(db, posting))
    except ValidationError as exc:
        return [dict(e) for e in exc.errors()]


# --- Pages -----------------------------------------------------------------------------------------


def _groups(
    db: SessionDep, posting: TetPosting | None
) -> list[tuple[str, list[TetClassification]]]:
    """The classification checkboxes: values in use, and retired values the posting still has."""
    offered = repository.classifications(db)
    current = (
        repository.classifications_of(db, [posting.id])[posting.id]
        if posting is not None and posting.id is not None
        else []
    )
    retired = [c for c in current if c.retired_at is not None]
    return [
        (name, [c for c in [*offered, *retired] if c.kind == kind])
        for name, kind in (
            ("fields", ClassificationKind.field),
            ("methods", ClassificationKind.method),
            ("features", ClassificationKind.feature),
        )
    ]


def _editor_page(
    request: Request,
    db: SessionDep,
    editor: EditorDep,
    *,
    posting: TetPosting | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    draft_errors: bool = False,
    publish_errors: bool = False,
    status: int = 200,
) -> Response:
    return render(
        request,
        "tet/manage/edit.html",
        {
            "editor": editor,
            "posting": posting,
            "published": posting is not None and posting.status == PostingStatus.published,
            "values": values,
            "errors": errors or {},
            "draft_errors": draft_errors,
            "publish_errors": publish_errors,
            "labels": labels(),
            "groups": _groups(db, posting),
            "locale": current_language(),
            "language_options": LANGUAGE_OPTIONS,
            "description_max": DESCRIPTION_MAX,
            "image_max_mb": service.IMAGE_MAX_BYTES // (1024 * 1024),
            "notice": _notice(request),
        },
        status_code=status,
    )


def _confirm_url(request: Request, next_path: str) -> str:
    return path_for(request, "tet_manage_confirm") + "?next=" + next_path


# --- My postings (T16–T17) ---------------------------------------------------------------------


@router.get("", name="tet_manage_list")
def posting_list(request: Request, editor: EditorDep, db: SessionDep) -> Response:
    today = service.today()
    return render(
        request,
        "tet/manage/list.html",
        {
            "editor": editor,
            "lists": service.owner_list(db, owner=editor.owner, today=today),
            "notice": _notice(request),
        },
    )


@router.get("/terms", name="tet_manage_terms")
def terms_page(request: Request, editor: EditorDep) -> Response:
    """What the publisher promises when publishing (T6)."""
    return render(request, "tet/manage/terms.html", {"editor": editor})


# --- The supervisor confirmation (T3) ----------------------------------------------------------


def _confirm_page(
    request: Request, editor: EditorDep, next_path: str, *, error: str | None = None
) -> Response:
    return render(
        request,
        "tet/manage/confirm.html",
        {
            "editor": editor,
            "next": next_path,
            "errors": {"confirm": error} if error else {},
            "labels": labels(),
        },
        status_code=422 if error else 200,
    )


@router.get("/confirm", name="tet_manage_confirm")
def confirm_page(
    request: Request, editor: EditorDep, db: SessionDep, next: str | None = None
) -> Response:
    next_path = safe_local_path(next, PREFIX + "/new")
    if service.has_confirmed(db, user_id=editor.user_id, owner=editor.owner):
        return _redirect(next_path)
    return _confirm_page(request, editor, next_path)


@router.post("/confirm", name="tet_manage_confirm_save")
async def confirm_save(request: Request, editor: EditorDep, db: SessionDep) -> Response:
    form = await request.form()
    next_path = safe_local_path(str(form.get("next") or ""), PREFIX + "/new")
    if not form.get("confirm"):
        return _confirm_page(request, editor, next_path, error=gettext("Tick the box to confirm."))
    service.confirm_supervisor(db, user_id=editor.user_id, owner=editor.owner, actor=editor.actor)
    db.commit()
    return _redirect(next_path)


# --- The editor (T4–T6, T19) ------------------------------------------------------------------


def _action(form: FormData) -> str:
    action = str(form.get("action") or "draft")
    return action if action in ACTIONS else "draft"


@router.get("/new", name="tet_manage_new")
def new_page(request: Request, editor: EditorDep, db: SessionDep) -> Response:
    if not service.has_confirmed(db, user_id=editor.user_id, owner=editor.owner):
        return _redirect(_confirm_url(request, PREFIX + "/new"))
    values: dict[str, Any] = {name: [] for name in LIST_FIELDS}
    values |= {"spots": "1", "city": "Helsinki"}
    return _editor_page(request, db, editor, posting=None, values=values)


@router.post("/new", name="tet_manage_create")
async def create(request: Request, editor: EditorDep, db: SessionDep) -> Response:
    if not service.has_confirmed(db, user_id=editor.user_id, owner=editor.owner):
        return _redirect(_confirm_url(request, PREFIX + "/new"))
    return await _save(request, editor, db, posting=None)


@router.get("/{posting_id}/edit", name="tet_manage_edit")
def edit_page(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    posting = posting_of(db, editor, posting_id)
    service.check_editable(posting)
    errors: dict[str, str] = {}
    publish_errors = request.query_params.get("problems") == "publish"
    if publish_errors:
        errors = _errors(_stored_problems(db, posting))
    return _editor_page(
        request,
        db,
        editor,
        posting=posting,
        values=posting_values(db, posting),
        errors=errors,
        publish_errors=publish_errors and bool(errors),
    )


@router.post("/{posting_id}/edit", name="tet_manage_save")
async def save(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    posting = posting_of(db, editor, posting_id)
    service.check_editable(posting)
    return await _save(request, editor, db, posting=posting)


async def _save(
    request: Request, editor: EditorDep, db: SessionDep, *, posting: TetPosting | None
) -> Response:
    """ "Save draft", "Publish" (a published posting: "Save and publish"), or save and preview.
    A published posting stays published, so it is validated like one."""
    form = await request.form()
    action = _action(form)
    was_published = posting is not None and posting.status == PostingStatus.published
    publishing = action == "publish" or was_published
    data, values, problems = _parse(form, posting, publishing=publishing)

    def again(errors: list[dict[str, Any]]) -> Response:
        return _editor_page(
            request,
            db,
            editor,
            posting=posting,
            values=values,
            errors=_errors(errors),
            draft_errors=not publishing,
            publish_errors=publishing,
            status=422,
        )

    if data is None:
        return again(problems)
    try:
        saved = service.save(
            db,
            owner=editor.owner,
            actor=editor.actor,
            user_id=editor.user_id,
            data=data,
            posting=posting,
            publish=action == "publish" and not was_published,
            accept_terms=bool(form.get("accept_terms")),
        )
    except service.SupervisorConfirmationNeeded:
        db.rollback()
        return _redirect(_confirm_url(request, PREFIX + "/new"))
    except ValidationFailed as exc:
        db.rollback()
        return again(exc.errors)
    db.commit()
    if action == "preview":
        return _redirect(path_for(request, "tet_manage_preview", posting_id=saved.id))
    if was_published:
        return _redirect(_list_url(request, "updated"))
    if action == "publish":
        return _redirect(_list_url(request, "published"))
    return _redirect(
        _edit_url(saved, request) + ("?done=created" if posting is None else "?done=saved")
    )


# --- Preview (T15) -------------------------------------------------------------------------------


def image_url(request: Request, posting: TetPosting) -> str | None:
    if not posting.image_name:
        return None
    return path_for(request, "tet_manage_image", posting_id=posting.id)


@router.get("/{posting_id}/preview", name="tet_manage_preview")
def preview(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    """The posting exactly as pupils see it, with a way back to the form and, for a complete
    draft, to publishing."""
    posting = posting_of(db, editor, posting_id)
    district = service.district_name(posting.postcode)
    is_draft = posting.status == PostingStatus.draft
    return render(
        request,
        "tet/manage/preview.html",
        {
            "editor": editor,
            "posting": posting,
            "classes": repository.classifications_of(db, [posting.id or 0])[posting.id or 0],
            "image_url": image_url(request, posting),
            "district": gettext(district) if district else None,
            "ended": service.is_ended(posting),
            "can_publish": is_draft and not _stored_problems(db, posting),
            "is_draft": is_draft,
            "errors": {},
            "values": {},
        },
    )


# --- Publish now, unpublish (T6, T17) -------------------------------------------------------------


def _publish_page(
    request: Request, editor: EditorDep, posting: TetPosting, *, error: str | None = None
) -> Response:
    return render(
        request,
        "tet/manage/publish.html",
        {
            "editor": editor,
            "posting": posting,
            "errors": {"accept_terms": error} if error else {},
            "labels": labels(),
            "values": {},
        },
        status_code=422 if error else 200,
    )


@router.post("/{posting_id}/publish", name="tet_manage_publish")
async def publish(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    """ "Publish now": the saved posting is validated as in the editor (problems: back to the
    form, which shows them), then a confirmation with the terms."""
    posting = posting_of(db, editor, posting_id)
    if posting.status == PostingStatus.published:
        return _redirect(_list_url(request))
    form = await request.form()
    problems_url = _edit_url(posting, request) + "?problems=publish"
    if _stored_problems(db, posting):
        return _redirect(problems_url)
    if form.get("confirm") != "1":
        return _publish_page(request, editor, posting)
    try:
        service.publish(
            db,
            owner=editor.owner,
            actor=editor.actor,
            user_id=editor.user_id,
            posting=posting,
            accept_terms=bool(form.get("accept_terms")),
        )
    except ValidationFailed as exc:
        db.rollback()
        if all(e.get("loc", [None])[0] == "accept_terms" for e in exc.errors):
            return _publish_page(
                request,
                editor,
                posting,
                error=gettext("Accept the terms of use to publish the posting."),
            )
        return _redirect(problems_url)
    db.commit()
    return _redirect(_list_url(request, "published"))


@router.post("/{posting_id}/unpublish", name="tet_manage_unpublish")
def unpublish(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    posting = posting_of(db, editor, posting_id)
    service.unpublish(db, actor=editor.actor, user_id=editor.user_id, posting=posting)
    db.commit()
    return _redirect(_list_url(request, "unpublished"))


# --- Copy, delete (T18) ---------------------------------------------------------------------------


@router.post("/{posting_id}/copy", name="tet_manage_copy")
def copy(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    posting = posting_of(db, editor, posting_id)
    try:
        new = service.copy(
            db, owner=editor.owner, actor=editor.actor, user_id=editor.user_id, posting=posting
        )
    except service.SupervisorConfirmationNeeded:
        db.rollback()
        return _redirect(_confirm_url(request, PREFIX))
    db.commit()
    return _redirect(_edit_url(new, request) + "?done=copied")


@router.get("/{posting_id}/delete", name="tet_manage_delete_confirm")
def delete_confirm(
    request: Request, editor: EditorDep, db: SessionDep, posting_id: int
) -> Response:
    posting = posting_of(db, editor, posting_id)
    return render(
        request,
        "tet/manage/delete.html",
        {
            "editor": editor,
            "posting": posting,
            "published": posting.status == PostingStatus.published,
        },
    )


@router.post("/{posting_id}/delete", name="tet_manage_delete")
def delete(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    posting = posting_of(db, editor, posting_id)
    service.delete_posting(db, actor=editor.actor, posting=posting)
    db.commit()
    return _redirect(_list_url(request, "deleted"))


# --- The image -----------------------------------------------------------------------------------


@router.post("/{posting_id}/image", name="tet_manage_image_upload")
async def image_upload(
    request: Request, editor: EditorDep, db: SessionDep, posting_id: int
) -> Response:
    """PNG or JPEG by content, at most 4 MB, with the photographer's name; errors are shown on
    the editor beside the image field."""
    posting = posting_of(db, editor, posting_id)
    service.check_editable(posting)
    form = await request.form()
    upload = form.get("file")
    photographer = form.get("photographer")
    data = b""
    filename = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(service.IMAGE_MAX_BYTES + 1)
        filename = upload.filename
    try:
        service.set_image(
            db,
            actor=editor.actor,
            user_id=editor.user_id,
            posting=posting,
            data=data,
            filename=filename,
            photographer=photographer if isinstance(photographer, str) else None,
            store=request.app.state.file_store,
        )
    except UploadRejected as exc:
        db.rollback()
        db.refresh(posting)
        values = posting_values(db, posting)
        values["photographer"] = photographer if isinstance(photographer, str) else ""
        return _editor_page(
            request,
            db,
            editor,
            posting=posting,
            values=values,
            errors={"file": gettext(exc.message)},
            status=exc.status_code,
        )
    db.commit()
    return _redirect(_edit_url(posting, request) + "?done=image#image")


@router.post("/{posting_id}/image/delete", name="tet_manage_image_delete")
async def image_delete(
    request: Request, editor: EditorDep, db: SessionDep, posting_id: int
) -> Response:
    """First a confirmation page, then (confirm=1) the image is removed."""
    posting = posting_of(db, editor, posting_id)
    service.check_editable(posting)
    if not posting.image_name:
        return _redirect(_edit_url(posting, request))
    form = await request.form()
    if form.get("confirm") != "1":
        return render(
            request,
            "tet/manage/image_delete.html",
            {"editor": editor, "posting": posting, "image_url": image_url(request, posting)},
        )
    service.remove_image(db, actor=editor.actor, user_id=editor.user_id, posting=posting)
    db.commit()
    return _redirect(_edit_url(posting, request) + "?done=image_removed#image")


@router.get("/{posting_id}/image", name="tet_manage_image")
def image(request: Request, editor: EditorDep, db: SessionDep, posting_id: int) -> Response:
    """The owner's image, also of a draft (pupils get published images elsewhere)."""
    posting = posting_of(db, editor, posting_id)
    content, media_type = service.image_bytes(posting, store=request.app.state.file_store)
    return Response(
        content,
        media_type=media_type,
        headers={"Cache-Control": "private", "X-Content-Type-Options": "nosniff"},
    )
