"""The employer's Helsinki-lisä JSON API: the same use cases and rules as the pages, 422 with
field paths, files (H16–H18), submit, copy, delete, timeline."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.subsidies import service
from app.subsidies.models import Application, Attachment
from tests.subsidies import factories as f

API = "/api/v1/subsidies/applications"


def _headers(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": f.csrf_token(client)}


def _file(
    client: TestClient, application_id: int, kind: str, content: bytes = f.PDF, name: str = "a.pdf"
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{API}/{application_id}/attachments",
        data={"kind": kind},
        files={"file": (name, content, "application/pdf")},
        headers=_headers(client),
    )
    return response


def _employee() -> dict[str, Any]:
    return {
        "employee_first_name": "Aino",
        "employee_last_name": "Virtanen",
        "employee_hetu": f.hetu(),
        "is_living_in_helsinki": True,
        "job_title": "Kokki",
        "working_hours": "37.5",
        "collective_bargaining_agreement": "-",
        "monthly_pay": "2500.00",
        "vacation_money": "0",
        "other_expenses": "400.50",
        "pay_subsidy_granted": True,
        "pay_subsidy_percent": 50,
        "apprenticeship_program": True,
    }


def test_the_whole_application_through_the_api(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    made = client.post(API, headers=_headers(client))
    assert made.status_code == 201
    body = made.json()
    application_id = body["id"]
    assert body["status"] == "draft"
    assert body["company"]["name"] == "Kahvila Esimerkki Oy"
    assert [s["state"] for s in body["steps"]] == ["not_started"] * 5
    employer = {
        "iban": "FI21 1234 5600 0007 85",
        "contact_first_name": "Eija",
        "contact_last_name": "Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "eija@example.com",
        "co_operation_negotiations": False,
        "other_subsidised_employed": False,
    }
    put = client.put(
        f"{API}/{application_id}/steps/employer", json=employer, headers=_headers(client)
    )
    assert put.status_code == 200, put.text
    assert put.json()["employer"]["iban"] == "FI21 1234 5600 0007 85"
    assert put.json()["steps"][0]["state"] == "done"
    # PATCH changes only what it names.
    patched = client.patch(
        f"{API}/{application_id}/steps/employer",
        json={"contact_first_name": "Erkki"},
        headers=_headers(client),
    )
    assert patched.json()["employer"]["contact_first_name"] == "Erkki"
    assert patched.json()["employer"]["contact_email"] == "eija@example.com"
    # 422 with field paths.
    bad = client.put(
        f"{API}/{application_id}/steps/de_minimis",
        json={
            "de_minimis_aid": True,
            "aids": [
                {"granter": "ELY", "amount": "400000", "granted_at": service.today().isoformat()},
                {"granter": "ELY", "amount": "10", "granted_at": "2020-01-01"},
            ],
        },
        headers=_headers(client),
    )
    assert bad.status_code == 422
    locs = {tuple(e["loc"]): e["msg"] for e in bad.json()["detail"]}
    assert ("aids", 0, "amount") in locs
    assert ("aids", 1, "granted_at") in locs
    assert locs[("aids",)].startswith("Maximum amount exceeded")
    typo = client.put(
        f"{API}/{application_id}/steps/employee",
        json={**_employee(), "working_hours": "12"},
        headers=_headers(client),
    )
    assert typo.status_code == 422
    assert typo.json()["detail"][0]["loc"] == ["body", "working_hours"]
    assert "at least 18 hours" in typo.json()["detail"][0]["msg"]
    for step, data in (
        ("de_minimis", {"de_minimis_aid": False}),
        ("employee", _employee()),
        ("period", dict(f.period_form().items())),
    ):
        answer = client.put(
            f"{API}/{application_id}/steps/{step}", json=data, headers=_headers(client)
        )
        assert answer.status_code == 200, (step, answer.text)
    problems = client.get(f"{API}/{application_id}/submit-problems").json()
    assert problems["ready"] is False
    assert {tuple(p["loc"]) for p in problems["steps"]["attachments"]} == {
        ("attachments", "employment_contract"),
        ("attachments", "pay_subsidy_decision"),
        ("attachments", "education_contract"),
        ("attachments", "employee_consent"),
    }
    refused = client.post(f"{API}/{application_id}/submit", json={}, headers=_headers(client))
    assert refused.status_code == 422
    locs_sent = [e["loc"] for e in refused.json()["detail"]]
    assert ["attachments", "employment_contract"] in locs_sent
    assert any(loc[0] == "consent_ids" for loc in locs_sent)
    for kind in ("employment_contract", "pay_subsidy_decision", "education_contract"):
        assert _file(client, application_id, kind).status_code == 201
    image = _file(client, application_id, "employee_consent", f.png_bytes(), "suostumus.png")
    assert image.status_code == 201
    assert image.json()["content_type"] == "image/png"
    listed = client.get(f"{API}/{application_id}/attachments").json()
    assert len(listed) == 4
    download = client.get(f"{API}/{application_id}/attachments/{image.json()['id']}")
    assert download.content == f.png_bytes()
    terms = client.get(f"{API}/{application_id}/applicant-terms").json()
    sent = client.post(
        f"{API}/{application_id}/submit",
        json={"terms_id": terms["id"], "consent_ids": [c["id"] for c in terms["consents"]]},
        headers=_headers(client),
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "received"
    assert sent.json()["status_name"] == "Waiting for handling"
    assert sent.json()["application_number"] >= 1
    timeline = client.get(f"{API}/{application_id}/timeline").json()
    assert [e["event"] for e in timeline["entries"]] == ["created", "sent"]
    locked = client.patch(f"{API}/{application_id}/steps/period", json={}, headers=_headers(client))
    assert locked.status_code == 409
    assert locked.json()["detail"]["code"] == "application_locked"
    assert client.delete(f"{API}/{application_id}", headers=_headers(client)).status_code == 409


def test_files_are_checked_by_content_and_counted(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    application_id = client.post(API, headers=_headers(client)).json()["id"]
    fake = _file(client, application_id, "employment_contract", b"not a pdf at all", "x.pdf")
    assert fake.status_code == 415
    assert fake.json()["detail"]["code"] == "file_type_not_allowed"
    broken = _file(client, application_id, "employment_contract", b"%PDF-1.4 cut", "x.pdf")
    assert broken.status_code == 422
    big = _file(
        client, application_id, "employment_contract", f.PDF + b"0" * (10 * 1024 * 1024), "x.pdf"
    )
    assert big.status_code == 413
    paper = _file(client, application_id, "full_application")
    assert paper.status_code == 422
    assert paper.json()["detail"]["code"] == "attachment_kind_not_allowed"
    for _ in range(20):
        assert (
            _file(client, application_id, "other_attachment", f.jpeg_bytes(), "k.jpg").status_code
            == 201
        )
    over = _file(client, application_id, "other_attachment")
    assert over.status_code == 422
    assert over.json()["detail"]["code"] == "too_many_attachments"
    one = db.exec(select(Attachment)).first()
    assert one is not None
    assert (
        client.delete(
            f"{API}/{application_id}/attachments/{one.id}", headers=_headers(client)
        ).status_code
        == 204
    )
    assert len(db.exec(select(Attachment)).all()) == 19


def test_files_on_the_page(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    fake = f.upload(client, path, "employment_contract", b"plain text", "sopimus.pdf")
    assert fake.status_code == 415
    assert "must be a PDF, PNG or JPEG" in fake.text
    missing = client.post(
        f"{path}/attachments",
        data={"csrf_token": f.csrf_token(client), "kind": "employment_contract"},
    )
    assert missing.status_code == 422
    assert "Choose a file to upload." in missing.text
    assert (
        f.upload(client, path, "employment_contract", name="../../Työsopimus.pdf").status_code
        == 303
    )
    row = db.exec(select(Attachment)).one()
    assert row.filename == "Työsopimus.pdf"
    page = client.get(f"{path}/steps/attachments")
    assert "Työsopimus.pdf" in page.text
    assert "Employment contract: added" in page.text
    removed = client.post(
        f"{path}/attachments/{row.id}/delete",
        data={"csrf_token": f.csrf_token(client)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert db.exec(select(Attachment)).all() == []


def test_delete_and_copy_through_the_api(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    application_id = client.post(API, headers=_headers(client)).json()["id"]
    copy = client.post(f"{API}/{application_id}/copy", headers=_headers(client))
    assert copy.status_code == 201
    assert client.delete(f"{API}/{application_id}", headers=_headers(client)).status_code == 204
    assert client.get(f"{API}/{application_id}").status_code == 404
    assert {a.id for a in db.exec(select(Application)).all()} == {copy.json()["id"]}
    assert client.get(f"{API}/{copy.json()['id']}/messages").json() == []
    message = client.post(
        f"{API}/{copy.json()['id']}/messages", json={"content": "Hei"}, headers=_headers(client)
    )
    assert message.status_code == 409


def test_the_api_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        API,
        f"{API}/{{application_id}}",
        f"{API}/{{application_id}}/steps/employer",
        f"{API}/{{application_id}}/attachments",
        f"{API}/{{application_id}}/submit",
        f"{API}/{{application_id}}/timeline",
        f"{API}/{{application_id}}/messages",
        "/api/v1/subsidies/terms-of-service",
    ):
        assert path in paths, path
    assert set(paths[f"{API}/{{application_id}}/steps/employee"]) == {"put", "patch"}
    assert service.PERSONAL_FIELDS  # the read audit names these
