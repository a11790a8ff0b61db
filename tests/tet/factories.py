"""Building blocks for TET tests: owners, actors and postings made through the service (never
by hand), so the search columns are what the service keeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from app.auth.models import User, UserKind
from app.security import Actor
from app.tet import service
from app.tet.models import TetPosting
from app.tet.repository import Owner
from app.tet.schemas import PostingIn

COMPANY = Owner(kind="company", id="2956285-9", name="Kahvila Esimerkki Oy")  # employer-one
OTHER_COMPANY = Owner(kind="company", id="3045112-8", name="Rakennus Demo Oy")
UNIT = Owner(kind="city_unit", id="Kasvatuksen ja koulutuksen toimiala", name="Helsingin kaupunki")


def editor(db: Session, sub: str = "tet-editor-test") -> User:
    """A user row to own edits (the service stamps created_by / updated_by)."""
    user = db.exec(select(User).where(User.subject == sub)).first()
    if user is None:
        user = User(kind=UserKind.employer, issuer="http://test", subject=sub, name="Test Editor")
        db.add(user)
        db.flush()
    return user


def actor_for(user: User, owner: Owner) -> Actor:
    if owner.kind == "company":
        return Actor(kind="employer", user_id=str(user.id), business_id=owner.id)
    return Actor(kind="staff", user_id=str(user.id), roles=frozenset({"tet"}))


def posting_data(**overrides: Any) -> dict[str, Any]:
    today = service.today()
    data: dict[str, Any] = {
        "title": "Myyjä",
        "org_unit": "Kallion myymälä",
        "street": "Fleminginkatu 1",
        "postcode": "00530",
        "city": "Helsinki",
        "description": "Pääset tutustumaan myymälän töihin: hyllytys, kassa ja asiakaspalvelu.",
        "contact_name": "Eija Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "eija@example.com",
        "start_date": today + timedelta(days=7),
        "end_date": today + timedelta(days=60),
        "spots": 2,
        "languages": ["fi"],
        "fields": ["retail"],
        "methods": ["real_work"],
        "features": ["customers"],
        "keywords": ["kauppa", "kassa"],
        "website": "www.example.com",
    }
    data.update(overrides)
    return data


def make_posting(
    db: Session, owner: Owner = COMPANY, *, publish: bool = True, **overrides: Any
) -> TetPosting:
    user = editor(db)
    service.confirm_supervisor(db, user_id=user.id or 0, owner=owner, actor=actor_for(user, owner))
    return service.save(
        db,
        owner=owner,
        actor=actor_for(user, owner),
        user_id=user.id or 0,
        data=PostingIn.model_validate(posting_data(**overrides)),
        publish=publish,
        accept_terms=publish,
    )
