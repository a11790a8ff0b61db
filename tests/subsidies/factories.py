"""Building blocks for Helsinki-lisä tests: logged-in employer clients (terms accepted), actors,
step data, and applications made through the service (never by hand): a draft, a complete
draft, a sent application. The staff side's tests use these too."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User
from app.companies.models import Company
from app.documents.storage import FileStore
from app.documents.uploads import check_upload
from app.security import Actor
from app.subsidies import attachments, service, terms
from app.subsidies.models import Application, AttachmentType, TermsKind
from app.subsidies.schemas import (
    DeMinimisStepIn,
    EmployeeStepIn,
    EmployerStepIn,
    PeriodStepIn,
    SubmitIn,
    TermsAcceptIn,
)
from tests.conftest import login
from tests.summer_voucher.factories import PDF, jpeg_bytes, png_bytes

__all__ = ["PDF", "jpeg_bytes", "png_bytes"]

COMPANY = "2956285-9"  # Kahvila Esimerkki Oy: employer-one's only organisation
OTHER_COMPANY = "3045112-8"  # Rakennus Demo Oy: employer-two-orgs's first organisation
ASSOCIATION = "1234567-1"  # Kallion Nuorisoyhdistys ry: employer-two-orgs's second
_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(birth: str = "010190", individual: int = 123, century: str = "-") -> str:
    """A valid personal identity code (birth date ddmmyy, individual number 002-899)."""
    number = f"{individual:03d}"
    return f"{birth}{century}{number}{_CHECK[int(birth + number) % 31]}"


# --- Through HTTP -------------------------------------------------------------------------------


def csrf_token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def accept_terms(client: TestClient, db: Session) -> None:
    """Accept the terms of service in force through the page, every consent ticked."""
    current = terms.in_force(db, kind=TermsKind.terms_of_service)
    assert current is not None
    consent_ids = [str(c.id) for c in terms.consents_of(db, terms=current)]
    answer = client.post(
        "/employer/subsidies/terms",
        data={
            "csrf_token": csrf_token(client),
            "terms_id": str(current.id),
            "consent_ids": consent_ids,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def employer_client(
    client: TestClient,
    db: Session | None = None,
    *,
    sub: str = "employer-one",
    business_id: str | None = None,
    language: str = "en",
    accept: bool = True,
) -> TestClient:
    """Log `client` in as a demo employer (choosing `business_id` when the user has several
    organisations) and, with a session `db`, accept the terms of service."""
    client.headers["Accept-Language"] = language
    answer = login(client, sub)
    assert answer.status_code == 303
    if answer.headers["location"].startswith("/employer/organisations"):
        client.post(
            "/employer/organisations",
            data={"business_id": business_id or OTHER_COMPANY, "csrf_token": csrf_token(client)},
        )
    if accept and db is not None:
        accept_terms(client, db)
    return client


def logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    client.cookies.clear()


def new_application(client: TestClient) -> str:
    """ "Start a new application": the draft's path."""
    answer = client.post(
        "/employer/subsidies/applications",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location = str(answer.headers["location"])
    assert location.endswith("/steps/employer")
    return location.removesuffix("/steps/employer")


def post_step(
    client: TestClient, path: str, step: str, data: dict[str, Any], action: str = "continue"
) -> httpx.Response:
    body = {"csrf_token": csrf_token(client), "action": action, **data}
    response: httpx.Response = client.post(
        f"{path}/steps/{step}", data=body, follow_redirects=False
    )
    return response


def upload(
    client: TestClient, path: str, kind: str, content: bytes = PDF, name: str = "file.pdf"
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{path}/attachments",
        data={"csrf_token": csrf_token(client), "kind": kind},
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )
    return response


def employer_form(**changes: str) -> dict[str, str]:
    values = {
        "iban": "FI21 1234 5600 0007 85",
        "contact_first_name": "Eija",
        "contact_last_name": "Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "eija@example.com",
        "language": "en",
        "co_operation_negotiations": "false",
        "other_subsidised_employed": "false",
    }
    values.update(changes)
    return values


def employee_form(**changes: str) -> dict[str, str]:
    values = {
        "employee_first_name": "Aino",
        "employee_last_name": "Virtanen",
        "employee_hetu": hetu(),
        "is_living_in_helsinki": "true",
        "job_title": "Kokki",
        "working_hours": "37,5",
        "collective_bargaining_agreement": "Matkailu-, ravintola- ja vapaa-ajan palveluja",
        "monthly_pay": "2 500,00",
        "vacation_money": "0",
        "other_expenses": "500",
        "pay_subsidy_granted": "false",
        "apprenticeship_program": "false",
    }
    values.update(changes)
    return values


def period_form(start: date | None = None, months: int = 6) -> dict[str, str]:
    first = start or recent_start()
    return {
        "start_date": first.isoformat(),
        "end_date": (service.add_months(first, months) - timedelta(days=1)).isoformat(),
    }


def fill_in(client: TestClient, path: str, *, association: bool = False) -> None:
    """Every step of a draft through the pages, files included."""
    extra = {"association_has_business_activities": "true"} if association else {}
    assert post_step(client, path, "employer", employer_form(**extra)).status_code == 303
    assert post_step(client, path, "de_minimis", {"de_minimis_aid": "false"}).status_code == 303
    more = {"association_immediate_manager_check": "true"} if association else {}
    assert post_step(client, path, "employee", employee_form(**more)).status_code == 303
    assert post_step(client, path, "period", period_form()).status_code == 303
    for kind in ("employment_contract", "employee_consent"):
        assert upload(client, path, kind).status_code == 303


def consent_form(db: Session, kind: TermsKind = TermsKind.applicant_terms) -> dict[str, Any]:
    current = terms.in_force(db, kind=kind)
    assert current is not None
    return {
        "terms_id": str(current.id),
        "consent_ids": [str(c.id) for c in terms.consents_of(db, terms=current)],
    }


def submit_form(client: TestClient, path: str, db: Session) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{path}/submit",
        data={"csrf_token": csrf_token(client), **consent_form(db)},
        follow_redirects=False,
    )
    return response


# --- Through the service --------------------------------------------------------------------------


def recent_start() -> date:
    """A start date within the four months a first submission allows."""
    return service.today() - timedelta(days=14)


def company(
    db: Session,
    business_id: str = COMPANY,
    name: str = "Kahvila Esimerkki Oy",
    *,
    is_association: bool = False,
) -> Company:
    found = db.exec(select(Company).where(Company.business_id == business_id)).first()
    if found:
        return found
    row = Company(
        business_id=business_id,
        name=name,
        company_form="Aatteellinen yhdistys" if is_association else "Osakeyhtiö",
        street_address="Mannerheimintie 1",
        postcode="00100",
        city="Helsinki",
        is_association=is_association,
    )
    db.add(row)
    db.flush()
    return row


def user(db: Session, *, kind: str, subject: str, name: str) -> User:
    found = db.exec(select(User).where(User.kind == kind, User.subject == subject)).first()
    if found:
        return found
    row = User(kind=kind, issuer="http://test-issuer", subject=subject, name=name)
    db.add(row)
    db.flush()
    return row


def employer_actor(
    db: Session,
    *,
    subject: str = "subsidy-employer",
    business_id: str = COMPANY,
    is_association: bool = False,
    accept: bool = True,
) -> Actor:
    """An employer acting for `business_id`, the terms of service accepted."""
    company(db, business_id, is_association=is_association)
    person = user(db, kind="employer", subject=subject, name="Essi Esimerkki")
    actor = Actor(kind="employer", user_id=str(person.id), provider="test", business_id=business_id)
    if accept:
        current = terms.in_force(db, kind=TermsKind.terms_of_service)
        assert current is not None
        ids = [c.id or 0 for c in terms.consents_of(db, terms=current)]
        terms.accept_terms_of_service(
            db, actor=actor, data=TermsAcceptIn(terms_id=current.id, consent_ids=ids)
        )
    return actor


def staff_actor(
    db: Session,
    *,
    subject: str = "subsidy-handler",
    roles: frozenset[str] = frozenset({"handler"}),
    name: str = "Hanna Käsittelijä",
) -> Actor:
    person = user(db, kind="staff", subject=subject, name=name)
    return Actor(kind="staff", user_id=str(person.id), provider="test", roles=roles)


def employer_step(**changes: Any) -> EmployerStepIn:
    values: dict[str, Any] = {
        "iban": "FI21 1234 5600 0007 85",
        "contact_first_name": "Eija",
        "contact_last_name": "Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "eija@example.com",
        "co_operation_negotiations": False,
        "other_subsidised_employed": False,
    }
    values.update(changes)
    return EmployerStepIn.model_validate(values)


def de_minimis_step(**changes: Any) -> DeMinimisStepIn:
    values: dict[str, Any] = {"de_minimis_aid": False, "aids": []}
    values.update(changes)
    return DeMinimisStepIn.model_validate(values)


def employee_step(**changes: Any) -> EmployeeStepIn:
    values: dict[str, Any] = {
        "employee_first_name": "Aino",
        "employee_last_name": "Virtanen",
        "employee_hetu": hetu(),
        "is_living_in_helsinki": True,
        "job_title": "Kokki",
        "working_hours": "37.5",
        "collective_bargaining_agreement": "Matkailu-, ravintola- ja vapaa-ajan palveluja",
        "monthly_pay": "2500",
        "vacation_money": "0",
        "other_expenses": "500",
        "pay_subsidy_granted": False,
        "apprenticeship_program": False,
    }
    values.update(changes)
    return EmployeeStepIn.model_validate(values)


def period_step(start: date | None = None, months: int = 6) -> PeriodStepIn:
    first = start or recent_start()
    return PeriodStepIn(
        start_date=first, end_date=service.add_months(first, months) - timedelta(days=1)
    )


def draft_application(db: Session, *, actor: Actor | None = None) -> Application:
    """An empty draft of the actor's company."""
    return service.create_draft(db, actor=actor or employer_actor(db), language="fi")


def complete_application(
    db: Session,
    store: FileStore,
    *,
    actor: Actor | None = None,
    employee: dict[str, Any] | None = None,
    employer: dict[str, Any] | None = None,
    period: PeriodStepIn | None = None,
) -> Application:
    """A draft with every step filled in and the required files: ready to send."""
    actor = actor or employer_actor(db)
    application = draft_application(db, actor=actor)
    association = application.is_association
    employer_values = {"association_has_business_activities": True} if association else {}
    employer_values.update(employer or {})
    steps: list[tuple[str, Any]] = [
        ("employer", employer_step(**employer_values)),
        ("de_minimis", de_minimis_step()),
        (
            "employee",
            employee_step(
                **({"association_immediate_manager_check": True} if association else {}),
                **(employee or {}),
            ),
        ),
        ("period", period or period_step()),
    ]
    for step, data in steps:
        service.save_step(db, application=application, step=step, data=data, actor=actor)
    kinds = [k.value for k in service.required_attachments(application)]
    for kind in kinds:
        attachments.add(
            db,
            application=application,
            kind=AttachmentType(kind),
            upload=check_upload(PDF, f"{kind}.pdf"),
            store=store,
            actor=actor,
        )
    return application


def applicant_consents(db: Session) -> SubmitIn:
    current = terms.in_force(db, kind=TermsKind.applicant_terms)
    assert current is not None
    return SubmitIn(
        terms_id=current.id, consent_ids=[c.id or 0 for c in terms.consents_of(db, terms=current)]
    )


def submitted_application(
    db: Session, store: FileStore, *, actor: Actor | None = None, **kwargs: Any
) -> Application:
    """A complete application sent through the service: status received, with its number."""
    actor = actor or employer_actor(db)
    application = complete_application(db, store, actor=actor, **kwargs)
    service.submit(db, application=application, data=applicant_consents(db), actor=actor)
    return application
