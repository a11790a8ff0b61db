"""Back office for Kesäseteli youth applications: the handlers' queue, the detail with the
register check, accepting and rejecting with a confirmation, and the application a handler
makes for a person without a Finnish identity code (kesaseteli.md §1.4, K26-K31); the detail also
lists the employer claims that used the voucher (K32) and carries the handlers' notes and the
timeline (K52, K53).

Everything a list shows (tab, statuses, order, page) is in the URL, so the pages work without
JavaScript and a link can be shared or bookmarked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from app.admin import queues
from app.admin import summer_voucher_notes as notes
from app.auth.dependencies import Auth, require_staff
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidTransition, NotFound
from app.forms import parse_form
from app.i18n import gettext
from app.summer_voucher import claim_handling, claims, handling
from app.summer_voucher.handling import HandlerCreatedIn, Sort
from app.summer_voucher.models import (
    NoteType,
    TargetGroup,
    TimelineEntry,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.schemas import NoteIn, target_group_names
from app.templating import format_datetime, path_for, render
from app.types import mask_hetu

require_handler = require_staff("handler", "admin")
HandlerAuth = Annotated[Auth, Depends(require_handler)]

router = APIRouter(
    prefix="/admin/summer-voucher/youth",
    dependencies=[Depends(require_handler)],
    include_in_schema=False,
)

# The values of the sort select: a column, "-" in front for descending.
SORT_CHOICES = queues.sort_choices(Sort)


def status_names() -> dict[str, str]:
    """The youth application statuses' names in the current language, by value."""
    return {status.value: gettext(name) for status, name in handling.STATUS_NAMES.items()}


def queue_rows_html(
    rows: Sequence[handling.QueueRow],
    *,
    detail_base: str,
    statuses: Mapping[str, str],
    groups: Mapping[str, str],
) -> Markup:
    """The queue table's rows, made here rather than in the template.

    A page lists up to MAX_PAGE applications of seven columns, and a template spends several
    microseconds on each value it writes (escaping into a Markup object, attribute look-ups,
    filters), which made the rows most of the page's cost. Here each row is one f-string, the
    labels are translated and escaped once per page, and every value that comes from an
    application is escaped (html.escape: &, <, >, " and ') before it joins the markup.
    """
    no_code = escape(gettext("No identity code"))
    # The visually hidden link text, for screen readers: which application the link opens.
    open_before, _, open_after = escape(gettext("open application %(id)s")).partition("%(id)s")
    status_text = {value: escape(name) for value, name in statuses.items()}
    group_text = {value: escape(name) for value, name in groups.items()}
    base = escape(detail_base)
    html: list[str] = []
    for row in rows:
        a = row.application
        code = escape(mask_hetu(a.hetu)) if a.hetu else no_code
        age = f"{row.age} ({row.birth_year})" if row.age is not None else ""
        status = status_text.get(a.status) or escape(a.status)
        group = group_text.get(a.target_group) or escape(a.target_group)
        html.append(
            f'<tr>\n<td><a class="hds-link" href="{base}/{a.id}">{code}<span'
            f' class="visually-hidden">: {open_before}{a.id}{open_after}</span></a></td>\n'
            f"<td>{escape(a.first_name)} {escape(a.last_name)}</td>\n"
            f"<td>{escape(row.serial or '')}</td>\n"
            f"<td>{group}</td>\n"
            f"<td>{age}</td>\n"
            f"<td>{status}</td>\n"
            f"<td>{format_datetime(a.created_at)}</td>\n"
            "</tr>\n"
        )
    return Markup("".join(html))  # noqa: S704 - built of escaped values, see above


@router.get("", name="sv_youth_queue")
def youth_queue(
    request: Request,
    auth: HandlerAuth,
    db: SessionDep,
    tab: Literal["pending", "processed"] = "pending",
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    sort: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=handling.MAX_PAGE)] = 100,
) -> Response:
    """A tab of the queue (K26). Names are not shown in the order of the list: they are
    encrypted, so the database cannot sort by them (see handling.Sort)."""
    sort_by, descending = queues.parse_sort(sort, Sort)
    page = handling.queue(
        db,
        tab=tab,
        actor=auth.actor,
        statuses=status,
        sort=sort_by,
        descending=descending,
        after=after,
        limit=limit,
    )
    db.commit()  # the audit row of the read
    state = queues.list_state(
        tab=tab,
        page=page,
        tab_statuses=handling.TAB_STATUSES[tab],
        default_statuses=handling.DEFAULT_STATUSES[tab],
        default_sort=handling.DEFAULT_SORT[tab],
        choices=SORT_CHOICES,
        statuses=status,
        sort=sort,
        after=after,
        limit=limit,
    )
    queue_url = path_for(request, "sv_youth_queue")
    names = status_names()
    return render(
        request,
        "admin/summer_voucher/youth_queue.html",
        {
            **state,
            "queue_url": queue_url,
            "status_names": names,
            "rows_html": queue_rows_html(
                page.rows, detail_base=queue_url, statuses=names, groups=target_group_names()
            ),
        },
    )


def _new_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "admin/summer_voucher/youth_new.html",
        {
            "values": values,
            "errors": errors,
            "target_groups": list(TargetGroup),
            "target_group_names": target_group_names(),
        },
        status_code=status,
    )


@router.get("/new", name="sv_youth_new")
def youth_new(request: Request) -> Response:
    return _new_page(request, {"language": "fi"}, {})


@router.post("/new", name="sv_youth_create")
async def youth_create(
    request: Request, auth: HandlerAuth, db: SessionDep, settings: SettingsDep
) -> Response:
    result = parse_form(HandlerCreatedIn, await request.form())
    if result.data is None:
        return _new_page(request, result.values, result.errors, status=422)
    try:
        application = handling.create_without_hetu(
            db,
            data=result.data,
            actor=auth.actor,
            now=utcnow(),
            handler_email=settings.summer_voucher_handler_email,
            link_for=lambda application_id: str(
                request.url_for("sv_youth_detail", application_id=application_id)
            ),
        )
    except handling.EmailTaken as exc:
        return _new_page(request, result.values, {"email": gettext(exc.message)}, status=409)
    db.commit()
    return RedirectResponse(
        request.url_for("sv_youth_detail", application_id=application.id).path, status_code=303
    )


def _detail_page(
    request: Request,
    db: SessionDep,
    auth: Auth,
    application_id: int,
    *,
    timeline: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    found = handling.detail(
        db,
        application_id=application_id,
        register=request.app.state.population_register,
        actor=auth.actor,
    )
    if found is None:
        raise NotFound()
    db.commit()  # the audit row of the read
    chosen = notes.timeline_filter(timeline)
    entries = claim_handling.youth_timeline(
        db, application_id=application_id, kinds=[chosen] if chosen else []
    )
    return render(
        request,
        "admin/summer_voucher/youth_detail.html",
        {
            "detail": found,
            "status_names": status_names(),
            "target_group_names": target_group_names(),
            "voucher_claims": claim_handling.claims_using_voucher(
                db, youth_application_id=application_id
            ),
            "claim_status_names": {k: gettext(v) for k, v in claims.STATUS_NAMES.items()},
            "timeline_entries": entries,
            "timeline_filter": chosen,
            "timeline_url": request.url_for("sv_youth_detail", application_id=application_id).path,
            "note_action": request.url_for("sv_youth_note_add", application_id=application_id).path,
            "note_links": notes.own_note_links(
                request, entries, auth, "sv_youth_note_edit", application_id=application_id
            ),
            "note_labels": notes.note_labels(),
            "note_type_names": notes.note_type_names(),
            "errors": errors or {},
            "values": values or {"note_type": NoteType.internal.value},
        },
        status_code=status,
    )


@router.get("/{application_id}", name="sv_youth_detail")
def youth_detail(
    request: Request,
    application_id: int,
    auth: HandlerAuth,
    db: SessionDep,
    timeline: str | None = None,
) -> Response:
    """The application, the register check, the claims that used the voucher (K32), notes and
    the timeline (K52, K53)."""
    return _detail_page(request, db, auth, application_id, timeline=timeline)


def _loaded(db: SessionDep, application_id: int) -> YouthApplication:
    application = handling.get(db, application_id=application_id)
    if application is None:
        raise NotFound()
    return application


def _confirm(
    request: Request, application: YouthApplication, auth: Auth, action: YouthStatus
) -> Response:
    """Ask before an irreversible decision; a decision not open now is refused already here."""
    if action not in handling.YOUTH_TRANSITIONS.targets(
        YouthStatus(application.status), auth.actor.roles
    ):
        raise InvalidTransition()
    return render(
        request,
        "admin/summer_voucher/youth_confirm.html",
        {"application": application, "action": action.value},
    )


@router.get("/{application_id}/accept", name="sv_youth_accept_confirm")
def youth_accept_confirm(
    request: Request, application_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    return _confirm(request, _loaded(db, application_id), auth, YouthStatus.accepted)


@router.post("/{application_id}/accept", name="sv_youth_accept")
def youth_accept(
    request: Request,
    application_id: int,
    auth: HandlerAuth,
    db: SessionDep,
    settings: SettingsDep,
) -> Response:
    handling.accept_by_handler(
        db,
        application=_loaded(db, application_id),
        actor=auth.actor,
        now=utcnow(),
        handler_email=settings.summer_voucher_handler_email,
    )
    db.commit()
    return RedirectResponse(
        request.url_for("sv_youth_detail", application_id=application_id).path, status_code=303
    )


@router.post("/{application_id}/resend-voucher", name="sv_youth_resend_voucher")
def youth_resend_voucher(
    request: Request, application_id: int, auth: HandlerAuth, db: SessionDep, settings: SettingsDep
) -> Response:
    """Send the voucher e-mail again (the youth lost it, or the handlers need a copy)."""
    handling.resend_voucher(
        db,
        application=_loaded(db, application_id),
        actor=auth.actor,
        handler_email=settings.summer_voucher_handler_email,
    )
    db.commit()
    return RedirectResponse(
        request.url_for("sv_youth_detail", application_id=application_id).path + "?resent=1",
        status_code=303,
    )


@router.get("/{application_id}/reject", name="sv_youth_reject_confirm")
def youth_reject_confirm(
    request: Request, application_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    return _confirm(request, _loaded(db, application_id), auth, YouthStatus.rejected)


@router.post("/{application_id}/reject", name="sv_youth_reject")
def youth_reject(
    request: Request, application_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    handling.reject(db, application=_loaded(db, application_id), actor=auth.actor, now=utcnow())
    db.commit()
    return RedirectResponse(
        request.url_for("sv_youth_detail", application_id=application_id).path, status_code=303
    )


# --- Notes (K52) ------------------------------------------------------------------------------


def _detail_url(request: Request, application_id: int) -> str:
    return request.url_for("sv_youth_detail", application_id=application_id).path


@router.post("/{application_id}/notes", name="sv_youth_note_add")
async def youth_note_add(
    request: Request, application_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    application = _loaded(db, application_id)
    result = parse_form(NoteIn, await request.form())
    if result.data is None:
        return _detail_page(
            request,
            db,
            auth,
            application_id,
            errors=result.errors,
            values=result.values,
            status=422,
        )
    claim_handling.add_note(db, target=application, data=result.data, actor=auth.actor)
    db.commit()
    return RedirectResponse(_detail_url(request, application_id) + "#timeline", status_code=303)


def _own_note(
    request: Request, db: SessionDep, auth: Auth, application_id: int, note_id: int
) -> TimelineEntry:
    note = claim_handling.get_note(db, target=_loaded(db, application_id), note_id=note_id)
    notes.require_own(request, db, auth, note)
    return note


def _note_urls(request: Request, application_id: int, note_id: int) -> notes.NoteUrls:
    return notes.NoteUrls(
        back=_detail_url(request, application_id),
        action=request.url_for(
            "sv_youth_note_update", application_id=application_id, note_id=note_id
        ).path,
        delete_url=request.url_for(
            "sv_youth_note_confirm", application_id=application_id, note_id=note_id
        ).path,
    )


@router.get("/{application_id}/notes/{note_id}", name="sv_youth_note_edit")
def youth_note_edit(
    request: Request, application_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    note = _own_note(request, db, auth, application_id, note_id)
    return notes.note_page(
        request,
        template="admin/summer_voucher/note_edit.html",
        note=note,
        urls=_note_urls(request, application_id, note_id),
    )


@router.post("/{application_id}/notes/{note_id}", name="sv_youth_note_update")
async def youth_note_update(
    request: Request, application_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    note = _own_note(request, db, auth, application_id, note_id)
    result = parse_form(NoteIn, await request.form())
    if result.data is None:
        return notes.note_page(
            request,
            template="admin/summer_voucher/note_edit.html",
            note=note,
            values=result.values,
            errors=result.errors,
            status=422,
            urls=_note_urls(request, application_id, note_id),
        )
    claim_handling.edit_note(db, note=note, data=result.data, actor=auth.actor)
    db.commit()
    return RedirectResponse(_detail_url(request, application_id) + "#timeline", status_code=303)


@router.get("/{application_id}/notes/{note_id}/delete", name="sv_youth_note_confirm")
def youth_note_confirm(
    request: Request, application_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    note = _own_note(request, db, auth, application_id, note_id)
    return notes.note_page(
        request,
        template="admin/summer_voucher/note_delete.html",
        note=note,
        urls=notes.NoteUrls(
            back=_detail_url(request, application_id),
            action=request.url_for(
                "sv_youth_note_delete", application_id=application_id, note_id=note_id
            ).path,
        ),
    )


@router.post("/{application_id}/notes/{note_id}/delete", name="sv_youth_note_delete")
def youth_note_delete(
    request: Request, application_id: int, note_id: int, auth: HandlerAuth, db: SessionDep
) -> Response:
    note = _own_note(request, db, auth, application_id, note_id)
    claim_handling.delete_note(db, note=note, actor=auth.actor)
    db.commit()
    return RedirectResponse(_detail_url(request, application_id) + "#timeline", status_code=303)
