"""The Helsinki-lisä decision as JSON (issue #7 §1): the same content as the decision letter.

- `GET /api/v1/subsidies/{application_id}/decision`: the employer acting for the application's
  company (the terms of service accepted). Another company's application, and one without a
  final decision (not decided yet, or returned to handling), answer 404.
- `GET /api/v1/subsidies/staff/applications/{application_id}/decision`: handlers, deciders and
  admins. A route has one access policy, so staff read the decision at their own URL.

Every read is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.dependencies import Auth, require_employer, require_staff
from app.deps import SessionDep
from app.subsidies import decision_document, handling
from app.subsidies.decision_document import DecisionContent
from app.subsidies.dependencies import ApplicantAuth, application_of, require_terms_of_service

require_handling = require_staff("handler", "decider", "admin")
HandlingAuth = Annotated[Auth, Depends(require_handling)]

employer_router = APIRouter(
    prefix="/api/v1/subsidies",
    dependencies=[Depends(require_employer), Depends(require_terms_of_service)],
    tags=["Helsinki benefit: employer applications"],
)
staff_router = APIRouter(
    prefix="/api/v1/subsidies/staff/applications",
    dependencies=[Depends(require_handling)],
    tags=["helsinki benefit handling"],
)


@employer_router.get(
    "/{application_id}/decision", response_model=DecisionContent, name="subsidy_decision_json"
)
def employer_decision(auth: ApplicantAuth, db: SessionDep, application_id: int) -> DecisionContent:
    """The final decision of the company's application, as its decision letter says it."""
    application = application_of(db, auth, application_id)
    content = decision_document.read_json(db, application=application, actor=auth.actor)
    db.commit()  # the audit row of the read
    return content


@staff_router.get(
    "/{application_id}/decision",
    response_model=DecisionContent,
    name="subsidy_staff_decision_json",
)
def staff_decision(auth: HandlingAuth, db: SessionDep, application_id: int) -> DecisionContent:
    """The application's decision in force, as its decision letter says it."""
    application = handling.get(db, application_id=application_id)
    content = decision_document.read_json(db, application=application, actor=auth.actor)
    db.commit()  # the audit row of the read
    return content


router = APIRouter()
router.include_router(employer_router)
router.include_router(staff_router)
