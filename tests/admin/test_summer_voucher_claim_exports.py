"""The employer claim exports (K54-K56, K58) over HTTP: the Excel files handlers and the payment
robot read, the unhandled export's marking, the yearly selections, formula safety, the audit
log and who may download."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import Session, col, select

from app import i18n
from app.audit import AuditEvent
from app.db import utcnow
from app.documents.storage import FileStore
from app.summer_voucher.models import (
    AttachmentKind,
    Claim,
    ClaimAttachment,
    ClaimStatus,
    TargetGroup,
    Voucher,
    YearConfiguration,
)
from app.summer_voucher.schemas import TARGET_GROUP_NAMES
from app.summer_voucher.service import HELSINKI
from tests.conftest import login
from tests.summer_voucher import factories as f

BASE = "/admin/summer-voucher/exports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

REPORTING_HEADERS = [
    "Järjestys",
    "Saatu pvm",
    "Hakemuksen kieli",
    "Setelin numero",
    "Erikoistapaus (esim yhdeksäsluokkalainen)",
    "",
    "Nuoren nimi",
    "Henkilötunnus",
    "Koulu",
    "Kotipostinumero",
    "Puhelin",
    "Kotikaupunki",
    "",
    "Työnantaja muoto",
    "Työnantaja",
    "Työnantajan lähiosoite",
    "Työnantajan postinumero",
    "Työnantajan kunta",
    "Yhdyshenkilön sähköposti",
    "Yhdyshenkilön Puhelin",
    "Laskuttajan sähköposti",
    "Laskuttajan Puhelin",
    "Yrityksen toimiala",
    "",
    "Työn suorituspaikan postinumero",
    "Työsuhteen aloituspäivämäärä",
    "Työsuhteen päättymispäivämäärä",
    "Työtunnit",
    "Maksettu palkka (€)",
    "Muut edut",
    "Työtehtävät",
    "Olisitko palkannut?",
    "Työnantajan kokemus",
    "Muuta",
    "VTJ-tietojen luovutuskielto (ts. turvakielto)",
    "Erikoistapauksen laskentatila",
]
TALPA_HEADERS = [
    "Järjestys",
    "Saatu pvm",
    "Hakemuksen kieli",
    "Setelin numero",
    "Erikoistapaus (esim yhdeksäsluokkalainen)",
    "",
    "Nuoren nimi",
    "",
    "Työnantaja",
    "Y-tunnus",
    "Työnantajan lähiosoite",
    "Työnantajan postinumero",
    "Työnantajan kunta",
    "",
    *(f"Liite: Työsopimus {n}" for n in range(1, 6)),
    *(f"Liite: Palkkalaskelma {n}" for n in range(1, 6)),
    "Tilinumero",
    "Summa (€)",
    "Tarkastaja etunimi",
    "Tarkastaja sukunimi",
    "Hyväksyjä etunimi",
    "Hyväksyjä sukunimi",
    "VTJ-tietojen luovutuskielto (ts. turvakielto)",
    "Maksunsaajan nimi",
    "Maksunsaajan osoite",
    "Pankin SWIFT / BIC koodi",
    "Pankin nimi",
    "Pankin käyntiosoite",
    "Erikoistapauksen laskentatila",
]


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    store: FileStore = app.state.file_store
    return store


def finnish(message: str) -> str:
    """A message as the Finnish page shows it (the catalogs may not translate it yet)."""
    with i18n.language("fi"):
        return i18n.gettext(message)


def sheet_rows(response: httpx.Response) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and the data rows (as header -> value; separators left out) of a download."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Setelit"]
    rows = list(workbook["Setelit"].iter_rows(values_only=True))
    header = ["" if v is None else str(v) for v in rows[0]]
    data = [{h: v for h, v in zip(header, row, strict=True) if h} for row in rows[1:]]
    return header, data


def unhandled(client: TestClient, columns: str = "reporting") -> httpx.Response:
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    answer: httpx.Response = client.post(
        f"{BASE}/claims/unhandled/{columns}.xlsx", data={"csrf_token": token}
    )
    return answer


def claim_with_second_youth(
    db: Session, store: FileStore, *, first_name: str, last_name: str
) -> Claim:
    """A sent claim for another youth (the same employer)."""
    youth, voucher = f.accepted_youth(db, first_name=first_name, last_name=last_name)
    return f.submitted_claim(db, store, youth=youth, voucher=voucher)


def test_both_layouts_have_the_citys_finnish_columns_and_file_name(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.submitted_claim(db, store)
    login(client, "staff-handler", staff=True)
    for columns, expected in (("reporting", REPORTING_HEADERS), ("talpa", TALPA_HEADERS)):
        answer = client.get(f"{BASE}/claims/annual/{columns}.xlsx")
        header, rows = sheet_rows(answer)
        assert header == expected
        assert len(rows) == 1
        assert re.fullmatch(
            rf'attachment; filename="{columns}-kesasetelihakemukset_'
            r'\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.xlsx"',
            answer.headers["content-disposition"],
        )


def test_a_rows_values(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    claim = f.submitted_claim(db, store)
    year = f.this_year()
    voucher_serial = f.serial(db.get(Voucher, claim.voucher_id))
    files = {
        a.kind: a
        for a in db.exec(select(ClaimAttachment).where(ClaimAttachment.claim_id == claim.id)).all()
    }
    login(client, "staff-handler", staff=True)

    _header, (row,) = sheet_rows(client.get(f"{BASE}/claims/annual/reporting.xlsx"))
    assert claim.submitted_at is not None
    assert row["Järjestys"] == 1
    assert row["Saatu pvm"] == claim.submitted_at.astimezone(HELSINKI).strftime("%d/%m/%Y")
    assert row["Hakemuksen kieli"] == "suomi"
    assert row["Setelin numero"] == voucher_serial
    assert row["Erikoistapaus (esim yhdeksäsluokkalainen)"] == finnish(
        TARGET_GROUP_NAMES[TargetGroup.primary]
    )
    assert row["Nuoren nimi"] == "Aino Virtanen"
    assert row["Koulu"] == "Kalliolan yläkoulu"
    assert row["Kotipostinumero"] == "00100"
    assert row["Puhelin"] == "'+358401234567"  # a leading + is escaped like any formula start
    assert row["Työnantaja"] == "Kahvila Esimerkki Oy"
    assert row["Työnantajan kunta"] == "Helsinki"
    assert row["Yhdyshenkilön sähköposti"] == "essi@example.com"
    assert row["Työsuhteen aloituspäivämäärä"] == f"03.06.{year}"
    assert row["Työsuhteen päättymispäivämäärä"] == f"26.07.{year}"
    assert row["Työtunnit"] == 80
    assert row["Maksettu palkka (€)"] == pytest.approx(920.5)
    assert row["Työtehtävät"] == "Kahvilan asiakaspalvelu"
    assert row["Olisitko palkannut?"] == "Ei"
    assert row["VTJ-tietojen luovutuskielto (ts. turvakielto)"] == "Ei"
    assert row["Erikoistapauksen laskentatila"] == "annettu"
    assert row["Muut edut"] is None  # a column the handlers fill in by hand

    _header, (row,) = sheet_rows(client.get(f"{BASE}/claims/annual/talpa.xlsx"))
    assert row["Y-tunnus"] == "2956285-9"
    assert row["Tilinumero"] == "FI2112345600000785"
    assert row["Summa (€)"] == 350
    contract, payslip = files[AttachmentKind.employment_contract], files[AttachmentKind.payslip]
    base = f"http://testserver/admin/summer-voucher/claims/{claim.id}/attachments"
    assert row["Liite: Työsopimus 1"] == f"{base}/{contract.id}"
    assert row["Liite: Palkkalaskelma 1"] == f"{base}/{payslip.id}"
    assert row["Liite: Työsopimus 2"] is None
    assert row["Maksunsaajan nimi"] is None


def test_unhandled_marks_its_rows_and_a_repeat_run_has_nothing_new(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    first = f.submitted_claim(db, store)
    second = claim_with_second_youth(db, store, first_name="Eino", last_name="Laine")
    taken = claim_with_second_youth(db, store, first_name="Iida", last_name="Koski")
    taken.status = ClaimStatus.handling  # taken by a handler before any export: still unhandled
    decided = claim_with_second_youth(db, store, first_name="Olli", last_name="Nieminen")
    decided.status = ClaimStatus.accepted
    f.filled_claim(db, store)  # a draft: never exported
    db.flush()
    login(client, "staff-handler", staff=True)

    assert client.get(f"{BASE}/claims/unhandled/reporting.xlsx").status_code == 405
    _header, rows = sheet_rows(unhandled(client))
    assert {r["Nuoren nimi"] for r in rows} == {"Aino Virtanen", "Eino Laine", "Iida Koski"}
    assert [r["Järjestys"] for r in rows] == [1, 2, 3]
    marked = db.exec(select(Claim).where(col(Claim.exported_at).is_not(None))).all()
    assert {c.id for c in marked} == {first.id, second.id, taken.id}

    again = unhandled(client, "talpa")  # one mark for both layouts
    assert again.status_code == 200
    assert again.headers["content-type"].startswith("text/html")
    assert finnish("No new unhandled applications.") in again.text

    claim_with_second_youth(db, store, first_name="Venla", last_name="Heikkinen")
    _header, rows = sheet_rows(unhandled(client, "talpa"))
    assert [r["Nuoren nimi"] for r in rows] == ["Venla Heikkinen"]


def test_annual_exports_every_sent_claim_of_the_year_in_sending_order(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    later = f.submitted_claim(db, store)
    earlier = claim_with_second_youth(db, store, first_name="Eino", last_name="Laine")
    decided = claim_with_second_youth(db, store, first_name="Iida", last_name="Koski")
    decided.status = ClaimStatus.rejected
    last_year = claim_with_second_youth(db, store, first_name="Olli", last_name="Nieminen")
    f.filled_claim(db, store)  # a draft
    now = utcnow()
    later.submitted_at = now - timedelta(minutes=1)
    earlier.submitted_at = now - timedelta(minutes=5)
    decided.submitted_at = now
    a_year_ago = datetime(now.astimezone(HELSINKI).year - 1, 6, 15, 12, tzinfo=HELSINKI)
    last_year.created_at = last_year.submitted_at = a_year_ago
    db.flush()
    login(client, "staff-handler", staff=True)

    _header, rows = sheet_rows(client.get(f"{BASE}/claims/annual/reporting.xlsx"))
    assert [(r["Järjestys"], r["Nuoren nimi"]) for r in rows] == [
        (1, "Eino Laine"),
        (2, "Aino Virtanen"),
        (3, "Iida Koski"),
    ]
    _header, rows = sheet_rows(client.get(f"{BASE}/claims/annual-previous/talpa.xlsx"))
    assert [r["Nuoren nimi"] for r in rows] == ["Olli Nieminen"]
    assert rows[0]["Saatu pvm"] == a_year_ago.strftime("%d/%m/%Y")
    # Yearly exports mark nothing: the unhandled one still has the undecided claims.
    assert db.exec(select(Claim).where(col(Claim.exported_at).is_not(None))).all() == []


def test_annual_without_sent_claims_says_none_were_found(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.filled_claim(db, store)  # only a draft
    login(client, "staff-handler", staff=True)
    answer = client.get(f"{BASE}/claims/annual/talpa.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert finnish("No applications were found.") in answer.text
    assert client.get(f"{BASE}/claims/monthly/talpa.xlsx").status_code == 404
    assert client.get(f"{BASE}/claims/annual/everything.xlsx").status_code == 404


def test_text_that_a_spreadsheet_would_run_is_written_as_text(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    claim = f.submitted_claim(db, store)
    claim.job_description = '=HYPERLINK("http://evil.example","Avaa")'
    claim.contact_email = "@evil"
    db.flush()
    login(client, "staff-handler", staff=True)
    answer = client.get(f"{BASE}/claims/annual/reporting.xlsx")
    _header, (row,) = sheet_rows(answer)
    assert row["Työtehtävät"] == '\'=HYPERLINK("http://evil.example","Avaa")'
    assert row["Yhdyshenkilön sähköposti"] == "'@evil"
    sheet = load_workbook(io.BytesIO(answer.content))["Setelit"]
    assert all(cell.data_type != "f" for cells in sheet.iter_rows() for cell in cells)


def test_every_export_is_audited_with_kind_layout_and_row_count(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.submitted_claim(db, store)
    login(client, "staff-handler", staff=True)
    sheet_rows(client.get(f"{BASE}/claims/annual/reporting.xlsx"))
    sheet_rows(unhandled(client, "talpa"))
    assert unhandled(client).status_code == 200  # nothing new: audited all the same
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "summer_voucher_claim.export")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [e.detail for e in events] == [
        "kind=annual columns=reporting rows=1",
        "kind=unhandled columns=talpa rows=1",
        "kind=unhandled columns=reporting rows=0",
    ]
    assert all(e.actor_kind == "staff" and e.actor_id for e in events)
    assert "hetu" in (events[0].fields or "").split(",")
    assert "iban" in (events[1].fields or "").split(",")
    assert "hetu" not in (events[1].fields or "").split(",")


@contextmanager
def counted_queries(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = db.get_bind()

    def count(*args: Any) -> None:
        statement = str(args[2])
        if not statement.startswith(("SAVEPOINT", "RELEASE")):  # the test's own transactions
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.submitted_claim(db, store)
    login(client, "staff-handler", staff=True)
    with counted_queries(db) as one_row:
        sheet_rows(client.get(f"{BASE}/claims/annual/talpa.xlsx"))
    for name in ("Eino", "Iida", "Olli"):
        claim_with_second_youth(db, store, first_name=name, last_name="Laine")
    db.flush()
    with counted_queries(db) as four_rows:
        _header, rows = sheet_rows(client.get(f"{BASE}/claims/annual/talpa.xlsx"))
    assert len(rows) == 4
    assert len(four_rows) == len(one_row)


def test_the_exports_page_lists_every_download(client: TestClient) -> None:
    login(client, "staff-handler", staff=True)
    page = client.get(BASE)
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert "<script>" not in html
    assert "style=" not in html
    year = utcnow().astimezone(HELSINKI).year
    for kind in ("annual", "annual-previous"):
        for columns in ("reporting", "talpa"):
            assert f'href="{BASE}/claims/{kind}/{columns}.xlsx"' in html
    for columns in ("reporting", "talpa"):
        assert f'action="{BASE}/claims/unhandled/{columns}.xlsx"' in html
    assert html.count('name="csrf_token"') >= 2
    assert f'href="{BASE}/youth-{year}.xlsx"' in html


@pytest.mark.parametrize("who", ["staff-payer", "employer-one"])
def test_only_handlers_may_export(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration, who: str
) -> None:
    claim = f.submitted_claim(db, store)
    login(client, who, staff=who.startswith("staff"))
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/claims/annual/talpa.xlsx").status_code == 403
    assert unhandled(client).status_code == 403
    db.refresh(claim)
    assert claim.exported_at is None


def test_anonymous_is_sent_to_the_staff_login(client: TestClient) -> None:
    answer = client.get(f"{BASE}/claims/annual/talpa.xlsx", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")
