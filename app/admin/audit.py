"""The audit log viewer for staff admins (issue #7 §7): search by target, actor, business id,
action, outcome and time, newest first, paged by key, and the search's export as CSV.

Every filter is in the URL (a GET form), so a search works without JavaScript and can be
shared. Searching and exporting are themselves audited (app.audit_search).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from app import audit_search
from app.auth.dependencies import StaffAdminAuth, require_staff_admin
from app.db import utcnow
from app.deps import SessionDep
from app.i18n import gettext
from app.templating import path_for, render

router = APIRouter(
    prefix="/admin/audit",
    dependencies=[Depends(require_staff_admin)],
    include_in_schema=False,
)

# Exports of up to this size stay in memory; larger ones spill to a temporary file.
_SPOOL_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


def labels() -> dict[str, str]:
    return {
        "target_type": gettext("Target type"),
        "target_id": gettext("Target id"),
        "actor_id": gettext("Actor id"),
        "business_id": gettext("Business id"),
        "action": gettext("Action"),
        "match": gettext("Action matches"),
        "outcome": gettext("Outcome"),
        "from_date": gettext("From (date)"),
        "from_time": gettext("From (time)"),
        "to_date": gettext("To (date)"),
        "to_time": gettext("To (time)"),
        "before": gettext("Page"),
        "after": gettext("Page"),
        "limit": gettext("Events per page"),
    }


def outcome_names() -> dict[str, str]:
    return {
        "success": gettext("Success"),
        "denied": gettext("Denied"),
        "failure": gettext("Failure"),
    }


def _page(
    request: Request,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    page: audit_search.AuditPage | None,
    params: list[tuple[str, str]],
    status: int = 200,
) -> Response:
    url = path_for(request, "admin_audit")
    limit = [("limit", str(values["limit"]))] if values.get("limit") else []
    context = {
        "values": values,
        "errors": errors,
        "labels": labels(),
        "outcomes": outcome_names(),
        "page": page,
        "search_url": url,
        "first_params": [*params, *limit],
        "next_params": [*params, *limit, ("before", str(page.older))]
        if page and page.older
        else None,
        "previous_params": [*params, *limit, ("after", str(page.newer))]
        if page and page.newer
        else None,
        "export_params": params,
        "paged": bool(values.get("before") or values.get("after")),
        "export_max": audit_search.EXPORT_MAX_ROWS,
        "helsinki_time": audit_search.helsinki_time,
    }
    return render(request, "admin/audit/search.html", context, status_code=status)


@router.get("", name="admin_audit")
def audit_log(request: Request, auth: StaffAdminAuth, db: SessionDep) -> Response:
    """The search form and one page of the matching events, newest first."""
    parsed = audit_search.parse_search(request.query_params)
    if parsed.data is None:
        return _page(
            request, values=parsed.values, errors=parsed.errors, page=None, params=[], status=400
        )
    page = audit_search.search(db, actor=auth.actor, data=parsed.data)
    db.commit()  # the audit row of the search
    return _page(
        request,
        values=parsed.values,
        errors={},
        page=page,
        params=list(parsed.data.filters().items()),
    )


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    file.seek(0)
    while chunk := file.read(_CHUNK):
        yield chunk


@router.get("/export.csv", name="admin_audit_export")
def audit_export(request: Request, auth: StaffAdminAuth, db: SessionDep) -> Response:
    """The current search's events as CSV, newest first, at most EXPORT_MAX_ROWS.

    Written whole before the answer starts, so the request's transaction (with the export's
    audit row) is committed before any byte leaves; served from a spooled temporary file."""
    parsed = audit_search.parse_search(request.query_params)
    if parsed.data is None:
        return _page(
            request, values=parsed.values, errors=parsed.errors, page=None, params=[], status=400
        )
    file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed by the task
    try:
        audit_search.export_csv(db, actor=auth.actor, data=parsed.data, out=file)
        db.commit()
    except BaseException:
        file.close()
        raise
    stamp = utcnow().astimezone(audit_search.HELSINKI).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _chunks(file),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-log-{stamp}.csv"'},
        background=BackgroundTask(file.close),
    )
