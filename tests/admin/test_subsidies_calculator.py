"""The handler's calculator panel (H32–H46): inputs prefilled from the application, the engine's
result stored with the inputs, field messages for what cannot be calculated, the limits across
the employee's earlier benefits at the same company and the benefits staff enter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.documents.storage import FileStore
from app.subsidies import calculation, handling
from app.subsidies.models import Calculation, PreviousBenefit
from app.subsidies.staff_schemas import CalculationIn, DecisionIn
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def worked_example(**changes: str) -> dict[str, str]:
    """helsinkilisa.md §3.5, the first case: 2 months × 800 € = 1 600 €."""
    values = {
        "benefit_type": "salary_benefit",
        "start_date": "2023-09-01",
        "end_date": "2023-10-31",
        "monthly_pay": "2500",
        "other_expenses": "200",
        "vacation_money": "0",
        "state_aid_max_percentage": "100",
        "ps_rows": "2",
        "pay_subsidies-0-start_date": "2023-09-01",
        "pay_subsidies-0-end_date": "2023-10-31",
        "pay_subsidies-0-pay_subsidy_percent": "70",
        "tc_rows": "1",
        "action": "calculate",
    }
    values.update(changes)
    return values


def test_the_inputs_are_prefilled_from_the_application(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(
        db, store, employee={"pay_subsidy_granted": True, "pay_subsidy_percent": 70}
    )
    page = client.get(f"{f.BASE}/{application.id}/calculation", headers=f.EN)
    assert page.status_code == 200
    assert 'value="2500,00"' in page.text
    assert 'value="500,00"' in page.text
    assert f'value="{application.start_date.isoformat()}"' in page.text  # type: ignore[union-attr]
    assert (
        'id="f-pay_subsidies-0-pay_subsidy_percent-70" name="pay_subsidies-0-pay_subsidy_percent" value="70" checked'
        in page.text
    )


def test_calculate_stores_the_inputs_and_the_engines_result(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    answer = f.post(client, f"{f.BASE}/{application.id}/calculation", worked_example())
    assert answer.status_code == 303, answer.text
    row = db.exec(select(Calculation).where(Calculation.application_id == application.id)).one()
    assert row.total == Decimal("1600.00")
    assert row.state_aid_max_percentage == 100
    assert row.pay_subsidies == [
        {
            "start_date": "2023-09-01",
            "end_date": "2023-10-31",
            "pay_subsidy_percent": 70,
            "work_time_percent": None,
        }
    ]
    assert row.result is not None
    assert row.result["rows"][0]["amount"] == "1600.00"
    assert {r["name"] for r in row.result["rules"]} >= {"subsidies.salary_benefit_monthly_max"}
    assert row.result["instalments"][0]["amount"] == "1600.00"
    page = client.get(f"{f.BASE}/{application.id}/calculation", headers=f.EN)
    assert "Total: 1\xa0600,00\xa0€" in page.text
    assert "subsidies.salary_benefit_monthly_max" in page.text
    assert f.audit_rows(db, "subsidy_application.calculation", application.id)


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"end_date": "2025-09-01"}, "end_date", "shorter than 24 months"),
        (
            {"override_monthly_benefit_amount": "500", "override_justification": ""},
            "override_justification",
            "justification",
        ),
        (
            {"override_monthly_benefit_amount": "1600", "override_justification": "Sopimus"},
            "override_monthly_benefit_amount",
            "at most 1",
        ),
        ({"state_aid_max_percentage": ""}, "state_aid_max_percentage", "Fill in this field"),
        ({"pay_subsidies-0-end_date": "2023-11-30"}, "pay_subsidies-0-end_date", "within"),
        ({"monthly_pay": "kaksi"}, "monthly_pay", "amount in euros"),
    ],
)
def test_what_cannot_be_calculated_is_told_at_its_field(
    client: TestClient,
    db: Session,
    store: FileStore,
    changes: dict[str, str],
    field: str,
    text: str,
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    answer = client.post(
        f"{f.BASE}/{application.id}/calculation",
        data={**worked_example(**changes), "csrf_token": f.token(client)},
        headers=f.EN,
    )
    assert answer.status_code == 422
    assert f'id="f-{field}-error"' in answer.text, answer.text
    assert text in answer.text
    # What was typed is kept.
    for value in changes.values():
        if value:
            assert f'value="{value}"' in answer.text or value in answer.text
    assert (
        db.exec(select(Calculation).where(Calculation.application_id == application.id)).first()
        is None
    )


def test_a_manual_amount_with_justification_is_calculated(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    answer = f.post(
        client,
        f"{f.BASE}/{application.id}/calculation",
        worked_example(override_monthly_benefit_amount="1000", override_justification="Sovittu"),
    )
    assert answer.status_code == 303
    row = db.exec(select(Calculation).where(Calculation.application_id == application.id)).one()
    assert row.total == Decimal("2000.00")
    assert row.override_justification == "Sovittu"


def test_add_a_row_without_javascript(client: TestClient, db: Session, store: FileStore) -> None:
    f.staff_login(client)
    application = f.in_handling(db, store)
    page = f.post(
        client, f"{f.BASE}/{application.id}/calculation", worked_example(action="add_pay_subsidy")
    )
    assert page.status_code == 200
    assert 'name="pay_subsidies-1-start_date"' in page.text
    assert 'name="pay_subsidies-2-start_date"' in page.text


def test_only_the_handler_calculates(client: TestClient, db: Session, store: FileStore) -> None:
    f.staff_login(client, "staff-admin")
    application = f.in_handling(db, store, "staff-handler")
    page = client.get(f"{f.BASE}/{application.id}/calculation", headers=f.EN)
    assert page.status_code == 200
    assert "Only the application's handler changes the calculation" in page.text
    answer = f.post(client, f"{f.BASE}/{application.id}/calculation", worked_example())
    assert answer.status_code == 409


def test_earlier_benefits_give_the_limits(
    client: TestClient, db: Session, store: FileStore
) -> None:
    """H45–H46: an accepted application of the same employee at the same company and a benefit
    staff entered count toward the 12 months."""
    f.staff_login(client)
    code = sf.hetu("050595", 808)
    employer = sf.employer_actor(db)
    earlier = f.in_handling(db, store, actor=employer, employee={"employee_hetu": code})
    handler = f.staff(db)
    handling.calculate(
        db,
        application=earlier,
        data=CalculationIn(
            start_date=date(2025, 1, 1),
            end_date=date(2025, 3, 31),
            monthly_pay=Decimal("2500"),
            state_aid_max_percentage=100,
        ),
        actor=handler,
    )
    handling.decide(
        db,
        application=earlier,
        data=DecisionIn(decision="accepted", granted_as_de_minimis_aid=False),
        actor=f.staff(db, "staff-decider"),
        base_url="http://testserver",
    )
    db.commit()
    application = f.in_handling(db, store, actor=employer, employee={"employee_hetu": code})
    add = f.post(
        client,
        f"{f.BASE}/{application.id}/previous-benefits",
        {
            "employee_hetu": code,
            "start_date": "2024-01-01",
            "end_date": "2024-06-30",
            "total_amount": "4800",
        },
    )
    assert add.status_code == 303, add.text
    stored = db.exec(select(PreviousBenefit)).all()
    assert len(stored) == 1
    assert stored[0].employee_hetu == code
    assert stored[0].employee_hetu_index == application.employee_hetu_index
    assert f.audit_rows(db, "subsidy_previous_benefit.add")
    answer = f.post(
        client,
        f"{f.BASE}/{application.id}/calculation",
        worked_example(
            start_date="2025-05-01",
            end_date="2025-10-31",
            **{
                "pay_subsidies-0-start_date": "",
                "pay_subsidies-0-end_date": "",
                "pay_subsidies-0-pay_subsidy_percent": "",
            },
        ),
    )
    assert answer.status_code == 303, answer.text
    view = calculation.view(db, application=application)
    assert view.limits is not None
    assert view.limits.months_used == Decimal("9.00")
    assert view.limits.months_remaining == Decimal("3.00")
    assert view.limits.last_possible_end_date == date(2025, 7, 31)
    assert [w.code for w in view.limits.warnings][:1] == ["months_limit"]
    page = client.get(f"{f.BASE}/{application.id}/calculation", headers=f.EN)
    assert "9,00" in page.text or "9.00" in page.text
    assert "31.7.2025" in page.text
    assert f"application {earlier.application_number}" in page.text
    # The benefit staff entered can be deleted again.
    deleted = f.post(client, f"{f.BASE}/{application.id}/previous-benefits/{stored[0].id}/delete")
    assert deleted.status_code == 303
    db.expire_all()
    assert db.exec(select(PreviousBenefit)).all() == []
    refused = f.post(
        client,
        f"{f.BASE}/{application.id}/previous-benefits",
        {"employee_hetu": "123", "start_date": "2024-01-01", "end_date": "2023-01-01"},
    )
    assert refused.status_code == 422
