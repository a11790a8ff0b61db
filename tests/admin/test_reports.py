"""Reports and statistics (issue #7 §6) over HTTP: the Helsinki-lisä "handled in a date range"
Excel file (one row per payment period, Finnish headers, kyllä/ei, payments, audit), its date
filter, empty result and bad input; the statistics page with small cells suppressed; who may
use them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from babel.dates import format_date
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from app import i18n
from app.audit import AuditEvent
from app.auth.models import User
from app.crypto import blind_index
from app.documents.storage import FileStore
from app.payments.models import ItemStatus, PaymentItem, Programme
from app.reports import handled
from app.reports.statistics import Cell, Hidden, suppress
from app.subsidies import handling
from app.subsidies.models import Application
from app.subsidies.staff_schemas import CalculationIn, CancelIn, DecisionIn
from app.summer_voucher.models import TargetGroup, YearConfiguration, YouthStatus
from app.summer_voucher.schemas import TARGET_GROUP_NAMES
from tests.admin import subsidy_factories as f
from tests.conftest import login
from tests.summer_voucher import factories as svf

REPORTS = "/admin/reports"
HANDLED = "/admin/reports/subsidies/handled.xlsx"
STATISTICS = "/admin/statistics"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HELSINKI = handled.HELSINKI

# The file's columns, as the city's reports read them (helsinkilisa.md §4.4, H68).
EXPECTED_HEADERS = [
    "Hakemusnumero",
    "Tila",
    "Hakemuksen alkuperä",
    "Tukimuoto",
    "Työnantajan nimi",
    "Y-tunnus",
    "Yhdistys",
    "Saanut de minimis -tukea",
    "Myönnetty de minimis -tukena",
    "Työntekijän nimi",
    "Asuu Helsingissä",
    "Palkka",
    "Sivukulut",
    "Lomaraha",
    "Palkka (laskelma)",
    "Sivukulut (laskelma)",
    "Lomaraha (laskelma)",
    "Palkkatuki",
    "Palkkatuki %",
    "Oppisopimus",
    "Valtiotukimaksimi %",
    "Haettu alkupäivä",
    "Haettu loppupäivä",
    "Jakso",
    "Jakson alku",
    "Jakson loppu",
    "Kuukausia",
    "Tuki kuukaudessa",
    "Jakson summa",
    "Käsin syötetty tuki kuukaudessa",
    "Käsin syötön perustelu",
    "Myönnetty yhteensä",
    "Vastaanotettu",
    "Käsittelijä",
    "Päättäjä",
    "Käsittelypäivä",
    "Päätöspäivä",
    "Päätöksen perustelu",
    "Peruutuksen syy",
    "Maksettu yhteensä",
    "Maksettu",
]


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def translated(message: str, language: str) -> str:
    with i18n.language(language):
        return i18n.gettext(message)


def today() -> date:
    return datetime.now(HELSINKI).date()


# --- Applications in the states the report reads ----------------------------------------------------


def two_periods(db: Session, store: FileStore) -> Application:
    """In handling by the logged-in handler, calculated in two periods (pay subsidy 70 % then
    50 %): 2 × 800 € + 2 × 800 € = 3 200 €."""
    application = f.in_handling(db, store)
    handling.calculate(
        db,
        application=application,
        data=CalculationIn(
            start_date=date(2023, 9, 1),
            end_date=date(2023, 12, 31),
            monthly_pay=Decimal("2500"),
            other_expenses=Decimal("200"),
            state_aid_max_percentage=100,
            pay_subsidies=[
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70},  # type: ignore[list-item]
                {"start_date": "2023-11-01", "end_date": "2023-12-31", "pay_subsidy_percent": 50},  # type: ignore[list-item]
            ],
        ),
        actor=f.staff(db),
    )
    db.commit()
    return application


def decided(db: Session, application: Application, data: DecisionIn) -> Application:
    """Decided by the demo decider."""
    handling.decide(
        db,
        application=application,
        data=data,
        actor=f.staff(db, "staff-decider"),
        base_url="http://testserver",
    )
    db.commit()
    return application


def accepted(db: Session, store: FileStore) -> Application:
    data = DecisionIn(decision="accepted", granted_as_de_minimis_aid=False)
    return decided(db, two_periods(db, store), data)


def rejected(db: Session, store: FileStore) -> Application:
    data = DecisionIn(decision="rejected", reason="Työsuhde ei täytä ehtoja.")
    return decided(db, f.in_handling(db, store), data)


def cancelled(db: Session, store: FileStore) -> Application:
    application = f.sent(db, store)
    handling.cancel(
        db, application=application, data=CancelIn(reason="Hakija perui."), actor=f.staff(db)
    )
    db.commit()
    return application


def paid(db: Session, application: Application, on: date) -> None:
    """The decision's first instalment paid on `on` (the item the payments service made, or
    one made here when no listener runs)."""
    item = db.exec(
        select(PaymentItem).where(
            PaymentItem.subsidy_application_id == application.id, PaymentItem.instalment == 1
        )
    ).first()
    if item is None:
        item = PaymentItem(
            programme=Programme.helsinki_lisa,
            subsidy_application_id=application.id,
            application_number=str(application.application_number),
            amount_cents=320000,
            decision_date=on,
            due_date=on,
            payee_name="Kahvila Esimerkki Oy",
            iban="FI2112345600000785",
        )
    item.status = ItemStatus.paid
    item.paid_on = on
    db.add(item)
    db.commit()


def decided_at(db: Session, application: Application, moment: datetime) -> None:
    application.decided_at = moment
    db.add(application)
    db.commit()


def download(client: TestClient, start: str, end: str, **headers: str) -> httpx.Response:
    response: httpx.Response = client.get(
        HANDLED, params={"start": start, "end": end}, headers=headers
    )
    return response


def sheet(response: httpx.Response) -> tuple[list[str], list[dict[str, Any]], Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Hakemukset"]
    ws = workbook["Hakemukset"]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(v) for v in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]], ws


def audit_rows(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )


# --- The handled applications' file -----------------------------------------------------------------


def test_handled_file_has_a_row_per_period_and_one_for_an_application_without_periods(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    multi = accepted(db, store)
    no = rejected(db, store)
    gone = cancelled(db, store)
    f.in_handling(db, store)  # not handled: not in the file
    paid(db, multi, date(2024, 1, 15))
    handler_name = db.exec(select(User.name).where(User.id == multi.handler_id)).one()
    day = today().isoformat()

    answer = download(client, day, day)
    header, rows, ws = sheet(answer)
    assert header == EXPECTED_HEADERS
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="helsinki-lisa-kasitellyt_{day}_{day}.xlsx"'
    )
    by_number: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_number.setdefault(row["Hakemusnumero"], []).append(row)
    assert set(by_number) == {
        multi.application_number,
        no.application_number,
        gone.application_number,
    }

    first, second = by_number[multi.application_number or 0]
    assert first["Tila"] == "Hyväksytty"
    assert first["Hakemuksen alkuperä"] == "Hakija (sähköinen)"
    assert first["Tukimuoto"] == "Palkan Helsinki-lisä"
    assert first["Työnantajan nimi"] == "Kahvila Esimerkki Oy"
    assert first["Y-tunnus"] == "2956285-9"
    assert first["Yhdistys"] == "ei"
    assert first["Saanut de minimis -tukea"] == "ei"
    assert first["Myönnetty de minimis -tukena"] == "ei"
    assert first["Työntekijän nimi"] == "Aino Virtanen"  # decrypted
    assert first["Asuu Helsingissä"] == "kyllä"
    assert first["Palkka"] == 2500
    assert first["Sivukulut"] == 500
    assert first["Palkka (laskelma)"] == 2500
    assert first["Sivukulut (laskelma)"] == 200
    assert first["Palkkatuki"] == "ei"
    assert first["Palkkatuki %"] is None
    assert first["Oppisopimus"] == "ei"
    assert first["Valtiotukimaksimi %"] == 100
    assert (first["Jakso"], second["Jakso"]) == ("1/2", "2/2")
    assert first["Jakson alku"].date() == date(2023, 9, 1)
    assert first["Jakson loppu"].date() == date(2023, 10, 31)
    assert second["Jakson alku"].date() == date(2023, 11, 1)
    assert second["Jakson loppu"].date() == date(2023, 12, 31)
    for period in (first, second):
        assert period["Kuukausia"] == 2
        assert period["Tuki kuukaudessa"] == 800
        assert period["Jakson summa"] == 1600
        assert period["Myönnetty yhteensä"] == 3200
        assert period["Käsittelijä"] == handler_name
        assert period["Päättäjä"] == "staff-decider"
        assert period["Käsittelypäivä"].date() == today()
        assert period["Päätöspäivä"] == period["Käsittelypäivä"]
        assert period["Maksettu yhteensä"] == 3200
        assert period["Maksettu"] == "15.1.2024"

    (reject_row,) = by_number[no.application_number or 0]
    assert reject_row["Tila"] == "Hylätty"
    assert reject_row["Jakso"] is None
    assert reject_row["Jakson alku"] is None
    assert reject_row["Jakson summa"] is None
    assert reject_row["Myönnetty yhteensä"] is None
    assert reject_row["Myönnetty de minimis -tukena"] == "ei valintaa"
    assert reject_row["Päätöksen perustelu"] == "Työsuhde ei täytä ehtoja."
    assert reject_row["Maksettu"] is None

    (cancel_row,) = by_number[gone.application_number or 0]
    assert cancel_row["Tila"] == "Peruttu"
    assert cancel_row["Peruutuksen syy"] == "Hakija perui."
    assert cancel_row["Päätöspäivä"] is None
    assert cancel_row["Käsittelypäivä"].date() == today()

    # Money is a number with a euro format, dates are dates.
    columns = {title: index for index, title in enumerate(header, start=1)}
    amount_cell = ws.cell(row=2, column=columns["Jakson summa"])
    assert isinstance(amount_cell.value, int | float)
    assert "€" in amount_cell.number_format
    assert ws.cell(row=2, column=columns["Jakson alku"]).number_format == "d.m.yyyy"

    (event,) = audit_rows(db, "subsidy_application.export.handled")
    assert event.actor_kind == "staff"
    assert event.detail == f"from={day} to={day} applications=3 rows=4"
    assert "employee_last_name" in (event.fields or "")
    assert "Virtanen" not in (event.detail or "") + (event.fields or "")


def test_the_range_is_of_helsinki_days_both_included(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    early = rejected(db, store)
    late = rejected(db, store)
    # 1.4.2026 00:30 and 3.4.2026 00:30 in Helsinki (summer time, UTC+3): the evening before in UTC.
    decided_at(db, early, datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    decided_at(db, late, datetime(2026, 4, 2, 21, 30, tzinfo=UTC))

    def numbers(start: str, end: str) -> set[int]:
        return {r["Hakemusnumero"] for r in sheet(download(client, start, end))[1]}

    assert numbers("2026-04-01", "2026-04-01") == {early.application_number}
    assert numbers("1.4.2026", "3.4.2026") == {early.application_number, late.application_number}
    assert numbers("2026-04-03", "2026-04-30") == {late.application_number}
    nothing = download(client, "2026-03-31", "2026-03-31")
    assert nothing.status_code == 200
    assert nothing.headers["content-type"].startswith("text/html")


def test_an_empty_range_shows_a_message_instead_of_a_file(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    rejected(db, store)
    for language in ("fi", "sv", "en"):
        answer = download(client, "2020-01-01", "2020-12-31", **{"Accept-Language": language})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert translated(handled.EMPTY, language) in answer.text
        assert 'value="2020-01-01"' in answer.text  # the chosen range stays in the form
    assert "Ei löytynyt ehdot täyttäviä hakemuksia" in translated(handled.EMPTY, "fi")
    events = audit_rows(db, "subsidy_application.export.handled")
    assert len(events) == 3
    assert events[0].detail == "from=2020-01-01 to=2020-12-31 applications=0 rows=0"
    assert events[0].fields is None


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "eilen", "end": "2026-01-31"}, "start", "Enter a date, for example 24.11.2026."),
        (
            {"start": "31.2.2026", "end": "2026-03-31"},
            "start",
            "Enter a date, for example 24.11.2026.",
        ),
        ({"end": "2026-01-31"}, "start", "Fill in this field."),
        (
            {"start": "2026-02-01", "end": "2026-01-31"},
            "end",
            "Enter an end date that is on or after the start date.",
        ),
        (
            {"start": "1999-12-31", "end": "2026-01-31"},
            "start",
            "Enter a date between 1.1.2000 and 31.12.2100.",
        ),
        (
            {"start": "2026-01-01", "end": "9999-12-31"},
            "end",
            "Enter a date between 1.1.2000 and 31.12.2100.",
        ),
    ],
)
def test_bad_dates_answer_400_with_the_page_and_a_localised_message(
    client: TestClient, db: Session, params: dict[str, str], field: str, message: str
) -> None:
    f.staff_login(client, "staff-handler")
    for language in ("fi", "sv", "en"):
        answer = client.get(HANDLED, params=params, headers={"Accept-Language": language})
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("text/html")
        text = translated(message, language)
        assert text in answer.text
        if language != "en":
            assert text != message  # translated, not the English message id
        assert f'id="f-{field}" name="{field}"' in answer.text
        assert 'aria-invalid="true"' in answer.text
        for value in params.values():
            assert f'value="{value}"' in answer.text  # what was typed comes back
    assert not audit_rows(db, "subsidy_application.export.handled")


# --- The reports page and who may use it --------------------------------------------------------------


@pytest.mark.parametrize("sub", ["staff-handler", "staff-decider", "staff-payer", "staff-admin"])
def test_report_roles_get_the_pages_and_the_home_links(
    client: TestClient, db: Session, sub: str
) -> None:
    f.staff_login(client, sub)
    home = client.get("/admin", headers=f.EN)
    assert f'href="{REPORTS}"' in home.text
    assert f'href="{STATISTICS}"' in home.text
    page = client.get(REPORTS, headers=f.EN)
    assert page.status_code == 200
    assert f'action="{HANDLED}"' in page.text
    assert f'href="{STATISTICS}"' in page.text
    # The Kesäseteli annual claims come from its own exports, which handlers and admins use.
    claim_links = "/admin/summer-voucher/exports/claims/annual/reporting.xlsx" in page.text
    assert claim_links is (sub in ("staff-handler", "staff-admin"))
    assert client.get(STATISTICS).status_code == 200
    day = today().isoformat()
    assert download(client, day, day).status_code == 200  # nothing handled: the page


@pytest.mark.parametrize("url", [REPORTS, STATISTICS, f"{HANDLED}?start=2026-01-01&end=2026-01-31"])
def test_other_users_are_kept_out(client: TestClient, db: Session, url: str) -> None:
    anonymous = client.get(url, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/admin/login")
    f.staff_login(client, "staff-tet")
    assert client.get(url).status_code == 403
    client.cookies.clear()
    login(client, "employer-one")
    assert client.get(url).status_code == 403
    assert not audit_rows(db, "subsidy_application.export.handled")
    assert not audit_rows(db, "statistics.read")


def test_the_claims_annual_export_linked_from_the_reports_page_downloads(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    svf.submitted_claim(db, store)
    f.staff_login(client, "staff-handler")
    page = client.get(REPORTS)
    link = "/admin/summer-voucher/exports/claims/annual/reporting.xlsx"
    assert f'href="{link}"' in page.text
    answer = client.get(link)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the claim


# --- Statistics ------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """The page's tables by id: rows of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or "summary"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, dict[str, list[str]]]:
    """Table id -> the row's first cell -> the other cells."""
    parser = _Tables()
    parser.feed(html)
    return {name: {row[0]: row[1:] for row in rows if row} for name, rows in parser.tables.items()}


def group_name(group: TargetGroup) -> str:
    return translated(TARGET_GROUP_NAMES[group], "en")


def youth(
    db: Session, group: TargetGroup, n: int, status: YouthStatus = YouthStatus.accepted
) -> None:
    for _ in range(n):
        application, _voucher = svf.accepted_youth(db, status=status)
        application.target_group = group
        db.add(application)
    db.commit()


def test_statistics_hide_figures_about_fewer_than_five_persons(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    year = svf.this_year()
    youth(db, TargetGroup.hki_15, 4)
    youth(db, TargetGroup.secondary, 1)
    youth(db, TargetGroup.primary, 5)
    f.staff_login(client, "staff-payer")
    answer = client.get(STATISTICS, params={"year": year}, headers=f.EN)
    assert answer.status_code == 200
    found = tables(answer.text)

    groups = found["target-group"]
    # Youth applications; vouchers and their value (350 € each); employer claims and sum.
    assert groups[group_name(TargetGroup.hki_15)] == ["< 5", "< 5", "hidden", "0", "–"]
    assert groups[group_name(TargetGroup.secondary)] == ["< 5", "< 5", "hidden", "0", "–"]
    assert groups[group_name(TargetGroup.primary)] == ["5", "5", "1 750,00 €", "0", "–"]
    assert groups[group_name(TargetGroup.hki_18)] == ["0", "0", "–", "0", "–"]
    assert groups["Total"] == ["10", "10", "3 500,00 €", "0", "–"]
    assert found["youth-status"]["Accepted"] == ["10"]
    assert found["summary"]["Summer job voucher: vouchers"] == ["10", "3 500,00 €"]
    assert "&lt; 5" in answer.text

    (event,) = audit_rows(db, "statistics.read")
    assert event.detail == f"year={year}"
    assert event.fields is None
    assert event.actor_roles == "payer"


def test_a_figure_next_to_a_small_one_is_hidden_too(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    """4 and 6 with the total 10: 6 is hidden, or 10 - 6 would give the small figure."""
    youth(db, TargetGroup.hki_15, 4)
    youth(db, TargetGroup.primary, 6)
    f.staff_login(client, "staff-handler")
    groups = tables(client.get(STATISTICS, headers=f.EN).text)["target-group"]
    assert groups[group_name(TargetGroup.hki_15)][0] == "< 5"
    assert groups[group_name(TargetGroup.primary)][0] == "hidden"
    assert groups["Total"][0] == "10"


def test_statistics_count_persons_not_applications(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    """Five applications of one youth (four rejected, then one accepted) are one person."""
    year = svf.this_year()
    for status in [YouthStatus.rejected] * 4 + [YouthStatus.accepted]:
        application, _voucher = svf.accepted_youth(db, status=status)
        application.hetu_index = blind_index("010110A123B", purpose="hetu")
        application.target_group = TargetGroup.hki_18
        db.add(application)
    db.commit()
    f.staff_login(client, "staff-handler")
    found = tables(client.get(STATISTICS, params={"year": year}, headers=f.EN).text)
    assert found["target-group"][group_name(TargetGroup.hki_18)][0] == "< 5"
    assert found["target-group"]["Total"][0] == "< 5"
    assert found["summary"]["Summer job voucher: youth applications"] == ["< 5", "–"]


def test_statistics_of_helsinki_benefit_decisions(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    accepted(db, store)
    f.staff_login(client, "staff-decider")
    found = tables(client.get(STATISTICS, headers=f.EN).text)
    assert found["subsidy-status"]["Accepted"] == ["< 5", "hidden"]
    assert found["subsidy-status"]["Total"] == ["< 5", "hidden"]
    month = format_date(today(), "LLLL", locale="en_FI").capitalize()
    assert found["month"][month][1:3] == ["< 5", "hidden"]  # decisions and the granted sum


def test_statistics_of_employer_claims(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    svf.submitted_claim(db, store)
    db.commit()
    f.staff_login(client, "staff-handler")
    found = tables(client.get(STATISTICS, headers=f.EN).text)
    assert found["claim-status"]["Submitted"] == ["< 5", "hidden"]
    assert found["claim-status"]["Approved"] == ["0", "–"]
    assert found["claim-status"]["Total"] == ["< 5", "hidden"]
    # The claim's youth is of the primary target group: one youth, one voucher, one claim.
    primary = found["target-group"][group_name(TargetGroup.primary)]
    assert primary == ["< 5", "< 5", "hidden", "< 5", "hidden"]
    month = format_date(today(), "LLLL", locale="en_FI").capitalize()
    assert found["month"][month][4] == "< 5"  # claims sent this month
    assert found["summary"]["Summer job voucher: employer claims"] == ["< 5", "hidden"]


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("kaksituhatta", "Enter a whole number."),
        ("1999", "Enter a year between 2000 and 2100."),
    ],
)
def test_a_bad_year_answers_400_with_a_localised_message(
    client: TestClient, db: Session, year: str, message: str
) -> None:
    f.staff_login(client, "staff-admin")
    for language in ("fi", "sv", "en"):
        answer = client.get(
            STATISTICS, params={"year": year}, headers={"Accept-Language": language}
        )
        assert answer.status_code == 400
        assert translated(message, language) in answer.text
        assert f'value="{year}"' in answer.text
    assert not audit_rows(db, "statistics.read")


# --- Suppression, rule by rule -----------------------------------------------------------------------------


def test_suppression_rules() -> None:
    # 4 persons: "< 5" and no sum; 5 persons: shown.
    figures, total = suppress(
        {"a": Cell(4, 4, Decimal("400")), "b": Cell(1, 1), "c": Cell(5, 5, Decimal("500"))},
        Cell(10, 10, Decimal("900")),
    )
    assert figures["a"].hidden is Hidden.small
    assert figures["a"].count is None
    assert figures["a"].amount is None
    assert figures["c"].count == 5
    assert figures["c"].amount == Decimal("500")
    # Two small figures cover five persons together: nothing more is hidden, but the total sum
    # minus the shown sum would give the small figure's sum.
    assert total.count == 10
    assert total.amount_hidden is True

    # One small figure: the smallest other one is hidden too; zeros stay.
    figures, total = suppress(
        {"a": Cell(3, 3), "b": Cell(0, 0), "c": Cell(8, 8), "d": Cell(6, 6)}, Cell(17, 17)
    )
    assert [figures[k].hidden for k in "abcd"] == [
        Hidden.small,
        Hidden.shown,
        Hidden.shown,
        Hidden.derived,
    ]
    assert figures["b"].count == 0
    assert total.count == 17

    # More are hidden until the hidden ones cover five persons.
    figures, _total = suppress({"a": Cell(1, 1), "b": Cell(2, 2), "c": Cell(9, 9)}, Cell(12, 12))
    assert all(f.hidden is not Hidden.shown for f in figures.values())

    # A small total is "< 5"; counted applications of fewer persons are small too.
    _figures, total = suppress({"a": Cell(6, 4)}, Cell(6, 4))
    assert total.hidden is Hidden.small
    assert total.count is None

    # Nothing small: everything shown.
    figures, total = suppress({"a": Cell(5, 5), "b": Cell(0, 0)}, Cell(5, 5, Decimal("1")))
    assert figures["a"].count == 5
    assert total.amount == Decimal("1")
    assert not total.amount_hidden
