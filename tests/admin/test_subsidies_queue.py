"""The Helsinki-lisä staff queue: tabs with counts, search by application number, company name,
business id, employee name and exact HETU (blind index), key paging, sorting, masked HETU,
unread counts, and the audit of what the lists show (issue #5 §5, H28, H66)."""

from __future__ import annotations

import html
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.documents.storage import FileStore
from app.subsidies import handling, messages
from app.subsidies.models import MessageKind
from app.subsidies.staff_schemas import CancelIn
from app.types import mask_hetu
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def test_anonymous_go_to_the_staff_login_and_payers_and_employers_are_refused(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.sent(db, store)
    answer = client.get(f.BASE, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")
    f.staff_login(client, "staff-payer")
    assert client.get(f.BASE).status_code == 403
    assert client.get(f"{f.BASE}/{application.id}").status_code == 403
    client.cookies.clear()
    sf.employer_client(client, db)
    assert client.get(f"{f.BASE}/{application.id}").status_code == 403


def test_the_back_office_home_links_to_the_queue(client: TestClient) -> None:
    f.staff_login(client, "staff-decider")
    home = client.get("/admin", headers=f.EN)
    assert f'href="{f.BASE}"' in home.text
    assert "Helsinki benefit applications" in home.text


def test_tabs_count_and_list_their_statuses(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    received = f.sent(db, store)
    handled = f.in_handling(db, store, employee={"employee_hetu": sf.hetu("020290", 222)})
    cancelled = f.sent(db, store, employee={"employee_hetu": sf.hetu("030390", 333)})
    handling.cancel(
        db, application=cancelled, data=CancelIn(reason="Tuplahakemus"), actor=f.staff(db)
    )
    db.commit()
    counts = handling.tab_counts(db)
    page = client.get(f.BASE, headers=f.EN)
    assert page.status_code == 200
    assert f"Received ({counts['received']})" in page.text
    assert f"In handling ({counts['handling']})" in page.text
    assert f"Cancelled ({counts['cancelled']})" in page.text
    assert received.id in f.linked_ids(page.text)
    assert handled.id not in f.linked_ids(page.text)
    tab = client.get(f.BASE, params={"tab": "handling"}, headers=f.EN)
    assert handled.id in f.linked_ids(tab.text)
    assert received.id not in f.linked_ids(tab.text)
    assert cancelled.id in f.linked_ids(client.get(f.BASE, params={"tab": "cancelled"}).text)


def test_counts_are_capped(db: Session, store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(3):
        f.sent(db, store, employee={"employee_hetu": sf.hetu("010190", 400 + index)})
    before = handling.tab_counts(db)["received"]
    assert before.value >= 3
    assert not before.capped
    monkeypatch.setattr(handling, "COUNT_CAP", 2)
    capped = handling.tab_counts(db)["received"]
    assert capped.capped
    assert str(capped) == "2+"


def test_the_list_shows_masked_hetu_names_and_unread_messages(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    code = sf.hetu("150585", 271)
    actor = sf.employer_actor(db)
    application = f.sent(db, store, actor=actor, employee={"employee_hetu": code})
    messages.post(
        db,
        application=application,
        actor=actor,
        kind=MessageKind.applicant_message,
        content="Onko hakemus käsittelyssä?",
    )
    db.commit()
    page = client.get(f.BASE, params={"q": str(application.application_number)}, headers=f.EN)
    assert mask_hetu(code) in page.text
    assert code not in page.text
    assert "Aino Virtanen" in page.text
    assert "<strong>1</strong>" in page.text
    rows = f.audit_rows(db, "subsidy_application.list")
    assert rows
    assert rows[-1].fields
    assert "employee_hetu" in rows[-1].fields
    assert rows[-1].detail
    assert "search=number" in rows[-1].detail
    assert code not in (rows[-1].detail or "")
    # Opening the application marks the applicant's message seen.
    client.get(f"{f.BASE}/{application.id}")
    page = client.get(f.BASE, params={"q": str(application.application_number)}, headers=f.EN)
    assert "<strong>1</strong>" not in page.text


@pytest.mark.parametrize(
    "query",
    [
        "number",
        "company",
        "company_part",
        "business_id",
        "full_name",
        "reversed_name",
        "last_name",
        "hetu",
        "hetu_lower",
    ],
)
def test_search_finds_the_application(
    client: TestClient, db: Session, store: FileStore, query: str
) -> None:
    f.staff_login(client)
    code = sf.hetu("240386", 555)
    target = f.sent(
        db,
        store,
        employee={
            "employee_first_name": "Iida-Maria",
            "employee_last_name": "Kärkkäinen",
            "employee_hetu": code,
        },
    )
    sf.company(db, sf.OTHER_COMPANY, "Rakennus Demo Oy")
    other = f.sent(
        db,
        store,
        actor=sf.employer_actor(db, subject="other-employer", business_id=sf.OTHER_COMPANY),
        employee={"employee_hetu": sf.hetu("240386", 556)},
    )
    text = {
        "number": str(target.application_number),
        "company": "kahvila esimerkki oy",
        "company_part": "ESIMERK",
        "business_id": "2956285-9",
        "full_name": "  iida-maria   KÄRKKÄINEN ",
        "reversed_name": "Kärkkäinen Iida-Maria",
        "last_name": "kärkkäinen",
        "hetu": code,
        "hetu_lower": code.lower(),
    }[query]
    page = client.get(f.BASE, params={"q": text}, headers=f.EN)
    assert page.status_code == 200
    found = f.linked_ids(page.text)
    assert target.id in found
    assert other.id not in found


def test_a_search_for_what_does_not_exist_finds_nothing(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    f.sent(db, store)
    for text in ("Virtane", "%", "_", sf.hetu("010101", 900 - 1), "9999999-9"):
        page = client.get(f.BASE, params={"q": text, "tab": "all"}, headers=f.EN)
        assert page.status_code == 200
        assert f.linked_ids(page.text) == [], text


def test_key_paging_and_sorting_walk_every_row_once(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    made = [
        f.sent(db, store, employee={"employee_hetu": sf.hetu("010190", 600 + i)}).id or 0
        for i in range(5)
    ]
    for sort in ("received", "-received", "number", "-number", "company", "status"):
        seen: list[int] = []
        params: dict[str, str] = {"tab": "received", "sort": sort, "limit": "2"}
        for _ in range(20):
            page = client.get(f.BASE, params=params)
            assert page.status_code == 200
            seen += f.linked_ids(page.text)
            nxt = [
                p
                for p in page.text.split('href="')
                if p.startswith("/admin/subsidies?") and "after=" in p
            ]
            if not nxt:
                break
            url = html.unescape(nxt[0].split('"')[0])
            params = dict(parse_qsl(url.split("?", 1)[1]))
        assert len(seen) == len(set(seen)), sort
        assert set(made) <= set(seen), sort
    numbers = client.get(f.BASE, params={"tab": "received", "sort": "-number"})
    ids = [i for i in f.linked_ids(numbers.text) if i in made]
    assert ids == sorted(made, reverse=True)


def test_a_broken_cursor_is_refused(client: TestClient) -> None:
    f.staff_login(client)
    assert client.get(f.BASE, params={"after": "x"}).status_code == 400
    assert client.get(f.BASE, params={"after": "1:notadate"}).status_code == 400
