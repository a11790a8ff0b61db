"""Every table, imported in one place so Alembic sees the whole schema.

tests/test_migrations.py checks that nothing the application defines is missing here.
"""

from app.audit import AuditEvent
from app.auth.models import User, UserSession
from app.companies.models import Company
from app.db import metadata
from app.notifications.models import EmailTemplate, OutboxMessage
from app.pages.models import AccessibilityFeedback
from app.payments.models import PaymentBatch, PaymentBatchItem, PaymentEvent, PaymentItem
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
from app.tet.models import (
    SEARCH_COLUMNS,
    SEARCH_INDEXES,
    SEARCH_TABLE_PREFIX,
    TetClassification,
    TetPosting,
    TetPostingClassification,
    TetSupervisorConfirmation,
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
    "PaymentBatch",
    "PaymentBatchItem",
    "PaymentEvent",
    "PaymentItem",
    "PreviousBenefit",
    "RateLimitBucket",
    "ReviewMark",
    "School",
    "StatusEvent",
    "Terms",
    "TermsApproval",
    "TermsConsent",
    "TetClassification",
    "TetPosting",
    "TetPostingClassification",
    "TetSupervisorConfirmation",
    "TimelineEntry",
    "User",
    "UserSession",
    "Voucher",
    "YearConfiguration",
    "YouthApplication",
    "metadata",
]


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """For Alembic's comparison of the models with the database: leaves out the search objects
    the migrations create outside the models (app.tet.models)."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    if type_ == "column" and name in SEARCH_COLUMNS:
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)
