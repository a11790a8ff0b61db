"""Back office for Kesäseteli: yearly configuration and the school list (staff admins), and the
Excel exports of youth applications and employer claims (handlers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.dependencies import Auth, StaffAdminAuth, require_staff, require_staff_admin
from app.db import utcnow
from app.deps import SessionDep
from app.errors import NotFound
from app.forms import parse_form
from app.i18n import gettext
from app.summer_voucher import claim_exports, exports, service
from app.summer_voucher.claim_exports import ExportKind, Layout
from app.summer_voucher.models import TargetGroup
from app.summer_voucher.schemas import SchoolImportIn, YearConfigurationIn, target_group_names
from app.summer_voucher.service import HELSINKI
from app.templating import render

HandlerAuth = Annotated[Auth, Depends(require_staff("handler", "admin"))]

router = APIRouter(
    prefix="/admin/summer-voucher",
    dependencies=[Depends(require_staff_admin)],
    include_in_schema=False,
)


def _config_page(
    request: Request,
    values: dict[str, object],
    errors: dict[str, str],
    configs: Sequence[object],
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/summer_voucher/configuration.html",
        {
            "values": values,
            "errors": errors,
            "configs": configs,
            "target_groups": list(TargetGroup),
            "target_group_names": target_group_names(),
        },
        status_code=status,
    )


@router.get("/configuration", name="sv_configuration")
def configuration(request: Request, db: SessionDep, year: int | None = None) -> Response:
    """The years' configurations, and a form for one year (prefilled from the rules in force)."""
    chosen = year or utcnow().astimezone(HELSINKI).year
    existing = service.configuration_for(db, year=chosen)
    if existing is not None:
        values: dict[str, object] = {
            "year": existing.year,
            "voucher_value": f"{existing.voucher_value}",
            "min_work_hours": existing.min_work_hours,
            "min_work_compensation": f"{existing.min_work_compensation}",
            "target_groups": existing.target_groups,
            "opens_on": existing.opens_on.isoformat(),
            "closes_on": existing.closes_on.isoformat(),
        }
    else:
        values = service.default_configuration(year=chosen)
    return _config_page(request, values, {}, service.configurations(db))


@router.post("/configuration", name="sv_configuration_save")
async def configuration_save(request: Request, auth: StaffAdminAuth, db: SessionDep) -> Response:
    result = parse_form(YearConfigurationIn, await request.form())
    if result.data is None:
        return _config_page(
            request, result.values, result.errors, service.configurations(db), status=422
        )
    service.save_configuration(db, data=result.data, actor=auth.actor)
    db.commit()
    return RedirectResponse(
        f"{request.url_for('sv_configuration').path}?year={result.data.year}", status_code=303
    )


@router.get("/schools", name="sv_schools")
def schools(request: Request, db: SessionDep, added: int | None = None) -> Response:
    return render(
        request,
        "admin/summer_voucher/schools.html",
        {"schools": service.schools(db), "values": {}, "errors": {}, "added": added},
    )


@router.post("/schools", name="sv_schools_import")
async def schools_import(request: Request, auth: StaffAdminAuth, db: SessionDep) -> Response:
    result = parse_form(SchoolImportIn, await request.form())
    if result.data is None:
        return render(
            request,
            "admin/summer_voucher/schools.html",
            {
                "schools": service.schools(db),
                "values": result.values,
                "errors": result.errors,
                "added": None,
            },
            status_code=422,
        )
    added = service.import_schools(db, data=result.data, actor=auth.actor)
    db.commit()
    return RedirectResponse(f"{request.url_for('sv_schools').path}?added={added}", status_code=303)


@router.post("/schools/{school_id}/delete", name="sv_school_delete")
def school_delete(
    request: Request, school_id: int, auth: StaffAdminAuth, db: SessionDep
) -> Response:
    if not service.delete_school(db, school_id=school_id, actor=auth.actor):
        raise NotFound()
    db.commit()
    return RedirectResponse(request.url_for("sv_schools").path, status_code=303)


exports_router = APIRouter(
    prefix="/admin/summer-voucher",
    dependencies=[Depends(require_staff("handler", "admin"))],
    include_in_schema=False,
)


@exports_router.get("/exports/youth-{year}.xlsx", name="sv_export_youth")
def export_youth(year: int, auth: HandlerAuth, db: SessionDep) -> Response:
    """All activated youth applications of a year as an Excel file (personal data: audited)."""
    content = exports.youth_workbook(db, year=year, actor=auth.actor)
    db.commit()
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="kesaseteli-nuoret-{year}.xlsx"'},
    )


def _exports_page(request: Request, *, message: str | None = None) -> Response:
    year = utcnow().astimezone(HELSINKI).year
    return render(
        request,
        "admin/summer_voucher/exports.html",
        {"year": year, "previous_year": year - 1, "layouts": list(Layout), "message": message},
    )


@exports_router.get("/exports", name="sv_exports")
def exports_page(request: Request) -> Response:
    """The downloads: employer claims (unhandled, this year, last year x two layouts), youth."""
    return _exports_page(request)


def _parse(kind: str, columns: str) -> tuple[ExportKind, Layout]:
    try:
        return ExportKind(kind), Layout(columns)
    except ValueError:
        raise NotFound() from None


def _claims_file(
    request: Request, auth: Auth, db: SessionDep, kind: ExportKind, layout: Layout
) -> Response:
    now = utcnow()
    content = claim_exports.claims_workbook(
        db,
        kind=kind,
        columns=layout,
        actor=auth.actor,
        base_url=str(request.base_url),
        now=now,
    )
    db.commit()  # the audit row, and the unhandled export's marks
    if content is None:
        return _exports_page(request, message=gettext(claim_exports.empty_message(kind)))
    return Response(
        content,
        media_type=claim_exports.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{claim_exports.filename(layout, now)}"'
        },
    )


@exports_router.post("/exports/claims/unhandled/{columns}.xlsx", name="sv_export_claims_unhandled")
def export_unhandled_claims(
    request: Request, columns: str, auth: HandlerAuth, db: SessionDep
) -> Response:
    """The claims not yet exported, marked exported as they are written (K54): a POST, as the
    export changes them; the form carries the CSRF token."""
    kind, layout = _parse(ExportKind.unhandled, columns)
    return _claims_file(request, auth, db, kind, layout)


@exports_router.get("/exports/claims/{kind}/{columns}.xlsx", name="sv_export_claims")
def export_claims(
    request: Request, kind: str, columns: str, auth: HandlerAuth, db: SessionDep
) -> Response:
    """This or last year's claims (K55), in the reporting or the payment layout (K56)."""
    export_kind, layout = _parse(kind, columns)
    if export_kind is ExportKind.unhandled:
        # It marks claims exported: only the form's POST runs it.
        raise HTTPException(status_code=405, headers={"Allow": "POST"})
    return _claims_file(request, auth, db, export_kind, layout)
