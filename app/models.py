"""Every table, imported in one place so Alembic sees the whole schema."""

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.companies.models import Company
from app.db import metadata
from app.notifications.models import OutboxMessage
from app.pages.models import AccessibilityFeedback

__all__ = [
    "AccessibilityFeedback",
    "AuditEvent",
    "Company",
    "OutboxMessage",
    "User",
    "UserSession",
    "metadata",
]
