"""The audit log viewer (issue #7 §7): each filter, paging by key, the CSV export, the viewer's
own audit rows, 400 on bad input, and admins only."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from babel.numbers import format_decimal
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import audit_search
from app.audit import AuditEvent
from tests.conftest import login

URL = "/admin/audit"
EXPORT = "/admin/audit/export.csv"


def event(
    db: Session,
    *,
    action: str,
    target_type: str,
    target_id: str,
    occurred_at: datetime,
    actor_id: str = "vt-actor",
    business_id: str | None = None,
    outcome: str = "success",
    detail: str | None = None,
) -> AuditEvent:
    row = AuditEvent(
        occurred_at=occurred_at,
        request_id=f"req-{target_id}",
        actor_kind="staff",
        actor_id=actor_id,
        actor_roles="handler",
        actor_provider="https://staff.example",
        business_id=business_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        fields="hetu,iban",
        detail=detail,
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def tag() -> str:
    """Ids unique to the test, so other rows of the shared database never match."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def events(db: Session, tag: str) -> dict[str, AuditEvent]:
    """Four events in March 2025 (Helsinki is UTC+2 then)."""
    return {
        "a": event(
            db,
            action="payment.batch_approved",
            target_type="payment_batch",
            target_id=f"a-{tag}",
            actor_id=f"vt1-{tag}",
            occurred_at=datetime(2025, 3, 9, 12, 0, tzinfo=UTC),
        ),
        "b": event(
            db,
            action="payment.item_paid",
            target_type="payment_item",
            target_id=f"b-{tag}",
            actor_id=f"vt2-{tag}",
            # 00.30 on 11.3. in Helsinki
            occurred_at=datetime(2025, 3, 10, 22, 30, tzinfo=UTC),
        ),
        "c": event(
            db,
            action="paymentx.other",  # shares "payment" but not "payment."
            target_type="payment_item",
            target_id=f"c-{tag}",
            actor_id=f"vt1-{tag}",
            business_id="2956285-9",
            outcome="denied",
            occurred_at=datetime(2025, 3, 11, 8, 0, tzinfo=UTC),
        ),
        "d": event(
            db,
            action="login.success",
            target_type="user",
            target_id=f"d-{tag}",
            actor_id=f"vt3-{tag}",
            business_id="2956285-9",
            outcome="failure",
            occurred_at=datetime(2025, 3, 12, 9, 15, tzinfo=UTC),
        ),
    }


def admin(client: TestClient) -> None:
    login(client, "staff-admin", staff=True)


def shown(page: str, events: dict[str, AuditEvent]) -> set[str]:
    """Which of the events a results page lists (by their unique target ids)."""
    return {name for name, row in events.items() if f"{row.target_type} {row.target_id}" in page}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"target_type": "payment_item"}, {"b", "c"}),
        ({"target_type": "payment_item", "target_id": "c-{tag}"}, {"c"}),
        ({"actor_id": "vt1-{tag}"}, {"a", "c"}),
        ({"business_id": "2956285-9"}, {"c", "d"}),
        ({"business_id": "2956285-9", "outcome": "failure"}, {"d"}),
        ({"action": "login.success"}, {"d"}),
        ({"action": "payment.", "match": "prefix"}, {"a", "b"}),
        ({"action": "payment.", "match": "exact"}, set()),
        ({"action": "payment", "match": "prefix"}, {"a", "b", "c"}),
        ({"outcome": "denied"}, {"c"}),
        # Helsinki days: the event at 22.30 UTC on 10.3. is on 11.3. in Helsinki.
        ({"from_date": "2025-03-11", "to_date": "2025-03-11"}, {"b", "c"}),
        ({"from_date": "10.3.2025", "to_date": "10.3.2025"}, set()),
        ({"from_date": "2025-03-11", "from_time": "01:00", "to_date": "2025-03-12"}, {"c", "d"}),
        # An end time includes its minute: 11.15 Helsinki is 9.15 UTC.
        ({"from_date": "2025-03-12", "to_date": "2025-03-12", "to_time": "11:15"}, {"d"}),
        ({"from_date": "2025-03-12", "to_date": "2025-03-12", "to_time": "11.14"}, set()),
    ],
)
def test_each_filter(
    client: TestClient,
    events: dict[str, AuditEvent],
    tag: str,
    params: dict[str, str],
    expected: set[str],
) -> None:
    admin(client)
    query = {key: value.format(tag=tag) for key, value in params.items()}
    response = client.get(URL, params=query)
    assert response.status_code == 200
    assert shown(response.text, events) == expected
    # The typed values stay in the form.
    for key, value in query.items():
        if key != "match":
            assert f'value="{value}"' in response.text


def test_the_page_shows_every_column_in_helsinki_time(
    client: TestClient, events: dict[str, AuditEvent], tag: str
) -> None:
    admin(client)
    page = client.get(URL, params={"target_id": f"b-{tag}"}).text
    row = re.search(r"<tbody[^>]*>(.*?)</tbody>", page, re.S)
    assert row is not None
    cells = [
        html.unescape(re.sub(r"<[^>]+>", " ", c)).split()
        for c in re.findall(r"<td>(.*?)</td>", row[1], re.S)
    ]
    assert cells[0] == ["11.3.2025", "00:30:00"]
    assert cells[1] == ["staff", f"vt2-{tag}", "roolit:", "handler", "https://staff.example"]
    assert cells[3] == ["payment.item_paid"]
    assert cells[4] == ["payment_item", f"b-{tag}"]
    assert cells[5] == ["Onnistui"]
    assert cells[6] == ["hetu,", "iban"]
    assert cells[8] == [f"req-b-{tag}"]
    assert "<caption" in page
    assert 'scope="col"' in page


def links(page: str) -> dict[str, str]:
    return {
        rel: html.unescape(href)
        for rel, href in re.findall(r'rel="(next|prev)" href="([^"]+)"', page)
    }


def test_paging_by_key_newest_first_with_the_filters_in_the_links(
    client: TestClient, db: Session, tag: str
) -> None:
    rows = [
        event(
            db,
            action="test.page",
            target_type="vt_page",
            target_id=f"p{n}-{tag}",
            actor_id=f"pager-{tag}",
            occurred_at=datetime(2025, 4, 1, 10, n, tzinfo=UTC),
        )
        for n in range(5)
    ]
    order = [f"vt_page p{n}-{tag}" for n in (4, 3, 2, 1, 0)]

    def listed(page: str) -> list[str]:
        return [name for name in order if name in page]

    admin(client)
    first = client.get(URL, params={"actor_id": f"pager-{tag}", "limit": "2"})
    assert listed(first.text) == order[:2]
    assert "prev" not in links(first.text)
    following = links(first.text)["next"]
    assert f"actor_id=pager-{tag}" in following
    assert "limit=2" in following
    assert f"before={rows[3].id}" in following
    assert "offset" not in following

    second = client.get(following)
    assert listed(second.text) == order[2:4]
    third = client.get(links(second.text)["next"])
    assert listed(third.text) == order[4:]
    assert "next" not in links(third.text)

    back = client.get(links(third.text)["prev"])
    assert listed(back.text) == order[2:4]
    newest = client.get(links(back.text)["prev"])
    assert listed(newest.text) == order[:2]
    assert "prev" not in links(newest.text)


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_export_holds_the_search_newest_first(
    client: TestClient, db: Session, events: dict[str, AuditEvent], tag: str
) -> None:
    formula = event(
        db,
        action="payment.formula",
        target_type="payment_item",
        target_id=f"f-{tag}",
        actor_id=f"vt1-{tag}",
        occurred_at=datetime(2025, 3, 13, 10, 0, tzinfo=UTC),
        detail='=HYPERLINK("http://evil.example")',
    )
    admin(client)
    response = client.get(EXPORT, params={"actor_id": f"vt1-{tag}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="audit-log-')
    table = read_csv(response.content)
    assert table[0][:3] == ["Tunniste", "Aika (Helsinki)", "Aika (UTC)"]
    assert len(table[0]) == 15
    body = table[1:]
    assert [row[0] for row in body] == [str(formula.id), str(events["c"].id), str(events["a"].id)]
    c_row = body[1]
    assert c_row[1:3] == ["11.3.2025 10:00:00", "2025-03-11T08:00:00+00:00"]
    assert c_row[3:] == [
        f"req-c-{tag}",
        "staff",
        f"vt1-{tag}",
        "handler",
        "https://staff.example",
        "2956285-9",
        "paymentx.other",
        "payment_item",
        f"c-{tag}",
        "denied",
        "hetu,iban",
        "",
    ]
    # A cell a spreadsheet would run as a formula is written as text.
    assert body[0][-1] == '\'=HYPERLINK("http://evil.example")'


def test_the_export_is_capped_and_the_page_says_so(
    client: TestClient, db: Session, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin(client)
    page = client.get(URL)
    cap = format_decimal(audit_search.EXPORT_MAX_ROWS, locale="fi_FI")
    assert cap in html.unescape(page.text)
    for n in range(5):
        event(
            db,
            action="test.cap",
            target_type="vt_cap",
            target_id=f"{n}-{tag}",
            occurred_at=datetime(2025, 5, 1, 10, n, tzinfo=UTC),
        )
    monkeypatch.setattr(audit_search, "EXPORT_MAX_ROWS", 3)
    monkeypatch.setattr(audit_search, "EXPORT_BATCH", 2)  # more than one batch, by key
    table = read_csv(client.get(EXPORT, params={"target_type": "vt_cap"}).content)
    assert [row[11] for row in table[1:]] == [f"{n}-{tag}" for n in (4, 3, 2)]
    row = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == audit_search.EXPORT_ACTION)
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert row is not None
    assert json.loads(row.detail or "") == {
        "filters": {"target_type": "vt_cap"},
        "format": "csv",
        "rows": 3,
        "truncated": True,
    }


def viewer_rows(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )


def test_every_search_and_export_leaves_an_audit_row_with_the_filters(
    client: TestClient, db: Session, events: dict[str, AuditEvent], tag: str
) -> None:
    admin(client)
    searches = len(viewer_rows(db, audit_search.SEARCH_ACTION))
    response = client.get(
        URL, params={"business_id": "2956285-9", "action": "payment", "match": "prefix"}
    )
    assert response.status_code == 200
    rows = viewer_rows(db, audit_search.SEARCH_ACTION)
    assert len(rows) == searches + 1
    row = rows[-1]
    assert row.request_id == response.headers["x-request-id"]
    assert row.actor_kind == "staff"
    assert row.actor_roles == "admin"
    assert row.target_type == "audit_log"
    assert row.outcome == "success"
    assert json.loads(row.detail or "") == {
        "filters": {"business_id": "2956285-9", "action": "payment", "match": "prefix"},
        "before": None,
        "after": None,
        "rows": 1,
    }
    # A search does not list its own row: it is written after the query.
    before = len(viewer_rows(db, audit_search.SEARCH_ACTION))
    page = client.get(URL, params={"action": audit_search.SEARCH_ACTION, "limit": "200"}).text
    assert page.count(f"<td>{audit_search.SEARCH_ACTION}</td>") == min(before, 200)

    exports = len(viewer_rows(db, audit_search.EXPORT_ACTION))
    client.get(EXPORT, params={"outcome": "denied", "from_date": "2025-03-11"})
    rows = viewer_rows(db, audit_search.EXPORT_ACTION)
    assert len(rows) == exports + 1
    assert json.loads(rows[-1].detail or "")["filters"] == {
        "outcome": "denied",
        "from_date": "2025-03-11",
    }
    # The viewer's rows are found by the viewer.
    page = client.get(URL, params={"action": "audit_log.", "match": "prefix", "limit": "5"})
    assert "audit_log.export" in page.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from_date": "31.2.2026"}, "from_date", "Anna päivämäärä, esimerkiksi 24.11.2026."),
        ({"to_date": "huomenna"}, "to_date", "Anna päivämäärä, esimerkiksi 24.11.2026."),
        ({"from_date": "2026-01-01", "from_time": "25:00"}, "from_time", "Anna kellonaika"),
        ({"to_time": "12:00"}, "to_date", "Anna myös päivämäärä."),
        ({"from_date": "2026-02-01", "to_date": "2026-01-31"}, "to_date", "Anna loppu"),
        ({"target_id": "131052-308T"}, "target_id", "henkilötunnuksia"),
        ({"actor_id": "maija@example.com"}, "actor_id", "henkilötunnuksia"),
        ({"target_type": "two words"}, "target_type", "Käytä vain"),
        ({"business_id": "2956285-1"}, "business_id", "Y-tunnus"),
        ({"outcome": "maybe"}, "outcome", "Valitse"),
        ({"before": "x"}, "before", "Sivun linkki"),
        ({"limit": "0"}, "limit", "vähintään 1"),
    ],
)
def test_bad_input_is_a_400_page_with_the_error_and_the_typed_value(
    client: TestClient, db: Session, params: dict[str, str], field: str, message: str
) -> None:
    admin(client)
    searches = len(viewer_rows(db, audit_search.SEARCH_ACTION))
    response = client.get(URL, params=params)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "hds-error-summary" in page
    assert message in page
    assert "<table" not in page
    if field in ("from_date", "to_date", "from_time", "to_time", "target_id", "actor_id"):
        for key, value in params.items():
            assert f'value="{value}"' in page, key
    assert len(viewer_rows(db, audit_search.SEARCH_ACTION)) == searches  # nothing searched
    export = client.get(EXPORT, params=params)
    assert export.status_code == 400
    assert "hds-error-summary" in export.text


@pytest.mark.parametrize("sub", ["staff-handler", "staff-decider", "staff-payer"])
def test_only_admins(client: TestClient, db: Session, sub: str) -> None:
    login(client, sub, staff=True)
    for path in (URL, EXPORT):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
    denied = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "access.forbidden.get", AuditEvent.target_id == EXPORT
        )
    ).all()
    assert denied


def test_anonymous_and_employers_are_kept_out(client: TestClient) -> None:
    response = client.get(URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")
    login(client, "employer-one")
    assert client.get(EXPORT, follow_redirects=False).status_code == 403


def test_the_back_office_links_to_the_viewer_for_admins_only(client: TestClient) -> None:
    admin(client)
    assert 'href="/admin/audit"' in client.get("/admin").text
    client.cookies.clear()
    login(client, "staff-handler", staff=True)
    assert 'href="/admin/audit"' not in client.get("/admin").text
