"""The youth applications export: an Excel file handlers open, audited, formula-safe."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.audit import AuditEvent
from app.crypto import blind_index
from app.db import utcnow
from app.summer_voucher.exports import safe_cell
from app.summer_voucher.models import YouthApplication, YouthStatus
from tests.conftest import login


def test_handler_exports_the_years_activated_applications(client: TestClient, db: Session) -> None:
    now = utcnow()
    for tag, activated in (('=HYPERLINK("http://evil")', True), ("Ei vahvistettu", False)):
        db.add(
            YouthApplication(
                year=now.year,
                first_name="Testi",
                last_name=tag,
                email=f"{len(tag)}@example.com",
                email_index=blind_index(f"{len(tag)}@example.com", purpose="email"),
                phone="+358401234567",
                hetu="220410A3177",
                postcode="00100",
                school="Koulu",
                target_group="primary_target_group",
                status=YouthStatus.accepted if activated else YouthStatus.submitted,
                created_at=now,
                activated_at=now if activated else None,
            )
        )
    db.flush()
    login(client, "staff-handler", staff=True)
    answer = client.get(f"/admin/summer-voucher/exports/youth-{now.year}.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Hakemus"
    assert len(rows) == 2  # the unconfirmed application is not exported
    data = rows[1]
    assert data[6] == '\'=HYPERLINK("http://evil")'  # text, not a formula
    assert data[9] == "220410A****"  # masked: the birth date part only
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "summer_voucher.export.youth")
    ).one()
    assert event.actor_kind == "staff"


def test_export_needs_a_handler(client: TestClient) -> None:
    login(client, "staff-payer", staff=True)
    assert client.get("/admin/summer-voucher/exports/youth-2026.xlsx").status_code == 403


def test_safe_cell() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("-5") == "'-5"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("Koulu") == "Koulu"
    assert safe_cell(5) == 5
