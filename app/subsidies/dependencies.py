"""The terms-of-service gate and the application loader of the employer's Helsinki-lisä routes.

Every employer route of the service (pages and API) but the terms' own depends on
`require_terms_of_service`: before the user has accepted the terms in force for the company they
act for, pages go to the terms page and come back, and the API answers 403 `terms_not_accepted`
(H2).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.auth.dependencies import Auth, EmployerAuth
from app.deps import SessionDep
from app.errors import NotFound
from app.subsidies import repository, service
from app.subsidies.models import Application
from app.subsidies.terms import TermsNotAccepted, has_accepted_terms_of_service


def require_terms_of_service(auth: EmployerAuth, db: SessionDep) -> Auth:
    """The employer (the access policy comes with EmployerAuth) who has accepted the terms."""
    if not has_accepted_terms_of_service(db, actor=auth.actor):
        raise TermsNotAccepted()
    return auth


ApplicantAuth = Annotated[Auth, Depends(require_terms_of_service)]


def application_of(db: Session, auth: Auth, application_id: int) -> Application:
    """The application of the company the employer acts for; any other answers 404 (and so
    does a paper application staff are still entering for the company)."""
    application = repository.get_for_employer(db, actor=auth.actor, application_id=application_id)
    if not service.visible_to_employer(application):
        raise NotFound()
    return application
