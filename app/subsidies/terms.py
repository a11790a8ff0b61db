"""Helsinki-lisä terms: which version is in force, its consents, and the employer's acceptance
of the terms of service before anything else of the service is used (H2). The applicant's
terms at each submit (H19) use the same checks (service.submit).

Session first, keyword arguments; never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit
from app.db import utcnow
from app.errors import AppRedirect, ValidationFailed
from app.i18n import N_
from app.security import Actor
from app.subsidies.models import Terms, TermsApproval, TermsConsent, TermsKind
from app.subsidies.repository import company_of, user_id_of
from app.subsidies.schemas import TermsAcceptIn

HELSINKI = ZoneInfo("Europe/Helsinki")
TERMS_PATH = "/employer/subsidies/terms"


def helsinki_today() -> date:
    """Today in Helsinki: the calendar the dated rules and the terms are in."""
    return utcnow().astimezone(HELSINKI).date()


class TermsNotAccepted(AppRedirect):
    """Pages go to the terms page and come back (`?next=`); the API answers 403 with the code."""

    status_code = 403
    code = "terms_not_accepted"
    message = N_(
        "Accept the terms of service of the Helsinki benefit before using the service "
        "(GET and POST /api/v1/subsidies/terms-of-service)."
    )
    location = TERMS_PATH


def in_force(session: Session, *, kind: TermsKind, on: date | None = None) -> Terms | None:
    """The version of `kind` in force: the latest effective_from on or before the day."""
    return session.exec(
        select(Terms)
        .where(Terms.kind == kind, Terms.effective_from <= (on or helsinki_today()))
        .order_by(col(Terms.effective_from).desc(), col(Terms.id).desc())
        .limit(1)
    ).first()


def consents_of(session: Session, *, terms: Terms) -> list[TermsConsent]:
    return list(
        session.exec(
            select(TermsConsent)
            .where(TermsConsent.terms_id == terms.id)
            .order_by(col(TermsConsent.ordering), col(TermsConsent.id))
        ).all()
    )


def text_in(row: Terms | TermsConsent, language: str) -> str:
    """The body of terms or the text of a consent in fi/sv/en (Finnish if unknown)."""
    prefix = "body" if isinstance(row, Terms) else "text"
    value: Any = getattr(row, f"{prefix}_{language}", None) or getattr(row, f"{prefix}_fi")
    return str(value)


def _error(loc: tuple[Any, ...], kind: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": kind, "input": None, "ctx": {}}


def check_consents(
    session: Session, *, terms: Terms, data: TermsAcceptIn, field: str = "consent_ids"
) -> list[int]:
    """Every consent of `terms` ticked, and `terms` the version the person saw; else
    ValidationFailed with one error per unticked consent (loc: field, consent id)."""
    if data.terms_id is not None and data.terms_id != terms.id:
        raise ValidationFailed([_error((field,), "terms_changed")])
    consents = consents_of(session, terms=terms)
    ticked = set(data.consent_ids)
    errors = [
        _error((field, consent.id), "consent_required")
        for consent in consents
        if consent.id not in ticked
    ]
    if errors:
        raise ValidationFailed(errors)
    return [c.id for c in consents if c.id is not None]


def has_accepted_terms_of_service(session: Session, *, actor: Actor) -> bool:
    """True when the user has accepted the terms of service in force for the company they act
    for now (a new version asks again). No terms in force: nothing to accept."""
    terms = in_force(session, kind=TermsKind.terms_of_service)
    if terms is None:
        return True
    company = company_of(session, actor=actor)
    found = session.exec(
        select(TermsApproval.id).where(
            TermsApproval.terms_id == terms.id,
            TermsApproval.user_id == user_id_of(actor),
            TermsApproval.company_id == company.id,
            col(TermsApproval.application_id).is_(None),
        )
    ).first()
    return found is not None


def accept_terms_of_service(session: Session, *, actor: Actor, data: TermsAcceptIn) -> Terms | None:
    """Store the acceptance of the version in force with every consent (H2); accepting twice is
    the same as once. Returns the version accepted (None: no terms in force)."""
    terms = in_force(session, kind=TermsKind.terms_of_service)
    if terms is None:
        return None
    consent_ids = check_consents(session, terms=terms, data=data)
    if has_accepted_terms_of_service(session, actor=actor):
        return terms
    company = company_of(session, actor=actor)
    approval = TermsApproval(
        terms_id=terms.id or 0,
        user_id=user_id_of(actor),
        company_id=company.id or 0,
        consent_ids=consent_ids,
    )
    try:
        with session.begin_nested():
            session.add(approval)
            session.flush()
    except IntegrityError:
        # The same person accepted in another tab at the same moment: that acceptance stands.
        return terms
    audit.record(
        session,
        actor=actor,
        action="subsidy_terms.accept",
        target_type="subsidy_terms",
        target_id=terms.id,
        detail=f"kind={terms.kind};version={terms.version};consents={len(consent_ids)}",
    )
    return terms


def approve_for_application(
    session: Session,
    *,
    terms: Terms,
    consent_ids: Sequence[int],
    application_id: int,
    company_id: int,
    actor: Actor,
) -> TermsApproval | None:
    """The applicant's (or, for a paper application, the handler's) terms accepted at a submit;
    a resubmission under the same version keeps the first acceptance."""
    existing = session.exec(
        select(TermsApproval).where(
            TermsApproval.terms_id == terms.id, TermsApproval.application_id == application_id
        )
    ).first()
    if existing is not None:
        return None
    approval = TermsApproval(
        terms_id=terms.id or 0,
        user_id=user_id_of(actor),
        company_id=company_id,
        application_id=application_id,
        consent_ids=list(consent_ids),
    )
    session.add(approval)
    session.flush()
    return approval
