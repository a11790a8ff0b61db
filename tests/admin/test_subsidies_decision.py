"""The decision (issue #5 §8, H47, H49): deciders only; accepting needs the de minimis answer
and a current calculation, which is frozen on the application; rejecting needs a reason; the
applicant gets an e-mail; of two deciders at once exactly one wins; return to handling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.documents.storage import FileStore
from app.errors import InvalidTransition
from app.subsidies import handling, service
from app.subsidies.models import Application, ApplicationStatus
from app.subsidies.staff_schemas import DecisionIn
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf

S = ApplicationStatus


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def test_a_handler_cannot_decide_nor_return(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-handler")
    application = f.calculated(db, store)
    assert client.get(f"{f.BASE}/{application.id}/decision").status_code == 403
    refused = f.post(
        client,
        f"{f.BASE}/{application.id}/decision",
        {"decision": "accepted", "granted_as_de_minimis_aid": "false"},
    )
    assert refused.status_code == 403
    assert f.fresh(db, application).status == S.handling
    page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
    assert "Make the decision" not in page.text
    assert "A decider makes the decision." in page.text
    assert f.audit_rows(db, "access.forbidden.post")
    with pytest.raises(InvalidTransition):  # the service refuses too
        handling.decide(
            db,
            application=application,
            data=DecisionIn(decision="accepted", granted_as_de_minimis_aid=False),
            actor=f.staff(db),
            base_url="",
        )


def test_accepting_freezes_the_calculation_and_emails_the_applicant(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.calculated(db, store, employer={"language": "sv"})
    page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
    assert "Make the decision" in page.text
    form = client.get(f"{f.BASE}/{application.id}/decision", headers=f.EN)
    assert form.status_code == 200
    assert "1\xa0600,00\xa0€" in form.text
    missing = f.post(client, f"{f.BASE}/{application.id}/decision", {"decision": "accepted"})
    assert missing.status_code == 422
    assert (
        "de minimis"
        in client.post(
            f"{f.BASE}/{application.id}/decision",
            data={"decision": "accepted", "csrf_token": f.token(client)},
            headers=f.EN,
        ).text
    )
    answer = f.post(
        client,
        f"{f.BASE}/{application.id}/decision",
        {"decision": "accepted", "granted_as_de_minimis_aid": "true"},
    )
    assert answer.status_code == 303
    fresh = f.fresh(db, application)
    assert fresh.status == S.accepted
    assert fresh.decision == "accepted"
    assert fresh.granted_amount == Decimal("1600.00")
    assert fresh.granted_as_de_minimis_aid is True
    assert fresh.decider_id == int(f.staff(db, "staff-decider").user_id or 0)
    assert fresh.decided_at is not None
    frozen = fresh.decided_calculation
    assert frozen is not None
    assert frozen["total"] == "1600.00"
    assert frozen["rows"][0]["amount"] == "1600.00"
    assert frozen["instalments"]
    assert frozen["rules"]
    assert frozen["inputs"]["state_aid_max_percentage"] == 100
    mails = f.outbox(db, "subsidies.decision")
    assert len(mails) == 1
    assert mails[0].language == "sv"
    assert f"/employer/subsidies/applications/{application.id}" in mails[0].body_text
    assert f.audit_rows(db, "subsidy_application.decision.accepted", application.id)


def test_accepting_needs_a_current_calculation(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    uncalculated = f.in_handling(db, store)
    answer = client.post(
        f"{f.BASE}/{uncalculated.id}/decision",
        data={
            "decision": "accepted",
            "granted_as_de_minimis_aid": "false",
            "csrf_token": f.token(client),
        },
        headers=f.EN,
    )
    assert answer.status_code == 422
    assert "Calculate the benefit first" in answer.text
    application = f.calculated(db, store, employee={"employee_hetu": sf.hetu("010190", 777)})
    # The handler changes the application after the calculation.
    handling.edit_step(
        db,
        application=application,
        step="employee",
        data=sf.employee_step(monthly_pay="2600", employee_hetu=sf.hetu("010190", 777)),
        actor=f.staff(db),
        reason="Korjaus",
    )
    db.commit()
    outdated = client.post(
        f"{f.BASE}/{application.id}/decision",
        data={
            "decision": "accepted",
            "granted_as_de_minimis_aid": "false",
            "csrf_token": f.token(client),
        },
        headers=f.EN,
    )
    assert outdated.status_code == 422
    assert "has changed since the last calculation" in outdated.text
    assert f.fresh(db, application).status == S.handling


def test_rejecting_needs_the_reason(client: TestClient, db: Session, store: FileStore) -> None:
    f.staff_login(client, "staff-decider")
    application = f.in_handling(db, store)
    missing = f.post(client, f"{f.BASE}/{application.id}/decision", {"decision": "rejected"})
    assert missing.status_code == 422
    answer = f.post(
        client,
        f"{f.BASE}/{application.id}/decision",
        {"decision": "rejected", "reason": "Työsuhde ei täytä ehtoja."},
    )
    assert answer.status_code == 303
    fresh = f.fresh(db, application)
    assert fresh.status == S.rejected
    assert fresh.decision_reason == "Työsuhde ei täytä ehtoja."
    assert fresh.granted_amount is None
    assert len(f.outbox(db, "subsidies.decision")) == 1


def test_two_deciders_at_once_one_wins(
    app: FastAPI, client: TestClient, db: Session, store: FileStore
) -> None:
    """Two sessions load the application in handling; the second's conditional update finds
    the status changed and gets the conflict."""
    application = f.calculated(db, store)
    first = f.staff(db, "staff-decider")
    second = f.staff(db, "staff-admin")
    # The second decider's request reads the application while it is still in handling...
    reader = Session(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    theirs = reader.get(Application, application.id)
    assert theirs is not None
    assert theirs.status == S.handling
    reader.expunge(theirs)
    reader.close()
    # ... the first decider's decision lands ...
    handling.decide(
        db,
        application=application,
        data=DecisionIn(decision="accepted", granted_as_de_minimis_aid=False),
        actor=first,
        base_url="http://testserver",
    )
    db.flush()
    # ... and the second, made from what it read, loses.
    other = Session(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        other.add(theirs)
        with pytest.raises(handling.DecisionConflict):
            handling.decide(
                other,
                application=theirs,
                data=DecisionIn(decision="rejected", reason="Toinen päätös"),
                actor=second,
                base_url="http://testserver",
            )
    finally:
        other.close()
    fresh = f.fresh(db, application)
    assert fresh.status == S.accepted
    assert fresh.decision_reason is None
    assert len(f.outbox(db, "subsidies.decision")) == 1


def test_a_second_decision_gets_a_clear_conflict_page(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.in_handling(db, store)
    reject = {"decision": "rejected", "reason": "Ei"}
    assert f.post(client, f"{f.BASE}/{application.id}/decision", reject).status_code == 303
    again = client.post(
        f"{f.BASE}/{application.id}/decision",
        data={**reject, "csrf_token": f.token(client)},
        headers=f.EN,
    )
    assert again.status_code == 409
    assert "Someone else decided or changed this application" in again.text
    assert "Your decision was not saved." in again.text


def test_return_to_handling_clears_the_decision(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.calculated(db, store)
    handling.decide(
        db,
        application=application,
        data=DecisionIn(decision="accepted", granted_as_de_minimis_aid=False),
        actor=f.staff(db, "staff-decider"),
        base_url="http://testserver",
    )
    db.commit()
    assert client.get(f"{f.BASE}/{application.id}/return").status_code == 200
    answer = f.post(client, f"{f.BASE}/{application.id}/return", {"reason": "Laskelma väärin"})
    assert answer.status_code == 303
    fresh = f.fresh(db, application)
    assert fresh.status == S.handling
    assert fresh.decision is None
    assert fresh.granted_amount is None
    assert fresh.decided_calculation is None
    assert fresh.handler_id is not None
    page = client.get(f"{f.BASE}/{application.id}", headers=f.EN)
    assert "Laskelma väärin" in page.text
    f.staff_login(client, "staff-handler")
    assert client.get(f"{f.BASE}/{application.id}/return").status_code == 403


def test_a_cancelled_application_cannot_be_decided(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.sent(db, store)
    assert client.get(f"{f.BASE}/{application.id}/decision").status_code == 409
    assert service.can_edit_step(application, "employee", f.staff(db)) is True
