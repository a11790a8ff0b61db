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
from app.subsidies.models import (
    Application,
    Attachment,
    Calculation,
    Counter,
    DeMinimisAid,
    FieldChange,
    Message,
    PreviousBenefit,
    ReviewMark,
    StatusEvent,
    Terms,
    TermsApproval,
    TermsConsent,
)
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
    "Application",
    "Attachment",
    "AuditEvent",
    "Calculation",
    "Claim",
    "ClaimAttachment",
    "Company",
    "Counter",
    "DeMinimisAid",
    "EmailTemplate",
    "FieldChange",
    "Message",
    "OutboxMessage",
    "PreviousBenefit",
    "RateLimitBucket",
    "ReviewMark",
    "School",
    "StatusEvent",
    "Terms",
    "TermsApproval",
    "TermsConsent",
    "TimelineEntry",
    "User",
    "UserSession",
    "Voucher",
    "YearConfiguration",
    "YouthApplication",
    "metadata",
]
