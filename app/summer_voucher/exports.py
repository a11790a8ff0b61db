"""Excel exports of Kesäseteli (Finnish column names, as the handlers' current reports)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from app import audit
from app.documents import xlsx
from app.documents.xlsx import local_time, safe_cell
from app.security import Actor
from app.summer_voucher import serials
from app.summer_voucher.models import Voucher, YouthApplication
from app.types import mask_hetu

# safe_cell moved to app.documents.xlsx; still importable from here.
__all__ = ["YOUTH_COLUMNS", "safe_cell", "youth_rows", "youth_workbook"]

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
            local_time(a.created_at),
            local_time(a.activated_at),
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
            local_time(a.additional_info_provided_at),
            local_time(a.handled_at),
        ]


def youth_workbook(session: Session, *, year: int, actor: Actor) -> bytes:
    """The youth applications of `year` as .xlsx; the export itself is audited (K58)."""
    rows = list(youth_rows(session, year=year))
    content = xlsx.workbook(
        sheet_title=f"Nuoret {year}",
        columns=[xlsx.Column(title) for title in YOUTH_COLUMNS],
        rows=rows,
    )
    audit.record(
        session,
        actor=actor,
        action="summer_voucher.export.youth",
        target_type="youth_application",
        detail=f"year={year} rows={len(rows)}",
        fields=list(YOUTH_COLUMNS),
    )
    return content
