"""JSON API for the public pages."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import SessionDep
from app.pages import service
from app.pages.schemas import FeedbackIn, FeedbackOut
from app.security import ANONYMOUS, Anonymous

router = APIRouter(prefix="/api/v1", dependencies=[Anonymous], tags=["accessibility"])


@router.post("/accessibility-feedback", status_code=201, response_model=FeedbackOut)
def give_feedback(feedback: FeedbackIn, session: SessionDep) -> FeedbackOut:
    """Send feedback on the service's accessibility (needs the X-CSRF-Token header)."""
    row = service.give_feedback(session, feedback=feedback, actor=ANONYMOUS)
    session.commit()
    return FeedbackOut.model_validate(row, from_attributes=True)
