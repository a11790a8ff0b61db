"""The staff JSON API of Helsinki-lisä: the same services as the pages, documented in OpenAPI,
422 with field messages, 403 for the decision without the decider role, 409 on conflicts."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.documents.storage import FileStore
from app.subsidies.models import ApplicationStatus
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf

S = ApplicationStatus


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def test_the_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        f.API,
        f"{f.API}/{{application_id}}",
        f"{f.API}/{{application_id}}/take",
        f"{f.API}/{{application_id}}/take-over",
        f"{f.API}/{{application_id}}/request-information",
        f"{f.API}/{{application_id}}/lock",
        f"{f.API}/{{application_id}}/cancel",
        f"{f.API}/{{application_id}}/decision",
        f"{f.API}/{{application_id}}/return",
        f"{f.API}/{{application_id}}/messages",
        f"{f.API}/{{application_id}}/review-marks",
        f"{f.API}/{{application_id}}/calculation",
        f"{f.API}/{{application_id}}/previous-benefits",
        f"{f.API}/{{application_id}}/previous-benefits/{{benefit_id}}",
        f"{f.API}/{{application_id}}/steps/employee",
    ):
        assert path in paths, path


def test_anonymous_get_401_and_payers_403(client: TestClient) -> None:
    assert client.get(f.API).status_code == 401
    f.staff_login(client, "staff-payer")
    assert client.get(f.API).status_code == 403


def test_a_whole_handling_through_the_api(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    code = sf.hetu("121212", 121)
    application = f.sent(db, store, employee={"employee_hetu": code})
    base = f"{f.API}/{application.id}"
    found = client.get(f.API, params={"q": code}).json()
    assert [r["id"] for r in found["rows"]] == [application.id]
    assert found["search"] == "hetu"
    assert found["rows"][0]["hetu_masked"] == code[:7] + "****"
    assert code not in str(found)
    assert found["counts"]["received"]["value"] >= 1
    detail = client.get(base).json()
    assert detail["application"]["employee_hetu"] == code
    assert detail["actions"] == ["take", "cancel"]
    assert detail["calculation"]["inputs"]["monthly_pay"] == "2500.00"
    taken = f.api(client, "POST", f"{base}/take")
    assert taken.status_code == 200
    assert taken.json()["status"] == "handling"
    assert f.api(client, "POST", f"{base}/take").status_code == 409
    mark = f.api(client, "PUT", f"{base}/review-marks", {"section": "employee", "checked": True})
    assert mark.status_code == 200
    assert [m["section"] for m in mark.json()] == ["employee"]
    bad = f.api(
        client,
        "PUT",
        f"{base}/calculation",
        {"start_date": "2023-09-01", "end_date": "2026-09-01", "monthly_pay": "2500"},
    )
    assert bad.status_code == 422
    locs = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert ("end_date",) in locs
    assert ("state_aid_max_percentage",) in locs
    calc = f.api(
        client,
        "PUT",
        f"{base}/calculation",
        {
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "monthly_pay": "2500",
            "other_expenses": "200",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}
            ],
        },
    )
    assert calc.status_code == 200, calc.text
    assert calc.json()["total"] == "1600.00"
    assert calc.json()["current"] is True
    note = f.api(client, "POST", f"{base}/messages", {"kind": "note", "content": "Tarkistettu"})
    assert note.status_code == 201
    request_info = f.api(
        client,
        "POST",
        f"{base}/request-information",
        {"message": "Lisää palkkatodistus", "steps": ["attachments"]},
    )
    assert request_info.status_code == 200
    assert request_info.json()["kind"] == "handler_message"
    assert len(f.outbox(db, "subsidies.information_request")) == 1
    assert f.api(client, "POST", f"{base}/lock").json()["status"] == "handling"
    # The handler may not decide.
    refused = f.api(
        client,
        "POST",
        f"{base}/decision",
        {"decision": "accepted", "granted_as_de_minimis_aid": False},
    )
    assert refused.status_code == 403
    f.staff_login(client, "staff-decider")
    invalid = f.api(client, "POST", f"{base}/decision", {"decision": "rejected"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"][-1] == "reason"
    accepted = f.api(
        client,
        "POST",
        f"{base}/decision",
        {"decision": "accepted", "granted_as_de_minimis_aid": False},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["granted_amount"] == "1600.00"
    again = f.api(client, "POST", f"{base}/decision", {"decision": "rejected", "reason": "Toinen"})
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "subsidy_decision_conflict"
    returned = f.api(client, "POST", f"{base}/return", {"reason": "Tarkistus"})
    assert returned.json()["status"] == "handling"
    messages = client.get(f"{base}/messages").json()
    assert [m["kind"] for m in messages] == ["note", "handler_message"]


def test_previous_benefits_and_cancel_through_the_api(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    base = f"{f.API}/{application.id}"
    added = f.api(
        client,
        "POST",
        f"{base}/previous-benefits",
        {
            "employee_hetu": application.employee_hetu,
            "start_date": "2020-01-01",
            "end_date": "2020-06-30",
        },
    )
    assert added.status_code == 201, added.text
    assert "employee_hetu" not in added.json()
    listed = client.get(f"{base}/previous-benefits").json()
    assert [b["id"] for b in listed] == [added.json()["id"]]
    deleted = f.api(client, "DELETE", f"{base}/previous-benefits/{added.json()['id']}")
    assert deleted.status_code == 204
    assert f.api(client, "DELETE", f"{base}/previous-benefits/999999").status_code == 404
    assert f.api(client, "POST", f"{base}/cancel", {"reason": ""}).status_code == 422
    cancelled = f.api(client, "POST", f"{base}/cancel", {"reason": "Peruttu"})
    assert cancelled.json()["status"] == "cancelled"


def test_a_handler_changes_a_section_with_a_reason(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    base = f"{f.API}/{application.id}"
    f.staff_login(client, "staff-admin")
    # Only the application's handler edits (H29).
    other = f.api(
        client, "PATCH", f"{base}/steps/employee?reason=x", {"job_title": "Vuoropäällikkö"}
    )
    assert other.status_code in (403, 409)
    f.staff_login(client)
    changed = f.api(
        client,
        "PATCH",
        f"{base}/steps/employee?reason=Työsopimuksen%20mukaan",
        {"job_title": "Vuoropäällikkö"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["job_title"] == "Vuoropäällikkö"
    bad = f.api(client, "PATCH", f"{base}/steps/employee", {"working_hours": "10"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "working_hours"
    detail = client.get(base).json()
    change = [c for c in detail["changes"] if c["field_name"] == "job_title"]
    assert len(change) == 1
    assert change[0]["old_value"] == "Kokki"
    assert change[0]["new_value"] == "Vuoropäällikkö"
    assert change[0]["reason"] == "Työsopimuksen mukaan"


def test_a_work_time_under_one_percent_is_a_field_message_not_a_crash(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    answer = f.api(
        client,
        "PUT",
        f"{f.API}/{application.id}/calculation",
        {
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "monthly_pay": "2500",
            "state_aid_max_percentage": 100,
            "pay_subsidies": [
                {
                    "start_date": "2023-09-01",
                    "end_date": "2023-10-31",
                    "pay_subsidy_percent": 100,
                    "work_time_percent": "0.5",
                }
            ],
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == "work_time_percent"
