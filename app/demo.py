"""Demo data for `make run`: loaded by natural keys, so loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.companies.models import Company


@dataclass(frozen=True)
class DemoCompany:
    business_id: str
    name: str
    company_form: str
    industry: str
    street_address: str
    postcode: str
    city: str
    is_association: bool = False


# The organisations of the demo employers in the local test identity provider.
DEMO_COMPANIES = (
    DemoCompany(
        "2956285-9",
        "Kahvila Esimerkki Oy",
        "Osakeyhtiö",
        "Kahvilat ja kahvibaarit",
        "Mannerheimintie 1",
        "00100",
        "Helsinki",
    ),
    DemoCompany(
        "3045112-8",
        "Rakennus Demo Oy",
        "Osakeyhtiö",
        "Asuin- ja muiden rakennusten rakentaminen",
        "Hämeentie 15",
        "00500",
        "Helsinki",
    ),
    DemoCompany(
        "1234567-1",
        "Kallion Nuorisoyhdistys ry",
        "Aatteellinen yhdistys",
        "Muualla luokittelematon järjestötoiminta",
        "Fleminginkatu 10",
        "00530",
        "Helsinki",
        is_association=True,
    ),
)


def load_demo_data(session: Session) -> dict[str, int]:
    """Insert the demo rows that are missing; return how many of each were added."""
    existing = set(session.exec(select(Company.business_id)).all())
    added = 0
    for demo in DEMO_COMPANIES:
        if demo.business_id in existing:
            continue
        session.add(Company(**demo.__dict__))
        added += 1
    return {"companies": added}


# Demo users of the local test identity provider (`make run`; the README lists them). The `sub`
# values are a convention other tools rely on. `organizations` is the claim the `claims` mandate
# source reads; `groups` the staff role claim mapped by STAFF_ROLE_GROUPS.
DEMO_USERS: tuple[dict[str, object], ...] = (
    {
        "sub": "employer-one",
        "name": "Eija Esimerkki",
        "email": "eija.esimerkki@example.com",
        "acr": "substantial",
        "organizations": [
            {"business_id": "2956285-9", "name": "Kahvila Esimerkki Oy", "roles": ["NIMKO", "TJ"]}
        ],
    },
    {
        "sub": "employer-two-orgs",
        "name": "Kalle Kahdentoimi",
        "email": "kalle.kahdentoimi@example.com",
        "acr": "substantial",
        "organizations": [
            {"business_id": "3045112-8", "name": "Rakennus Demo Oy", "roles": ["NIMKO"]},
            {"business_id": "1234567-1", "name": "Kallion Nuorisoyhdistys ry", "roles": ["PJ"]},
        ],
    },
    {
        "sub": "no-orgs",
        "name": "Noora Nollanen",
        "email": "noora.nollanen@example.com",
        "acr": "substantial",
        "organizations": [],
    },
    {
        "sub": "staff-handler",
        "name": "Hanna Käsittelijä",
        "email": "hanna.kasittelija@hel.example",
        "groups": ["portal-handlers"],
    },
    {
        "sub": "staff-decider",
        "name": "Pekka Päättäjä",
        "email": "pekka.paattaja@hel.example",
        "groups": ["portal-deciders"],
    },
    {
        "sub": "staff-payer",
        "name": "Maija Maksaja",
        "email": "maija.maksaja@hel.example",
        "groups": ["portal-payers"],
    },
    {
        "sub": "staff-admin",
        "name": "Antti Ylläpitäjä",
        "email": "antti.yllapitaja@hel.example",
        "groups": ["portal-admins"],
    },
)
