"""Demo data for `make run`: loaded by natural keys, so loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.companies.models import Company
from app.db import utcnow
from app.security import SYSTEM
from app.summer_voucher import service as summer_voucher
from app.summer_voucher.schemas import SchoolImportIn, YearConfigurationIn


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


DEMO_SCHOOLS = (
    "Arabian peruskoulu",
    "Kallion lukio",
    "Helsingin kuvataidelukio",
    "Vallilan peruskoulu",
    "Stadin ammatti- ja aikuisopisto",
    "Svenska normallyceum",
    "Töölön yhteiskoulu",
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
    # Kesäseteli open all this year, so the youth form can be tried at once.
    year = utcnow().astimezone(summer_voucher.HELSINKI).year
    configs = 0
    if summer_voucher.configuration_for(session, year=year) is None:
        defaults = summer_voucher.default_configuration(year=year)
        summer_voucher.save_configuration(
            session,
            data=YearConfigurationIn.model_validate({**defaults, "closes_on": f"{year}-12-31"}),
            actor=SYSTEM,
        )
        configs = 1
    schools = summer_voucher.import_schools(
        session, data=SchoolImportIn(names="\n".join(DEMO_SCHOOLS)), actor=SYSTEM
    )
    return {"companies": added, "summer_voucher_years": configs, "schools": schools}


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
    {
        "sub": "staff-tet",
        "name": "Tiina Tet-ohjaaja",
        "email": "tiina.tet-ohjaaja@hel.example",
        "groups": ["portal-tet-editors"],
        "department": "Kasvatuksen ja koulutuksen toimiala",
    },
)
