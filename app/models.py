"""Every table, imported in one place so Alembic sees the whole schema.

tests/test_migrations.py checks that nothing the application defines is missing here.
"""

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.companies.models import Company
from app.db import metadata
from app.notifications.models import EmailTemplate, OutboxMessage
from app.pages.models import AccessibilityFeedback
from app.ratelimit import RateLimitBucket
from app.summer_voucher.models import (
    Claim,
    ClaimAttachment,
    School,
    TimelineEntry,
    Voucher,
    YearConfiguration,
    YouthApplication,
)

__all__ = [
    "AccessibilityFeedback",
    "AuditEvent",
    "Claim",
    "ClaimAttachment",
    "Company",
    "EmailTemplate",
    "OutboxMessage",
    "RateLimitBucket",
    "School",
    "TimelineEntry",
    "User",
    "UserSession",
    "Voucher",
    "YearConfiguration",
    "YouthApplication",
    "metadata",
]
