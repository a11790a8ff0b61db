from __future__ import annotations

from sqlmodel import Session

from app import audit
from app.i18n import current_language
from app.pages.models import AccessibilityFeedback
from app.pages.schemas import FeedbackIn
from app.security import Actor


def give_feedback(session: Session, *, feedback: FeedbackIn, actor: Actor) -> AccessibilityFeedback:
    """Store accessibility feedback; the e-mail address is personal data, so the write is audited."""
    row = AccessibilityFeedback(
        language=current_language(),
        page=feedback.page,
        message=feedback.message,
        email=feedback.email,
        wants_reply=feedback.wants_reply,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="accessibility_feedback.create",
        target_type="accessibility_feedback",
        target_id=row.id,
        fields=[name for name in ("message", "page", "email") if getattr(feedback, name)],
    )
    return row
