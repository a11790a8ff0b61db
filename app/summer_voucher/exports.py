"""Excel exports of Kesäseteli (Finnish column names, as the handlers' current reports)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from app import audit
from app.security import Actor
from app.summer_voucher import serials
from app.summer_voucher.models import Voucher, YouthApplication
from app.types import mask_hetu

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
YOUTH_COLUMNS = (
    "Hakemus",
    "Vastaanotettu",
    "Vahvistettu",
    "Tila",
    "Setelin numero",
    "Etunimi",
    "Sukunimi",
    "Sukunimi (VTJ)",
    "Kotikunta (VTJ)",
    "Henkilötunnus",
    "Postinumero",
    "Koulu",
    "Kohderyhmä",
    "Lisätietojen syyt",
    "Lisätiedot annettu",
    "Käsitelty",
)


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text (R19)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None) -> datetime | None:
    # Excel has no time zones: write Helsinki wall-clock time without tzinfo.
    if moment is None:
        return None
    from app.summer_voucher.service import HELSINKI

    return moment.astimezone(HELSINKI).replace(tzinfo=None)


def youth_rows(session: Session, *, year: int) -> Iterable[list[Any]]:
    """Every activated application of the year, with its voucher, in two queries."""
    applications = session.exec(
        select(YouthApplication)
        .where(YouthApplication.year == year, col(YouthApplication.activated_at).is_not(None))
        .order_by(col(YouthApplication.id))
    ).all()
    vouchers = dict(
        session.exec(
            select(Voucher.youth_application_id, Voucher.serial_number).where(
                col(Voucher.youth_application_id).in_([a.id for a in applications])
            )
        ).all()
    )
    for a in applications:
        register = json.loads(a.register_snapshot) if a.register_snapshot else {}
        serial = vouchers.get(a.id or 0)
        yield [
            a.id,
            _local(a.created_at),
            _local(a.activated_at),
            a.status,
            serials.format_serial(serial) if serial else "",
            a.first_name,
            a.last_name,
            register.get("last_name", ""),
            register.get("home_municipality_name") or "",
            mask_hetu(a.hetu),
            a.postcode,
            a.school,
            a.target_group,
            ", ".join(a.additional_info_reasons or []),
            _local(a.additional_info_provided_at),
            _local(a.handled_at),
        ]


def youth_workbook(session: Session, *, year: int, actor: Actor) -> bytes:
    """The youth applications of `year` as .xlsx; the export itself is audited (K58)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = f"Nuoret {year}"
    sheet.append(list(YOUTH_COLUMNS))
    count = 0
    for row in youth_rows(session, year=year):
        sheet.append([safe_cell(v) for v in row])
        count += 1
    sheet.freeze_panes = "A2"
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "d.m.yyyy h:mm"
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.record(
        session,
        actor=actor,
        action="summer_voucher.export.youth",
        target_type="youth_application",
        detail=f"year={year} rows={count}",
        fields=list(YOUTH_COLUMNS),
    )
    return buffer.getvalue()
