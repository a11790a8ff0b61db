"""Helsinki-lisä applications in the states the staff side handles, and the staff who handle them.

Applications are made through the employer's service (tests/subsidies/factories.py); the staff
moves through the staff service (app/subsidies/handling.py) as the logged-in demo staff user, so
a page opened by that user sees the application as theirs.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.auth.models import User
from app.documents.storage import FileStore
from app.notifications.models import OutboxMessage
from app.security import Actor
from app.subsidies import handling
from app.subsidies.models import Application
from app.subsidies.staff_schemas import CalculationIn, InformationRequestIn
from tests.conftest import login
from tests.subsidies import factories as sf

BASE = "/admin/subsidies"
API = "/api/v1/subsidies/staff/applications"
EN = {"Accept-Language": "en"}
FI = {"Accept-Language": "fi"}
ROLES = {
    "staff-handler": frozenset({"handler"}),
    "staff-decider": frozenset({"decider"}),
    "staff-admin": frozenset({"admin"}),
    "staff-payer": frozenset({"payer"}),
    "staff-payer2": frozenset({"payer"}),
}


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def post(client: TestClient, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(
        url, data={**(data or {}), "csrf_token": token(client)}, follow_redirects=False
    )
    return response


def api(client: TestClient, method: str, url: str, json: Any = None) -> httpx.Response:
    response: httpx.Response = client.request(
        method, url, json=json, headers={"X-CSRF-Token": token(client), **EN}
    )
    return response


def staff_login(client: TestClient, sub: str = "staff-handler") -> None:
    client.cookies.clear()
    answer = login(client, sub, staff=True)
    assert answer.status_code == 303, answer.text


def staff(db: Session, sub: str = "staff-handler") -> Actor:
    """The actor of a demo staff user who has logged in (the login made their user row); a
    stand-in user of the same name before that."""
    found = db.exec(
        select(User).where(User.kind == "staff", User.subject == sub).order_by(col(User.id).desc())
    ).first()
    if found is None:
        found = sf.user(db, kind="staff", subject=sub, name=sub)
    return Actor(kind="staff", user_id=str(found.id), provider="test", roles=ROLES[sub])


def sent(db: Session, store: FileStore, **kwargs: Any) -> Application:
    """A received application (committed: routes may roll back their own work)."""
    application = sf.submitted_application(db, store, **kwargs)
    db.commit()
    return application


def in_handling(
    db: Session, store: FileStore, sub: str = "staff-handler", **kwargs: Any
) -> Application:
    application = sent(db, store, **kwargs)
    handling.take(db, application=application, actor=staff(db, sub))
    db.commit()
    return application


def calculated(db: Session, store: FileStore, **kwargs: Any) -> Application:
    """In handling by the demo handler, with a current calculation: 70 % pay subsidy,
    2 × 800 € = 1 600 € (committed)."""
    application = in_handling(db, store, **kwargs)
    handling.calculate(
        db,
        application=application,
        data=CalculationIn(
            start_date=date(2023, 9, 1),
            end_date=date(2023, 10, 31),
            monthly_pay=Decimal("2500"),
            other_expenses=Decimal("200"),
            state_aid_max_percentage=100,
            pay_subsidies=[
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}  # type: ignore[list-item]
            ],
        ),
        actor=staff(db),
    )
    db.commit()
    return application


def information_needed(
    db: Session, store: FileStore, sub: str = "staff-handler", **kwargs: Any
) -> Application:
    application = in_handling(db, store, sub, **kwargs)
    handling.request_information(
        db,
        application=application,
        data=InformationRequestIn(message="Lisää palkkalaskelma.", steps=["employee"]),
        actor=staff(db, sub),
        base_url="http://testserver",
    )
    db.commit()
    return application


def outbox(db: Session, kind: str) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def audit_rows(db: Session, action: str, target_id: int | None = None) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action)
    if target_id is not None:
        statement = statement.where(AuditEvent.target_id == str(target_id))
    return list(db.exec(statement.order_by(col(AuditEvent.id))).all())


def linked_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/admin/subsidies/(\d+)"', html)]


def fresh(db: Session, application: Application) -> Application:
    db.expire_all()
    found = db.get(Application, application.id)
    assert found is not None
    return found
