"""Helsinki-lisä queries, always scoped to who asks: an employer sees its company's applications,
staff see every application that has been sent (employers' drafts are theirs alone)."""

from __future__ import annotations

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.companies.models import Company
from app.companies.service import get_company
from app.errors import NotFound, PermissionDenied
from app.security import Actor
from app.subsidies.models import Application, ApplicationStatus


def user_id_of(actor: Actor) -> int:
    if actor.user_id is None or not actor.user_id.isdigit():
        raise PermissionDenied()
    return int(actor.user_id)


def company_of(session: Session, *, actor: Actor) -> Company:
    """The company the employer acts for now (a lost mandate loses access)."""
    company = get_company(session, business_id=actor.business_id) if actor.business_id else None
    if company is None:
        raise PermissionDenied()
    return company


def for_company(company_id: int) -> SelectOfScalar[Application]:
    return select(Application).where(Application.company_id == company_id)


def for_staff() -> SelectOfScalar[Application]:
    return select(Application).where(Application.status != ApplicationStatus.draft)


def get_for_employer(session: Session, *, actor: Actor, application_id: int) -> Application:
    """The application if it belongs to the company the employer acts for; else 404."""
    company = company_of(session, actor=actor)
    found = session.exec(
        for_company(company.id or 0).where(Application.id == application_id)
    ).first()
    if found is None:
        raise NotFound()
    return found


def get_for_staff(session: Session, *, application_id: int) -> Application:
    found = session.exec(for_staff().where(Application.id == application_id)).first()
    if found is None:
        raise NotFound()
    return found
