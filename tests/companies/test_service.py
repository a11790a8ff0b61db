"""Company use cases against the YTJ fake over real HTTP: create, fall back, refresh, race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.companies.models import Company
from app.companies.service import ensure_company, get_company, is_association
from app.companies.ytj import CompanyRegister, RegisterCompany, YtjClient
from app.config import Settings
from app.db import make_engine, utcnow
from app.security import Actor
from tests.companies.conftest import UNKNOWN_BUSINESS_ID
from tests.fakes.ytj import RATE_LIMITED, YtjFake

EMPLOYER = Actor(
    kind="employer", user_id="user-1", provider="https://tunnistus.example", business_id="2956285-9"
)


@pytest.fixture
def register(ytj: YtjClient) -> YtjClient:
    return ytj


@pytest.fixture
def ensure(db: Session, register: YtjClient, settings: Settings) -> Callable[..., Company]:
    """ensure_company in the test's session, as the employer, with the configured forms."""

    def call(
        business_id: str,
        *,
        fallback_name: str = "Nimi valtuutuksesta",
        register: CompanyRegister = register,
        refresh: bool = True,
    ) -> Company:
        return ensure_company(
            db,
            business_id=business_id,
            fallback_name=fallback_name,
            register=register,
            association_forms=settings.association_company_forms,
            actor=EMPLOYER,
            refresh=refresh,
        )

    return call


def _audit(session: Session, company: Company) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.target_type == "company", AuditEvent.target_id == str(company.id))
            .order_by(col(AuditEvent.id))
        ).all()
    )


@pytest.mark.parametrize(
    ("company_form", "expected"),
    [
        ("Aatteellinen yhdistys", True),
        ("aatteellinen YHDISTYS ", True),
        ("Ideell förening", True),
        ("Säätiö", True),
        ("Osakeyhtiö", False),
        ("Asunto-osakeyhtiö", False),
        (None, False),
        ("", False),
    ],
)
def test_is_association_matches_the_configured_forms(
    settings: Settings, company_form: str | None, expected: bool
) -> None:
    assert is_association(company_form, settings.association_company_forms) is expected


def test_first_use_creates_the_company_from_the_register(
    db: Session, ensure: Callable[..., Company]
) -> None:
    company = ensure("29562859", fallback_name="Kahvila E")
    assert company.id is not None
    assert company.business_id == "2956285-9"
    assert company.name == "Kahvila Esimerkki Oy"
    assert company.company_form == "Osakeyhtiö"
    assert company.industry == "Kahvilat ja kahvibaarit"
    assert (company.street_address, company.postcode, company.city) == (
        "Mannerheimintie 1",
        "00100",
        "Helsinki",
    )
    assert company.is_association is False
    assert company.register_refreshed_at is not None
    assert get_company(db, business_id="2956285-9") is company
    [event] = _audit(db, company)
    assert event.action == "company.create_from_register"
    assert event.actor_id == "user-1"
    assert event.business_id == "2956285-9"
    assert event.fields is not None
    assert "name" in event.fields.split(",")


@pytest.mark.parametrize(
    ("business_id", "expected"), [("1234567-1", True), ("3100005-4", True), ("3045112-8", False)]
)
def test_an_association_is_recognised_by_its_company_form(
    ensure: Callable[..., Company], business_id: str, expected: bool
) -> None:
    assert ensure(business_id).is_association is expected


@pytest.mark.parametrize("situation", ["down", "slow", "rate_limited", "unknown"])
def test_without_register_data_the_company_is_created_from_the_mandate(
    db: Session, fake: YtjFake, ensure: Callable[..., Company], situation: str
) -> None:
    business_id = UNKNOWN_BUSINESS_ID if situation == "unknown" else "2956285-9"
    if situation == "down":
        fake.server.down()
    elif situation == "rate_limited":
        fake.force(RATE_LIMITED)
    with YtjClient(fake.base_url, 0.2) as impatient:
        if situation == "slow":
            fake.server.delay = 0.5
        company = ensure(business_id, fallback_name="Kahvila E", register=impatient)
    assert len(fake.requests) == 1
    assert company.id is not None
    assert company.name == "Kahvila E"
    assert company.company_form is None
    assert company.is_association is False
    assert company.register_refreshed_at is None
    assert [e.action for e in _audit(db, company)] == ["company.create_from_mandate"]


def test_a_later_login_fills_in_a_company_created_from_the_mandate(
    db: Session, fake: YtjFake, ensure: Callable[..., Company]
) -> None:
    fake.server.down()
    first = ensure("1234567-1", fallback_name="Kallion Nuorisoyhdistys")
    assert first.register_refreshed_at is None
    fake.server.down(False)

    again = ensure("1234567-1", fallback_name="Kallion Nuorisoyhdistys")

    assert again.id == first.id
    assert again.name == "Kallion Nuorisoyhdistys ry"
    assert again.company_form == "Aatteellinen yhdistys"
    assert again.is_association is True
    assert again.register_refreshed_at is not None
    events = _audit(db, again)
    assert [e.action for e in events] == [
        "company.create_from_mandate",
        "company.refresh_from_register",
    ]
    assert events[1].fields is not None
    assert {"name", "company_form", "is_association", "city"} <= set(events[1].fields.split(","))
    assert len(db.exec(select(Company).where(Company.business_id == "1234567-1")).all()) == 1


def test_a_refresh_while_the_register_is_down_keeps_the_data(
    db: Session, fake: YtjFake, ensure: Callable[..., Company]
) -> None:
    company = ensure("3045112-8")
    before = company.model_dump()
    fake.server.down()

    again = ensure("3045112-8", fallback_name="Jotain muuta")

    assert again is company
    assert again.model_dump() == before
    assert [e.action for e in _audit(db, company)] == ["company.create_from_register"]


def test_a_refresh_takes_the_registers_changes(db: Session, ensure: Callable[..., Company]) -> None:
    company = ensure("3045112-8")
    company.name = "Vanha nimi Oy"
    refreshed_before = company.register_refreshed_at
    assert refreshed_before is not None

    again = ensure("3045112-8")

    assert again.name == "Rakennus Demo Oy"
    assert again.register_refreshed_at is not None
    assert again.register_refreshed_at >= refreshed_before
    assert _audit(db, company)[-1].fields == "name"


def test_without_refresh_an_existing_company_is_not_looked_up(
    fake: YtjFake, ensure: Callable[..., Company]
) -> None:
    company = ensure("2956285-9")
    assert ensure("2956285-9", refresh=False) is company
    assert len(fake.requests) == 1


def test_an_invalid_business_id_is_refused_before_anything_happens(
    db: Session, fake: YtjFake, ensure: Callable[..., Company]
) -> None:
    with pytest.raises(ValueError, match="business id"):
        ensure("2956285-8")
    assert fake.requests == []
    assert get_company(db, business_id="2956285-8") is None


def test_get_company_is_none_for_an_unknown_business_id(db: Session) -> None:
    assert get_company(db, business_id=UNKNOWN_BUSINESS_ID) is None


@dataclass
class _AnotherLoginMeanwhile:
    """A register call during which another login inserts the same company first."""

    register: CompanyRegister
    session: Session

    def fetch(self, business_id: str) -> RegisterCompany | None:
        found = self.register.fetch(business_id)
        self.session.connection().execute(
            insert(Company).values(
                business_id=business_id,
                name="Toisen kirjautumisen nimi",
                is_association=False,
                created_at=utcnow(),
            )
        )
        return found


def test_losing_the_insert_race_returns_the_row_that_won(
    db: Session, register: YtjClient, ensure: Callable[..., Company]
) -> None:
    company = ensure("2956285-9", register=_AnotherLoginMeanwhile(register, db))
    assert company.name == "Toisen kirjautumisen nimi"
    assert len(db.exec(select(Company).where(Company.business_id == "2956285-9")).all()) == 1
    assert _audit(db, company) == []  # the winner writes the creation's audit row
    # The caller's transaction is still usable after the lost insert.
    assert ensure("2956285-9").name == "Kahvila Esimerkki Oy"


@dataclass
class _Rendezvous:
    """Holds each caller until both have looked for the row, so both go on to insert it."""

    register: CompanyRegister
    barrier: threading.Barrier

    def fetch(self, business_id: str) -> RegisterCompany | None:
        self.barrier.wait()
        return self.register.fetch(business_id)


# SQLite lets one writer at a time and refuses a write from a transaction that read before
# another one committed ("database is locked"), so the unique constraint never gets to decide there.
@pytest.mark.postgres
def test_two_first_logins_at_once_end_with_one_company_and_no_error(
    database_url: str, register: YtjClient, settings: Settings
) -> None:
    business_id = "3045112-8"
    engine = make_engine(database_url)
    rendezvous = _Rendezvous(register, threading.Barrier(2, timeout=10))
    ids: list[int | None] = []
    errors: list[BaseException] = []

    def login(user_id: str) -> None:
        try:
            with Session(engine) as session:
                company = ensure_company(
                    session,
                    business_id=business_id,
                    fallback_name="Rakennus Demo",
                    register=rendezvous,
                    association_forms=settings.association_company_forms,
                    actor=Actor(kind="employer", user_id=user_id, business_id=business_id),
                )
                ids.append(company.id)
                session.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(f"user-{n}",)) for n in (1, 2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(ids) == 2
        assert ids[0] == ids[1]
        with Session(engine) as session:
            rows = session.exec(select(Company).where(Company.business_id == business_id)).all()
            assert len(rows) == 1
            creations = session.exec(
                select(AuditEvent).where(
                    AuditEvent.target_type == "company", AuditEvent.target_id == str(ids[0])
                )
            ).all()
            assert [e.action for e in creations] == ["company.create_from_register"]
    finally:
        # Audit rows are append-only and stay; the company row must not leak into other tests.
        with Session(engine) as session:
            for row in session.exec(select(Company).where(Company.business_id == business_id)):
                session.delete(row)
            session.commit()
        engine.dispose()
