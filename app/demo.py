"""Demo data for `make run`: loaded by natural keys, so loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from app.companies.models import Company
from app.db import utcnow
from app.security import SYSTEM
from app.summer_voucher import service as summer_voucher
from app.summer_voucher.schemas import SchoolImportIn, YearConfigurationIn
from app.tet import service as tet
from app.tet.models import TetPosting
from app.tet.repository import Owner
from app.tet.schemas import PostingIn


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


DEMO_TET_UNIT = "Kasvatuksen ja koulutuksen toimiala"  # the demo user staff-tet's unit

# (business id or None for the city unit, the posting's values).
DEMO_TET_POSTINGS: tuple[tuple[str | None, dict[str, Any]], ...] = (
    (
        "2956285-9",
        {
            "title": "Kahvilatyöntekijä",
            "org_unit": "Kahvila Esimerkki, Mannerheimintie",
            "street": "Mannerheimintie 1",
            "postcode": "00100",
            "description": "Leivot pullia, palvelet asiakkaita ja opit kassan käytön.",
            "contact_name": "Eija Esimerkki",
            "contact_email": "eija.esimerkki@example.com",
            "languages": ["fi", "en"],
            "fields": ["food_service"],
            "methods": ["real_work"],
            "features": ["customers", "teamwork"],
            "keywords": ["leivonta", "asiakaspalvelu"],
            "spots": 2,
            "starts_in_days": 14,
            "lasts_days": 60,
        },
    ),
    (
        "3045112-8",
        {
            "title": "Rakennusapulainen",
            "org_unit": "Työmaa Kalasatama",
            "street": "Hermannin rantatie 5",
            "postcode": "00580",
            "description": "Tutustut rakennustyömaan arkeen ja työturvallisuuteen.",
            "contact_name": "Kalle Kahdentoimi",
            "contact_email": "kalle.kahdentoimi@example.com",
            "languages": ["fi"],
            "fields": ["construction"],
            "methods": ["shadowing", "real_work"],
            "features": ["outdoors", "physical"],
            "keywords": ["rakentaminen"],
            "spots": 1,
            "starts_in_days": 30,
        },
    ),
    (
        "1234567-1",
        {
            "title": "Nuorisotalon ohjaaja-apulainen",
            "org_unit": "Kallion nuorisotalo",
            "street": "Fleminginkatu 10",
            "postcode": "00530",
            "description": "Suunnittelet iltapäivän toimintaa ja ohjaat pelejä nuorille.",
            "contact_name": "Kalle Kahdentoimi",
            "contact_email": "kalle.kahdentoimi@example.com",
            "languages": ["fi", "sv"],
            "fields": ["education", "sports"],
            "methods": ["real_work"],
            "features": ["customers", "creative"],
            "keywords": ["nuoriso", "pelit"],
            "spots": 3,
            "starts_in_days": 7,
            "lasts_days": 120,
        },
    ),
    (
        None,
        {
            "title": "Koulunkäynnin avustaja",
            "org_unit": "Vuosaaren peruskoulu",
            "street": "Vuosaarentie 10",
            "postcode": "00980",
            "description": "Autat opettajaa luokassa ja välitunnilla; näet, millaista koulun työ on.",
            "contact_name": "Tiina Tet-ohjaaja",
            "contact_email": "tiina.tet-ohjaaja@hel.example",
            "languages": ["fi", "sv"],
            "fields": ["education", "public_sector"],
            "methods": ["shadowing"],
            "features": ["teamwork", "accessible"],
            "keywords": ["koulu"],
            "spots": 1,
            "starts_in_days": 21,
        },
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
    postings = _load_tet_postings(session)
    return {
        "companies": added,
        "summer_voucher_years": configs,
        "schools": schools,
        "tet_postings": postings,
    }


def _tet_owner(business_id: str | None) -> Owner:
    if business_id is None:
        return Owner(kind="city_unit", id=DEMO_TET_UNIT, name=tet.CITY_NAME)
    company = next(c for c in DEMO_COMPANIES if c.business_id == business_id)
    return Owner(kind="company", id=company.business_id, name=company.name)


def _load_tet_postings(session: Session) -> int:
    """Published TET postings of the demo organisations, so the pupils' search has results."""
    if session.exec(select(TetPosting.id)).first() is not None:
        return 0
    today = tet.today()
    for business_id, demo in DEMO_TET_POSTINGS:
        values = dict(demo)
        start = today + timedelta(days=int(values.pop("starts_in_days")))
        lasts = values.pop("lasts_days", None)  # none: ongoing
        data = PostingIn.model_validate(
            {
                **values,
                "start_date": start,
                "end_date": start + timedelta(days=int(lasts)) if lasts else None,
                "city": "Helsinki",
                "contact_phone": "040 123 4567",
            }
        )
        tet.save(
            session,
            owner=_tet_owner(business_id),
            actor=SYSTEM,
            user_id=None,
            data=data,
            publish=True,
            accept_terms=True,
        )
    return len(DEMO_TET_POSTINGS)


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
        # Payment batches need two payers: one builds, the other approves.
        "sub": "staff-payer2",
        "name": "Pirjo Toinenmaksaja",
        "email": "pirjo.toinenmaksaja@hel.example",
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
