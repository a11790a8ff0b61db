"""Reports and statistics for staff (issue #7 §6): the reports page with its downloads (the
Helsinki-lisä applications handled in a date range as Excel; the Kesäseteli employer claims of a
year, which the Kesäseteli exports page already makes), and the statistics page.

Both pages are GET forms (filters change nothing). Bad input answers 400 with the page, the
typed values and a message in the user's language. Handlers, deciders, payers and admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth.dependencies import Auth, require_staff
from app.db import utcnow
from app.deps import SessionDep
from app.documents import xlsx
from app.i18n import gettext
from app.reports import handled, statistics
from app.reports.schemas import DateRangeIn, YearIn, parse_query
from app.summer_voucher.claim_exports import Layout
from app.templating import render

require_reports = require_staff("handler", "decider", "payer", "admin")
ReportsAuth = Annotated[Auth, Depends(require_reports)]
# The Kesäseteli exports' own policy (app/admin/summer_voucher.py): only these see the links.
CLAIM_EXPORT_ROLES = frozenset({"handler", "admin"})

router = APIRouter(
    prefix="/admin", dependencies=[Depends(require_reports)], include_in_schema=False
)


def _today() -> date:
    return utcnow().astimezone(xlsx.HELSINKI).date()


def _reports_page(
    request: Request,
    auth: Auth,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    today = _today()
    defaults = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    return render(
        request,
        "admin/reports/index.html",
        {
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "message": message,
            "year": today.year,
            "previous_year": today.year - 1,
            "layouts": list(Layout),
            "claim_exports": not CLAIM_EXPORT_ROLES.isdisjoint(auth.session.role_set),
        },
        status_code=status_code,
    )


@router.get("/reports", name="admin_reports")
def reports(request: Request, auth: ReportsAuth) -> Response:
    """The downloads, and the way to the statistics."""
    return _reports_page(request, auth)


@router.get("/reports/subsidies/handled.xlsx", name="admin_report_handled")
def report_handled(request: Request, auth: ReportsAuth, db: SessionDep) -> Response:
    """Helsinki-lisä applications handled in [start, end] (H67, H68): the file, or the page with
    the reason there is none (bad dates: 400; nothing handled: a message)."""
    form = parse_query(DateRangeIn, request.query_params)
    if form.data is None:
        return _reports_page(request, auth, values=form.values, errors=form.errors, status_code=400)
    start, end = form.data.start, form.data.end
    content = handled.handled_workbook(db, start=start, end=end, actor=auth.actor)
    db.commit()  # the audit row of the export, an empty one too
    if content is None:
        return _reports_page(request, auth, values=form.values, message=gettext(handled.EMPTY))
    return Response(
        content,
        media_type=xlsx.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{handled.filename(start, end)}"'},
    )


@router.get("/statistics", name="admin_statistics")
def statistics_page(request: Request, auth: ReportsAuth, db: SessionDep) -> Response:
    """Counts and sums of a year (this year unless chosen), small cells suppressed."""
    query = request.query_params
    form = parse_query(YearIn, query if query.get("year") else {"year": str(_today().year)})
    if form.data is None:
        return render(
            request,
            "admin/reports/statistics.html",
            {"values": form.values, "errors": form.errors, "stats": None},
            status_code=400,
        )
    stats = statistics.statistics(db, year=form.data.year, actor=auth.actor)
    db.commit()  # the audit row of the read
    return render(
        request,
        "admin/reports/statistics.html",
        {"values": form.values, "errors": {}, "stats": stats},
    )
