"""Decisions that owe money, for the payment tests: an approved Kesäseteli claim (one item of the
year's voucher value) and an accepted Helsinki-lisä application (one item per instalment)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.documents.storage import FileStore
from app.payments.bank_file import PayerAccount
from app.payments.models import PaymentItem
from app.security import Actor
from app.subsidies import handling
from app.subsidies.models import Application
from app.subsidies.staff_schemas import CalculationIn, DecisionIn
from app.summer_voucher import claim_handling, claims
from app.summer_voucher.models import Claim
from app.summer_voucher.schemas import ClaimDecisionIn, ClaimSubmitIn
from tests.admin import subsidy_factories as hf
from tests.summer_voucher import factories as sf

PAYER = PayerAccount(
    name="Helsingin kaupunki", iban="FI2112345600000785", bic="NDEAFIHH", cost_centre="1800 Testi"
)
ADMIN = "/admin/payments"
API = "/api/v1/payments"


def approved_claim(
    db: Session,
    store: FileStore,
    *,
    business_id: str = "2956285-9",
    company_name: str = "Kahvila Esimerkki Oy",
    first_name: str = "Aino",
    last_name: str = "Virtanen",
    **fields: Any,
) -> Claim:
    """An approved claim (committed), its payment item made by the decision."""
    sf.company(db, business_id, company_name)
    actor = sf.employer(db, subject=f"employer-{business_id}", business_id=business_id)
    youth, voucher = sf.accepted_youth(db, first_name=first_name, last_name=last_name)
    claim = sf.filled_claim(db, store, actor=actor, youth=youth, voucher=voucher)
    if fields:
        claims.save_draft(
            db, claim=claim, data=sf.complete_fields(youth.year, **fields), actor=actor
        )
    claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)
    claim_handling.decide(
        db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=sf.staff(db)
    )
    db.commit()
    return claim


def accepted_application(
    db: Session,
    store: FileStore,
    *,
    monthly_pay: str = "2500",
    months: int = 2,
    instalments: bool = False,
    decider: str = "staff-decider",
) -> Application:
    """An accepted Helsinki-lisä application (committed). Two months of 800 € by default; with
    `instalments` and twelve months 18 000 €, paid 9 000 € now and 9 000 € six months on."""
    application = hf.in_handling(db, store)
    start = date(2023, 9, 1)
    end = date(2023, 10, 31) if months == 2 else date(2024, 8, 31)
    handling.calculate(
        db,
        application=application,
        data=CalculationIn(
            start_date=start,
            end_date=end,
            monthly_pay=Decimal(monthly_pay),
            other_expenses=Decimal("200"),
            state_aid_max_percentage=100,
            instalments_enabled=instalments,
            pay_subsidies=[]
            if instalments
            else [
                {"start_date": "2023-09-01", "end_date": "2023-10-31", "pay_subsidy_percent": 70}  # type: ignore[list-item]
            ],
        ),
        actor=hf.staff(db),
    )
    db.commit()
    handling.decide(
        db,
        application=application,
        data=DecisionIn(decision="accepted", granted_as_de_minimis_aid=False),
        actor=hf.staff(db, decider),
        base_url="http://testserver",
    )
    db.commit()
    return application


def items_of(db: Session, **where: Any) -> list[PaymentItem]:
    statement = select(PaymentItem)
    for name, value in where.items():
        statement = statement.where(getattr(PaymentItem, name) == value)
    db.expire_all()
    return list(db.exec(statement.order_by(col(PaymentItem.id))).all())


def payer(db: Session, sub: str = "staff-payer") -> Actor:
    return hf.staff(db, sub)


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def post(client: TestClient, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(
        url, data={**(data or {}), "csrf_token": token(client)}, follow_redirects=False
    )
    return response
