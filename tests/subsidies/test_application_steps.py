"""The wizard's steps and their rules (H3–H18): each rule with a case that passes and one that
is refused with a field message, through the pages (typed values kept) and the service."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from app import i18n
from app.audit import AuditEvent
from app.errors import ValidationFailed
from app.forms import localized_errors
from app.subsidies import service
from app.subsidies.models import Application, DeMinimisAid
from app.subsidies.schemas import EmployerStepIn, PeriodStepIn
from tests.subsidies import factories as f


def _types(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e["loc"]), e["type"]) for e in exc.value.errors]


def _problem_types(db: Session, application: Application, step: str, actor: Any) -> set[str]:
    found = service.submit_problems(db, application=application, actor=actor)
    return {f"{p['loc'][1]}:{p['type']}" for p in found[step]}


# --- Employer (H3–H6, H8, H10, H11) -------------------------------------------------------------


def test_the_employer_step_keeps_typed_values_and_explains_errors(
    client: TestClient, db: Session
) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    answer = f.post_step(
        client,
        path,
        "employer",
        f.employer_form(iban="DE89 3704 0044 0532 0130 00", contact_email="not-an-address"),
    )
    assert answer.status_code == 422
    assert "Enter a Finnish bank account" in answer.text
    assert "Enter an e-mail address" in answer.text
    assert 'value="DE89 3704 0044 0532 0130 00"' in answer.text
    assert 'value="not-an-address"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "Check the following:" in answer.text
    broken = f.post_step(client, path, "employer", f.employer_form(iban="FI00 1234"))
    assert "Enter a valid IBAN" in broken.text
    saved = f.post_step(client, path, "employer", f.employer_form())
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("/steps/de_minimis")
    application = db.exec(select(Application)).one()
    db.refresh(application)
    assert application.iban == "FI2112345600000785"
    assert application.contact_phone == "+358401234567"
    assert application.step == "employer"
    page = client.get(f"{path}/steps/employer")
    assert "FI21 1234 5600 0007 85" in page.text  # shown grouped


def test_save_and_close_goes_to_the_list(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    answer = f.post_step(client, path, "employer", {"contact_first_name": "Eija"}, action="close")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/employer/subsidies?saved=1"
    assert "The draft was saved" in client.get(answer.headers["location"]).text


def test_the_alternative_address_is_required_only_when_chosen(db: Session, app: FastAPI) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    data = f.employer_step(use_alternative_address=False, alternative_street_address="Unohdettu 1")
    service.save_step(db, application=application, step="employer", data=data, actor=actor)
    assert application.alternative_street_address is None
    assert not {p for p in _problem_types(db, application, "employer", actor) if "alternative" in p}
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(use_alternative_address=True, alternative_city="Helsinki"),
        actor=actor,
    )
    assert _problem_types(db, application, "employer", actor) == {
        "company_department:subsidy_required",
        "alternative_street_address:subsidy_required",
        "alternative_postcode:subsidy_required",
    }
    with pytest.raises(ValidationError, match="postcode"):
        f.employer_step(use_alternative_address=True, alternative_postcode="123")


def test_descriptions_and_numbers_follow_their_yes_no_answers(db: Session) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(co_operation_negotiations=True, other_subsidised_employed=True),
        actor=actor,
    )
    assert _problem_types(db, application, "employer", actor) == {
        "co_operation_negotiations_description:subsidy_required",
        "other_subsidised_number:subsidy_required",
    }
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(
            co_operation_negotiations=True,
            co_operation_negotiations_description="Muutosneuvottelut 2026",
            other_subsidised_employed=True,
            other_subsidised_number=2,
        ),
        actor=actor,
    )
    assert _problem_types(db, application, "employer", actor) == set()
    # "No" forbids the description and the number: they are not kept.
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(
            co_operation_negotiations=False,
            co_operation_negotiations_description="Jäänyt",
            other_subsidised_employed=False,
            other_subsidised_number=3,
        ),
        actor=actor,
    )
    assert application.co_operation_negotiations_description is None
    assert application.other_subsidised_number is None
    with pytest.raises(ValidationError, match="string_too_long"):
        f.employer_step(co_operation_negotiations_description="x" * 257)


def test_unanswered_questions_stay_unanswered(client: TestClient, db: Session) -> None:
    """A radio group left empty is not "no" (H8, H11)."""
    f.employer_client(client, db)
    path = f.new_application(client)
    form = f.employer_form()
    del form["co_operation_negotiations"]
    assert f.post_step(client, path, "employer", form).status_code == 303
    application = db.exec(select(Application)).one()
    db.refresh(application)
    assert application.co_operation_negotiations is None
    assert application.other_subsidised_employed is False
    summary = client.get(f"{path}/steps/summary")
    assert "Answer this question before sending the application." in summary.text
    assert f"{path}/steps/employer#f-co_operation_negotiations" in summary.text


def test_association_questions_are_only_for_associations(db: Session) -> None:
    company_actor = f.employer_actor(db)
    application = f.draft_application(db, actor=company_actor)
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(association_has_business_activities=True),
        actor=company_actor,
    )
    assert application.association_has_business_activities is None
    assert "association_has_business_activities:subsidy_answer_required" not in _problem_types(
        db, application, "employer", company_actor
    )
    association = f.employer_actor(
        db, subject="yhdistys", business_id=f.ASSOCIATION, is_association=True
    )
    draft = f.draft_application(db, actor=association)
    assert draft.is_association
    service.save_step(
        db, application=draft, step="employer", data=f.employer_step(), actor=association
    )
    assert "association_has_business_activities:subsidy_answer_required" in _problem_types(
        db, draft, "employer", association
    )
    service.save_step(
        db, application=draft, step="employee", data=f.employee_step(), actor=association
    )
    assert "association_immediate_manager_check:job_supervisor_required" in _problem_types(
        db, draft, "employee", association
    )


# --- De minimis (H6, H7) -----------------------------------------------------------------------


def _aid(amount: str, granted_at: date, granter: str = "ELY-keskus") -> dict[str, Any]:
    return {"granter": granter, "amount": amount, "granted_at": granted_at}


def test_de_minimis_rows_and_the_cap(db: Session) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    today = service.today()
    limits = service.de_minimis_rules(today)
    assert limits.cap == Decimal("300000.00")

    def save(**values: Any) -> None:
        service.save_step(
            db,
            application=application,
            step="de_minimis",
            data=f.de_minimis_step(**values),
            actor=actor,
        )

    save(
        de_minimis_aid=True, aids=[_aid("1000", today), _aid("2000,50", date(today.year - 1, 3, 1))]
    )
    rows = db.exec(select(DeMinimisAid).where(DeMinimisAid.application_id == application.id)).all()
    assert [r.amount for r in rows] == [Decimal("1000.00"), Decimal("2000.50")]
    with pytest.raises(ValidationFailed) as over:
        save(de_minimis_aid=True, aids=[_aid("200000", today), _aid("100000.01", today)])
    assert _types(over) == [(("aids",), "de_minimis_cap_exceeded")]
    assert "Maximum amount exceeded" in service_message(over)
    with pytest.raises(ValidationFailed) as single:
        save(de_minimis_aid=True, aids=[_aid("300000.01", today)])
    assert (("aids", 0, "amount"), "de_minimis_amount_max") in _types(single)
    with pytest.raises(ValidationFailed) as future:
        save(de_minimis_aid=True, aids=[_aid("10", today + timedelta(days=1))])
    assert _types(future) == [(("aids", 0, "granted_at"), "de_minimis_date_future")]
    with pytest.raises(ValidationFailed) as old:
        save(de_minimis_aid=True, aids=[_aid("10", date(today.year - 4, 1, 1) - timedelta(days=1))])
    assert _types(old) == [(("aids", 0, "granted_at"), "de_minimis_date_too_old")]
    # Aid before the window (the current and two previous tax years) does not count.
    save(
        de_minimis_aid=True,
        aids=[_aid("299000", date(today.year - 3, 6, 1)), _aid("299000", today)],
    )
    with pytest.raises(ValidationFailed) as forbidden:
        save(de_minimis_aid=False, aids=[_aid("10", today)])
    assert _types(forbidden) == [(("aids",), "de_minimis_rows_forbidden")]
    with pytest.raises(ValidationError, match="greater_than_equal"):
        f.de_minimis_step(de_minimis_aid=True, aids=[_aid("0,50", today)])
    save(de_minimis_aid=True, aids=[])
    assert "aids:de_minimis_rows_missing" in _problem_types(db, application, "de_minimis", actor)
    save(de_minimis_aid=False)
    assert _problem_types(db, application, "de_minimis", actor) == set()
    assert db.exec(select(DeMinimisAid)).all() == []


def service_message(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    with i18n.language("en"):
        return " ".join(e["msg"] for e in localized_errors(exc.value.errors))


def test_de_minimis_rows_on_the_page(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    today = service.today()
    form = {
        "de_minimis_aid": "true",
        "rows": "3",
        "aids-0-granter": "",
        "aids-0-amount": "",
        "aids-0-granted_at": "",
        "aids-1-granter": "Business Finland",
        "aids-1-amount": "250 000",
        "aids-1-granted_at": today.isoformat(),
        "aids-2-granter": "ELY",
        "aids-2-amount": "60 000,00",
        "aids-2-granted_at": today.isoformat(),
    }
    over = f.post_step(client, path, "de_minimis", form)
    assert over.status_code == 422
    assert "Maximum amount exceeded" in over.text
    # Blank rows are dropped and the rest renumbered, so the values and errors line up.
    assert 'name="aids-0-granter"' in over.text
    assert 'value="Business Finland"' in over.text
    more = f.post_step(
        client, path, "de_minimis", {**form, "aids-2-amount": "oops"}, action="add_row"
    )
    assert more.status_code == 200
    assert 'name="aids-2-granter"' in more.text  # one more empty row to fill
    bad = f.post_step(client, path, "de_minimis", {**form, "aids-2-amount": "oops"})
    assert bad.status_code == 422
    assert 'id="f-aids-1-amount"' in bad.text
    assert "Enter an amount in euros" in bad.text
    ok = f.post_step(client, path, "de_minimis", {**form, "aids-2-amount": "50 000"})
    assert ok.status_code == 303
    assert len(db.exec(select(DeMinimisAid)).all()) == 2
    page = client.get(f"{path}/steps/de_minimis")
    assert 'value="250000,00"' in page.text


def test_an_association_without_business_activities_declares_no_de_minimis(
    db: Session,
) -> None:
    actor = f.employer_actor(db, subject="yhdistys", business_id=f.ASSOCIATION, is_association=True)
    application = f.draft_application(db, actor=actor)
    today = service.today()
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(association_has_business_activities=True),
        actor=actor,
    )
    service.save_step(
        db,
        application=application,
        step="de_minimis",
        data=f.de_minimis_step(de_minimis_aid=True, aids=[_aid("500", today)]),
        actor=actor,
    )
    service.save_step(
        db,
        application=application,
        step="employer",
        data=f.employer_step(association_has_business_activities=False),
        actor=actor,
    )
    assert application.de_minimis_aid is None
    assert db.exec(select(DeMinimisAid)).all() == []
    with pytest.raises(ValidationFailed) as refused:
        service.save_step(
            db,
            application=application,
            step="de_minimis",
            data=f.de_minimis_step(de_minimis_aid=True, aids=[_aid("500", today)]),
            actor=actor,
        )
    assert _types(refused) == [(("de_minimis_aid",), "de_minimis_not_allowed")]
    assert _problem_types(db, application, "de_minimis", actor) == set()


# --- Employee (H9, H10, H12) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("employee_hetu", "131052-308X", "Enter a valid personal identity code"),
        ("working_hours", "17,5", "at least 18 hours a week"),
        ("working_hours", "169", "at most 168 hours a week"),
        ("monthly_pay", "0", "Enter a number greater than 0"),
        ("vacation_money", "-1", "Enter an amount in euros"),
        ("pay_subsidy_percent", "60", "Choose one of the options"),
    ],
)
def test_employee_values_are_checked(
    client: TestClient, db: Session, field: str, value: str, message: str
) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    form = f.employee_form(**{field: value, "pay_subsidy_granted": "true"})
    answer = f.post_step(client, path, "employee", form)
    assert answer.status_code == 422
    assert message in answer.text
    assert f'value="{value}"' in answer.text or field == "pay_subsidy_percent"


def test_the_limits_themselves_are_accepted(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    form = f.employee_form(working_hours="18", vacation_money="0", other_expenses="0")
    assert f.post_step(client, path, "employee", form).status_code == 303


def test_residence_and_pay_subsidy_answers_before_sending(db: Session) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(is_living_in_helsinki=False, pay_subsidy_granted=True),
        actor=actor,
    )
    assert _problem_types(db, application, "employee", actor) == {
        "is_living_in_helsinki:helsinki_residence_required",
        "pay_subsidy_percent:subsidy_required",
    }
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(pay_subsidy_granted=True, pay_subsidy_percent=70),
        actor=actor,
    )
    assert application.pay_subsidy_percent == 70
    assert _problem_types(db, application, "employee", actor) == set()
    assert "pay_subsidy_decision:attachment_required" in _problem_types(
        db, application, "attachments", actor
    )
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(pay_subsidy_granted=False, pay_subsidy_percent=70),
        actor=actor,
    )
    assert application.pay_subsidy_percent is None


def test_employee_data_is_encrypted_and_indexed(db: Session) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    code = f.hetu("131052", 308)
    service.save_step(
        db,
        application=application,
        step="employee",
        data=f.employee_step(
            employee_first_name="  Aino ", employee_last_name="Virtanen", employee_hetu=code.lower()
        ),
        actor=actor,
    )
    raw = db.execute(
        sa.text(
            "SELECT employee_first_name, employee_last_name, employee_hetu "
            "FROM subsidy_application WHERE id = :id"
        ),
        {"id": application.id},
    ).one()
    assert all(value and "Aino" not in value and code not in value for value in raw)
    assert application.employee_hetu == code
    assert application.employee_hetu_index == service.hetu_index(code)
    assert application.employee_name_index == service.name_index("AINO   virtanen")
    assert application.employee_last_name_index == service.last_name_index(" virtanen ")
    writes = db.exec(
        select(AuditEvent).where(AuditEvent.action == "subsidy_application.update")
    ).all()
    assert "employee_hetu" in (writes[-1].fields or "")
    assert code not in str([w.model_dump() for w in writes])


# --- Benefit period (H13, H14) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "ok"),
    [
        (date(2021, 2, 28), True),
        (date(2021, 2, 27), False),
        (date(2022, 1, 31), True),
        (date(2022, 2, 1), False),
    ],
)
def test_the_benefit_period_length(db: Session, end: date, ok: bool) -> None:
    actor = f.employer_actor(db)
    application = f.draft_application(db, actor=actor)
    data = PeriodStepIn(start_date=date(2021, 2, 1), end_date=end)
    if ok:
        service.save_step(db, application=application, step="period", data=data, actor=actor)
        assert application.end_date == end
    else:
        with pytest.raises(ValidationFailed) as refused:
            service.save_step(db, application=application, step="period", data=data, actor=actor)
        kind = "period_too_short" if end.month == 2 and end.year == 2021 else "period_too_long"
        assert _types(refused) == [(("end_date",), kind)]


def test_the_period_on_the_page_and_through_a_patch(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    answer = f.post_step(
        client, path, "period", {"start_date": "2021-02-01", "end_date": "2021-02-27"}
    )
    assert answer.status_code == 422
    assert "enter an end date on or after 28.2.2021" in answer.text
    assert 'value="2021-02-27"' in answer.text
    # A PATCH of one date is checked against the other one stored.
    application_id = path.rsplit("/", 1)[1]
    headers = {"X-CSRF-Token": f.csrf_token(client)}
    api = f"/api/v1/subsidies/applications/{application_id}/steps/period"
    assert client.patch(api, json={"start_date": "2021-02-01"}, headers=headers).status_code == 200
    refused = client.patch(api, json={"end_date": "2022-02-01"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["end_date"]
    assert client.patch(api, json={"end_date": "2022-01-31"}, headers=headers).status_code == 200


def test_the_start_may_be_four_months_back_at_the_first_submission(
    db: Session, app: FastAPI
) -> None:
    actor = f.employer_actor(db)
    earliest = service.earliest_start()
    application = f.complete_application(
        db, app.state.file_store, actor=actor, period=f.period_step(start=earliest)
    )
    assert _problem_types(db, application, "period", actor) == set()
    service.save_step(
        db,
        application=application,
        step="period",
        data=f.period_step(start=earliest - timedelta(days=1)),
        actor=actor,
    )
    assert _problem_types(db, application, "period", actor) == {"start_date:period_start_too_early"}
    # Staff are exempt (a paper application may arrive late).
    handler = f.staff_actor(db)
    found = service.submit_problems(db, application=application, actor=handler)
    assert found["period"] == []


def test_steps_save_without_the_later_ones(client: TestClient, db: Session) -> None:
    f.employer_client(client, db)
    path = f.new_application(client)
    assert f.post_step(client, path, "period", f.period_form()).status_code == 303
    tasks = client.get(path)
    assert tasks.text.count("Not started") == 4  # employer, de minimis, employee, attachments
    assert "Completed" in tasks.text


def test_the_schema_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        EmployerStepIn.model_validate({"company_name": "Toinen Oy"})
