"""Staff admins keep the TET classifications (#6) through the back office, with real staff
logins: add, rename (the code and the postings stay), retire after a confirmation page (the
postings keep the value, pupils can no longer filter by it) and restore; nobody else may."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.tet import repository, service
from app.tet.models import TetClassification, TetPosting
from app.tet.schemas import SearchIn
from tests.conftest import login
from tests.tet.factories import make_posting

LIST = "/admin/tet/classifications"
EN = {"Accept-Language": "en"}


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def by_code(db: Session, code: str) -> TetClassification:
    return db.exec(select(TetClassification).where(col(TetClassification.code) == code)).one()


def audit_actions(db: Session, target_id: int | None) -> list[str]:
    events = db.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.target_type) == "tet_classification",
            col(AuditEvent.target_id) == str(target_id),
        )
        .order_by(col(AuditEvent.id))
    ).all()
    return [e.action for e in events]


def found_titles(db: Session, **query: object) -> list[str]:
    search = SearchIn.model_validate(query)
    criteria = service.criteria_for(db, search)
    page = service.search(db, criteria=criteria, query=search, today=service.today())
    return [p.title for p in page.results.items]


def names(fi: str, sv: str, en: str) -> dict[str, str]:
    return {"name_fi": fi, "name_sv": sv, "name_en": en}


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    login(client, "staff-admin", staff=True)
    return client


def test_the_list_shows_the_three_kinds_with_usage(admin: TestClient, db: Session) -> None:
    make_posting(db, title="Koodari", fields=["ict"], methods=["shadowing"], features=[])
    page = admin.get(LIST, headers=EN)
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    for heading in ("Fields of work", "What kind of TET (work methods)", "Work features"):
        assert f">{heading}</h2>" in page.text
    row = re.search(rf'<tr id="value-{by_code(db, "ict").id}">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "Tieto- ja viestintätekniikka" in row.group(0)
    assert "Informations- och kommunikationsteknik" in row.group(0)
    assert "<td>1</td>" in row.group(0)
    assert "Active" in row.group(0)
    assert '<th scope="row"' in row.group(0)


def test_swedish_calls_tet_prao(admin: TestClient) -> None:
    page = admin.get(LIST, headers={"Accept-Language": "sv"})
    assert "PRAO" in page.text
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "PRAO-klassificeringar" in main
    assert "TET" not in main


def test_admin_adds_a_value(admin: TestClient, db: Session) -> None:
    form_page = admin.get(f"{LIST}/new?kind=feature", headers=EN)
    assert form_page.status_code == 200
    assert "Add a work feature" in form_page.text
    answer = admin.post(
        f"{LIST}/new?kind=feature",
        data={**names("Yötyö", "Nattarbete", "Night work"), "csrf_token": csrf(admin)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{LIST}?done=added&value=")
    added = [c for c in repository.classifications(db) if c.name_en == "Night work"]
    assert len(added) == 1
    assert (added[0].kind, added[0].code) == ("feature", "night_work")
    assert (added[0].name_fi, added[0].name_sv) == ("Yötyö", "Nattarbete")
    assert audit_actions(db, added[0].id) == ["tet.classification_added"]
    shown = admin.get(answer.headers["location"], headers=EN)
    assert "“Night work” was added." in shown.text


def test_a_missing_name_is_refused_with_the_typed_values_kept(
    admin: TestClient, db: Session
) -> None:
    before = len(repository.classifications(db, include_retired=True))
    answer = admin.post(
        f"{LIST}/new?kind=method",
        data={**names("Verkkotyö", "", "Online work"), "csrf_token": csrf(admin)},
        headers=EN,
    )
    assert answer.status_code == 422
    assert "<title>Error: Add a kind of TET" in answer.text
    assert "Check the following:" in answer.text
    assert 'href="#f-name_sv"' in answer.text
    assert "Fill in this field." in answer.text
    assert 'value="Verkkotyö"' in answer.text
    assert 'value="Online work"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert len(repository.classifications(db, include_retired=True)) == before


def test_rename_keeps_the_code_and_the_postings(admin: TestClient, db: Session) -> None:
    posting = make_posting(db, title="Rakennustyömaa", fields=["construction"])
    row = by_code(db, "construction")
    edit = admin.get(f"{LIST}/{row.id}/edit", headers=EN)
    assert edit.status_code == 200
    assert 'value="Rakennusala"' in edit.text
    assert "construction" in edit.text
    answer = admin.post(
        f"{LIST}/{row.id}/edit",
        data={
            **names("Rakentaminen", "Byggande", "Building"),
            "code": "hacked",  # the code is not a field: ignored
            "csrf_token": csrf(admin),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    db.refresh(row)
    assert (row.code, row.name_fi, row.name_sv, row.name_en) == (
        "construction",
        "Rakentaminen",
        "Byggande",
        "Building",
    )
    assert [c.code for c in repository.classifications_of(db, [posting.id or 0])[posting.id or 0]]
    assert found_titles(db, field=["construction"]) == ["Rakennustyömaa"]
    assert audit_actions(db, row.id) == ["tet.classification_renamed"]
    assert "“Building” was renamed." in admin.get(answer.headers["location"], headers=EN).text


def test_rename_with_an_empty_name_keeps_the_old_names(admin: TestClient, db: Session) -> None:
    row = by_code(db, "culture")
    answer = admin.post(
        f"{LIST}/{row.id}/edit",
        data={**names("Taide", "Konst", "  "), "csrf_token": csrf(admin)},
        headers=EN,
    )
    assert answer.status_code == 422
    assert 'value="Taide"' in answer.text
    assert "Fill in this field." in answer.text
    db.refresh(row)
    assert row.name_en == "Culture and arts"
    assert audit_actions(db, row.id) == []


def test_retire_asks_first_then_keeps_the_postings_and_ends_the_filter(
    admin: TestClient, db: Session
) -> None:
    posting = make_posting(db, title="Eläinhoitola", features=["animals"])
    row = by_code(db, "animals")
    confirm = admin.get(f"{LIST}/{row.id}/retire", headers=EN)
    assert confirm.status_code == 200
    assert "Retire “With animals”?" in confirm.text
    assert "1 posting has this value." in confirm.text
    assert "Pupils can no longer filter the search by it." in confirm.text
    db.refresh(row)
    assert row.retired_at is None  # the confirmation page changes nothing

    answer = admin.post(
        f"{LIST}/{row.id}/retire", data={"csrf_token": csrf(admin)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert "animals" not in {c.code for c in repository.classifications(db)}
    kept = repository.classifications_of(db, [posting.id or 0])[posting.id or 0]
    assert "animals" in {c.code for c in kept}
    with pytest.raises(service.UnknownFilter):
        service.criteria_for(db, SearchIn(feature=["animals"]))
    listed = admin.get(answer.headers["location"], headers=EN).text
    assert "“With animals” was retired." in listed
    assert "Restore<span" in listed

    restored = admin.post(
        f"{LIST}/{row.id}/restore", data={"csrf_token": csrf(admin)}, follow_redirects=False
    )
    assert restored.status_code == 303
    assert "animals" in {c.code for c in repository.classifications(db)}
    assert found_titles(db, feature=["animals"]) == ["Eläinhoitola"]
    assert audit_actions(db, row.id) == [
        "tet.classification_retired",
        "tet.classification_restored",
    ]


def test_unknown_kind_and_value_answer_404(admin: TestClient) -> None:
    assert admin.get(f"{LIST}/new?kind=colour").status_code == 404
    assert admin.get(f"{LIST}/new").status_code == 404
    assert admin.get(f"{LIST}/999999/edit").status_code == 404
    token = csrf(admin)
    assert admin.post(f"{LIST}/999999/retire", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("sub", ["staff-handler", "staff-tet"])
def test_other_staff_roles_are_refused(client: TestClient, db: Session, sub: str) -> None:
    login(client, sub, staff=True)
    row = by_code(db, "retail")
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/{row.id}/edit").status_code == 403
    token = csrf(client)
    added = client.post(
        f"{LIST}/new?kind=field", data={**names("A", "B", "C"), "csrf_token": token}
    )
    assert added.status_code == 403
    retired = client.post(f"{LIST}/{row.id}/retire", data={"csrf_token": token})
    assert retired.status_code == 403
    db.refresh(row)
    assert row.retired_at is None
    denied = db.exec(
        select(AuditEvent.action).where(
            col(AuditEvent.outcome) == "denied", col(AuditEvent.target_id) == LIST
        )
    ).all()
    assert "access.forbidden.get" in denied


def test_anonymous_goes_to_the_staff_login(client: TestClient) -> None:
    answer = client.get(LIST, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")


def test_employers_are_refused(client: TestClient) -> None:
    login(client, "employer-one")
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/new?kind=field").status_code == 403


def test_a_post_without_csrf_token_is_refused(admin: TestClient, db: Session) -> None:
    before = len(repository.classifications(db, include_retired=True))
    answer = admin.post(f"{LIST}/new?kind=field", data=names("A", "B", "C"))
    assert answer.status_code == 403
    row = by_code(db, "retail")
    assert admin.post(f"{LIST}/{row.id}/retire").status_code == 403
    db.refresh(row)
    assert row.retired_at is None
    assert len(repository.classifications(db, include_retired=True)) == before


def test_admin_home_links(client: TestClient) -> None:
    login(client, "staff-admin", staff=True)
    home = client.get("/admin").text
    assert f'href="{LIST}"' in home
    assert 'href="/tet/manage"' not in home
    client.cookies.clear()
    login(client, "staff-tet", staff=True)
    home = client.get("/admin", headers=EN).text
    assert f'href="{LIST}"' not in home
    assert 'href="/tet/manage"' in home
    assert "TET postings of my unit" in home


def test_postings_of_the_list_are_counted_in_one_query(admin: TestClient, db: Session) -> None:
    for title in ("Yksi", "Kaksi", "Kolme"):
        make_posting(db, title=title, fields=["sports"])
    statements: list[str] = []
    engine = db.get_bind()

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert admin.get(LIST).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    touching = [s for s in statements if "tet_posting_classification" in s]
    assert len(touching) == 1
    assert "GROUP BY" in touching[0]
    assert db.exec(select(TetPosting).where(col(TetPosting.title) == "Kolme")).one()
