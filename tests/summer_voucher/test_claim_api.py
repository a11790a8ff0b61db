"""The employer claim JSON API: the same rules as the pages, in JSON."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.summer_voucher.models import YearConfiguration
from tests.summer_voucher import factories as f
from tests.summer_voucher.test_claim_pages import employer_client

BASE = "/api/v1/summer-voucher/employer/claims"


def test_claim_through_the_api(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db)
    db.commit()
    employer_client(client)
    headers = {"X-CSRF-Token": csrf()}
    created = client.post(BASE, headers=headers)
    assert created.status_code == 201
    claim_id = created.json()["id"]
    assert client.post(BASE, headers=headers).json()["id"] == claim_id

    not_found = client.post(
        f"{BASE}/{claim_id}/employee",
        json={"employee_name": "Aino Väärä", "serial": f.serial(voucher)},
        headers=headers,
    )
    assert not_found.status_code == 404
    assert not_found.json()["detail"]["code"] == "voucher_not_found"
    found = client.post(
        f"{BASE}/{claim_id}/employee",
        json={"employee_name": "Aino Virtanen", "serial": f.serial(voucher).lower()},
        headers=headers,
    )
    assert found.status_code == 200
    assert found.json()["serial"] == f.serial(voucher)

    year = f.this_year()
    patch = client.patch(
        f"{BASE}/{claim_id}",
        json={
            "employee_phone": "040 123 4567",
            "employment_postcode": "00100",
            "employment_start": f"{year}-06-03",
            "employment_end": f"{year}-07-26",
            "work_hours": "80",
            "salary_paid": "920.50",
            "hired_without_voucher": "yes",
            "contact_name": "Eija Esimerkki",
            "contact_email": "eija@example.com",
            "contact_phone": "040 765 4321",
            "street_address": "Mannerheimintie 1, 00100 Helsinki",
            "iban": "FI2112345600000785",
        },
        headers=headers,
    )
    assert patch.status_code == 200
    assert patch.json()["iban"] == "FI21 1234 5600 0007 85"
    partial = client.patch(f"{BASE}/{claim_id}", json={"job_description": "Kassa"}, headers=headers)
    assert partial.json()["contact_name"] == "Eija Esimerkki"
    bad = client.patch(f"{BASE}/{claim_id}", json={"iban": "FI00"}, headers=headers)
    assert bad.status_code == 422

    early = client.post(f"{BASE}/{claim_id}/submit", json={"terms_accepted": True}, headers=headers)
    assert early.status_code == 422
    assert {e["loc"][-1] for e in early.json()["detail"]} == {
        "attachments_employment_contract",
        "attachments_payslip",
    }
    for kind, content in (("employment_contract", f.PDF), ("payslip", f.jpeg_bytes())):
        added = client.post(
            f"{BASE}/{claim_id}/attachments",
            data={"kind": kind},
            files={"file": ("liite", content, "application/octet-stream")},
            headers=headers,
        )
        assert added.status_code == 201
    fake = client.post(
        f"{BASE}/{claim_id}/attachments",
        data={"kind": "payslip"},
        files={"file": ("fake.pdf", b"MZ not a pdf", "application/pdf")},
        headers=headers,
    )
    assert fake.status_code == 415
    sent = client.post(f"{BASE}/{claim_id}/submit", json={"terms_accepted": True}, headers=headers)
    assert sent.status_code == 200
    body = sent.json()
    assert body["status"] == "submitted"
    assert [t["to_status"] for t in body["timeline"]] == ["submitted"]
    assert client.patch(f"{BASE}/{claim_id}", json={}, headers=headers).status_code == 409
    listing = client.get(BASE).json()
    assert listing["items"][0]["serial"] == f.serial(voucher)


def test_another_organisation_gets_404(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    employer_client(client)
    claim_id = client.post(BASE, headers={"X-CSRF-Token": csrf()}).json()["id"]
    client.cookies.clear()
    employer_client(client, "employer-two-orgs")
    assert client.get(f"{BASE}/{claim_id}").status_code == 404
    assert client.delete(f"{BASE}/{claim_id}", headers={"X-CSRF-Token": csrf()}).status_code == 404


def test_anonymous_gets_401(client: TestClient) -> None:
    assert client.get(BASE).status_code == 401
