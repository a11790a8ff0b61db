"""Staff admins keep the TET classifications pupils filter by: fields of work, work methods
("what kind of TET") and work features, each named in fi/sv/en (#6). Values are added, renamed
(the code never changes) and retired or restored; a retired value stays on the postings that
have it but is no longer offered for postings or as a search filter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from app.auth.dependencies import StaffAdminAuth, require_staff_admin
from app.deps import SessionDep
from app.errors import NotFound, ValidationFailed
from app.forms import errors_by_field, values_of
from app.i18n import N_, current_language, gettext
from app.templating import render
from app.tet import service
from app.tet.models import ClassificationKind, TetClassification

router = APIRouter(
    prefix="/admin/tet/classifications",
    dependencies=[Depends(require_staff_admin)],
    include_in_schema=False,
)

KINDS = (ClassificationKind.field, ClassificationKind.method, ClassificationKind.feature)
# Per kind: the section's heading, and the add page's title.
SECTION_TITLES = {
    ClassificationKind.field: N_("Fields of work"),
    ClassificationKind.method: N_("What kind of TET (work methods)"),
    ClassificationKind.feature: N_("Work features"),
}
ADD_TITLES = {
    ClassificationKind.field: N_("Add a field of work"),
    ClassificationKind.method: N_("Add a kind of TET (work method)"),
    ClassificationKind.feature: N_("Add a work feature"),
}
NAMES = ("name_fi", "name_sv", "name_en")
NOTICES = {
    "added": N_("“%(name)s” was added. It is offered for postings and as a search filter."),
    "renamed": N_("“%(name)s” was renamed. Postings that have it show the new name."),
    "retired": N_(
        "“%(name)s” was retired. Postings that have it keep it, but it is no longer offered "
        "for postings or as a search filter."
    ),
    "restored": N_("“%(name)s” was restored. It is offered for postings and as a search filter."),
}


def _kind(value: str | None) -> ClassificationKind:
    try:
        return ClassificationKind(value or "")
    except ValueError:
        raise NotFound() from None


def _done(request: Request, done: str, row: TetClassification) -> Response:
    path = request.url_for("tet_admin_classifications").path
    return RedirectResponse(f"{path}?done={done}&value={row.id}", status_code=303)


def _input(kind: ClassificationKind, form: FormData) -> service.ClassificationIn:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return service.ClassificationIn(
        kind=kind, name_fi=text("name_fi"), name_sv=text("name_sv"), name_en=text("name_en")
    )


@router.get("", name="tet_admin_classifications")
def classification_list(
    request: Request, db: SessionDep, done: str | None = None, value: int | None = None
) -> Response:
    """The three kinds, each value with its names, status and how many postings have it."""
    rows, usage = service.classifications_with_usage(db)
    sections = [
        {
            "kind": kind.value,
            "title": gettext(SECTION_TITLES[kind]),
            "add_title": gettext(ADD_TITLES[kind]),
            "rows": [row for row in rows if row.kind == kind],
        }
        for kind in KINDS
    ]
    notice = None
    if done in NOTICES and value is not None:
        changed = next((row for row in rows if row.id == value), None)
        if changed is not None:
            notice = gettext(NOTICES[done]) % {"name": changed.name(current_language())}
    return render(
        request,
        "admin/tet/list.html",
        {"sections": sections, "usage": usage, "notice": notice},
    )


def _form_page(
    request: Request,
    *,
    kind: ClassificationKind,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    row: TetClassification | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/tet/form.html",
        {
            "kind": kind.value,
            "section_title": gettext(SECTION_TITLES[kind]),
            "add_title": gettext(ADD_TITLES[kind]),
            "row": row,
            "values": values,
            "errors": errors or {},
        },
        status_code=status,
    )


@router.get("/new", name="tet_admin_new")
def classification_new(request: Request, kind: str | None = None) -> Response:
    return _form_page(request, kind=_kind(kind), values={})


@router.post("/new", name="tet_admin_add")
async def classification_add(
    request: Request, auth: StaffAdminAuth, db: SessionDep, kind: str | None = None
) -> Response:
    """Every value is named in all three languages; the service makes its code."""
    chosen = _kind(kind)
    form = await request.form()
    try:
        row = service.add_classification(db, actor=auth.actor, data=_input(chosen, form))
    except ValidationFailed as exc:
        return _form_page(
            request,
            kind=chosen,
            values=values_of(form),
            errors=errors_by_field(exc.errors),
            status=422,
        )
    db.commit()
    return _done(request, "added", row)


@router.get("/{classification_id}/edit", name="tet_admin_edit")
def classification_edit(request: Request, classification_id: int, db: SessionDep) -> Response:
    row = service.get_classification(db, classification_id)
    values = {name: getattr(row, name) for name in NAMES}
    return _form_page(request, kind=ClassificationKind(row.kind), values=values, row=row)


@router.post("/{classification_id}/edit", name="tet_admin_rename")
async def classification_rename(
    request: Request, classification_id: int, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    """New names in the three languages; the code and id stay, so postings keep the value."""
    row = service.get_classification(db, classification_id)
    kind = ClassificationKind(row.kind)
    form = await request.form()
    try:
        service.rename_classification(db, actor=auth.actor, row=row, data=_input(kind, form))
    except ValidationFailed as exc:
        return _form_page(
            request,
            kind=kind,
            values=values_of(form),
            errors=errors_by_field(exc.errors),
            row=row,
            status=422,
        )
    db.commit()
    return _done(request, "renamed", row)


@router.get("/{classification_id}/retire", name="tet_admin_retire_confirm")
def classification_retire_confirm(
    request: Request, classification_id: int, db: SessionDep
) -> Response:
    """Retiring changes what editors and pupils are offered: ask first."""
    row = service.get_classification(db, classification_id)
    return render(
        request,
        "admin/tet/retire_confirm.html",
        {
            "row": row,
            "name": row.name(current_language()),
            "postings": service.classifications_with_usage(db)[1].get(row.id or 0, 0),
        },
    )


@router.post("/{classification_id}/retire", name="tet_admin_retire")
def classification_retire(
    request: Request, classification_id: int, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    row = service.get_classification(db, classification_id)
    if row.retired_at is None:  # retiring twice changes nothing
        service.retire_classification(db, actor=auth.actor, row=row, retire=True)
        db.commit()
    return _done(request, "retired", row)


@router.post("/{classification_id}/restore", name="tet_admin_restore")
def classification_restore(
    request: Request, classification_id: int, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    row = service.get_classification(db, classification_id)
    if row.retired_at is not None:
        service.retire_classification(db, actor=auth.actor, row=row, retire=False)
        db.commit()
    return _done(request, "restored", row)
