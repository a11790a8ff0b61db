"""Company use cases: the row a login acts for, created and refreshed from the trade register.

The register is a convenience, never a gate: when it is down, slow or does not know the business
id, the company is created from the mandate's name and the user goes on; a later login fills in
the register data. Company rows hold public register data only, so the audit rows name the company
id and changed field names, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.audit import record
from app.companies.models import Company
from app.companies.ytj import CompanyRegister, RegisterCompany, RegisterUnavailable
from app.db import utcnow
from app.logs import get_logger
from app.security import Actor
from app.types import normalize_business_id

log = get_logger("app.companies.service")

# The register fields copied onto the row; the name is among them, the business id is the key.
REGISTER_FIELDS = ("name", "company_form", "industry", "street_address", "postcode", "city")


def is_association(company_form: str | None, association_forms: Sequence[str]) -> bool:
    """Whether the form is one of the configured association forms (any case).

    Only the register's form counts, not the name: " ry" in a name is not proof, and a form is
    what the register vouches for.
    """
    if not company_form:
        return False
    wanted = company_form.strip().casefold()
    return any(wanted == form.strip().casefold() for form in association_forms)


def get_company(session: Session, *, business_id: str) -> Company | None:
    return session.exec(select(Company).where(Company.business_id == business_id)).first()


def ensure_company(
    session: Session,
    *,
    business_id: str,
    fallback_name: str,
    register: CompanyRegister,
    association_forms: Sequence[str],
    actor: Actor,
    refresh: bool = True,
) -> Company:
    """The company for `business_id`, created on first use and refreshed when `refresh` is set.

    Creation takes the register's data, else `fallback_name` (from the mandate) with
    `register_refreshed_at` None. A refresh that gets no answer keeps what the row has. Two first
    logins at once both succeed: the database's unique business id decides which insert wins, and
    the other one returns the winner's row. An invalid business id raises ValueError.
    """
    business_id = normalize_business_id(business_id)
    company = get_company(session, business_id=business_id)
    if company is not None and not refresh:
        return company
    found = _lookup(register, business_id)
    if company is None:
        return _create(
            session,
            business_id=business_id,
            fallback_name=fallback_name,
            found=found,
            association_forms=association_forms,
            actor=actor,
        )
    if found is not None:
        changed = _apply(company, found, association_forms)
        session.add(company)
        session.flush()
        record(
            session,
            actor=actor,
            action="company.refresh_from_register",
            target_type="company",
            target_id=company.id,
            fields=changed,
        )
    return company


def _lookup(register: CompanyRegister, business_id: str) -> RegisterCompany | None:
    try:
        return register.fetch(business_id)
    except RegisterUnavailable as exc:
        log.warning("company_register_unavailable", business_id=business_id, error=str(exc))
        return None


def _apply(company: Company, found: RegisterCompany, association_forms: Sequence[str]) -> list[str]:
    """Copy the register's data onto the row; return the names of the fields that changed."""
    changed: list[str] = []
    values: dict[str, object] = {name: getattr(found, name) for name in REGISTER_FIELDS}
    values["is_association"] = is_association(found.company_form, association_forms)
    for name, value in values.items():
        if getattr(company, name) != value:
            setattr(company, name, value)
            changed.append(name)
    company.register_refreshed_at = utcnow()
    return changed


def _create(
    session: Session,
    *,
    business_id: str,
    fallback_name: str,
    found: RegisterCompany | None,
    association_forms: Sequence[str],
    actor: Actor,
) -> Company:
    company = Company(business_id=business_id, name=fallback_name)
    fields = ["business_id", "name"]
    if found is not None:
        fields = ["business_id", *_apply(company, found, association_forms)]
    try:
        # A savepoint, so that losing the race to another login's insert leaves the caller's
        # transaction usable for reading the winner's row.
        with session.begin_nested():
            session.add(company)
    except IntegrityError:
        existing = get_company(session, business_id=business_id)
        if existing is None:
            raise
        log.info("company_created_concurrently", business_id=business_id)
        return existing
    record(
        session,
        actor=actor,
        action="company.create_from_register"
        if found is not None
        else "company.create_from_mandate",
        target_type="company",
        target_id=company.id,
        fields=fields,
    )
    return company
