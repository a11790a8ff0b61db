"""The Kesäseteli claim's decision receipt (issue #7 §1): a short PDF in the claim's language and
the same content as JSON, made when the claim is approved or rejected (claim_handling.decide)
and stored in the same transaction: the claim, the company, the young person's name (never an
identity code), the voucher's serial, the amount to pay or the reason for the rejection, the
date of the decision and the handler. A claim's decision is final: one receipt per claim.

Session first, keyword arguments; never commits. Every download is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Session, select

from app import audit, i18n
from app.companies.models import Company
from app.documents import pdf
from app.errors import InvalidTransition, NotFound
from app.security import Actor
from app.summer_voucher import claims
from app.summer_voucher import timeline as timeline_events
from app.summer_voucher.models import Claim, ClaimReceipt, ClaimStatus
from app.templating import HELSINKI_TZ

TEMPLATE = "summer_voucher/claim_receipt_pdf.html"
TARGET = "summer_voucher_claim"
FILE_NAMES = {
    "fi": "kesaseteli-paatos",
    "sv": "sommarsedel-beslut",
    "en": "summer-job-voucher-decision",
}


class ReceiptCompany(BaseModel):
    name: str
    business_id: str


class ReceiptContent(BaseModel):
    """The receipt as data. Money is a decimal string in JSON ("350.00"), dates ISO 8601."""

    version: Literal[1] = 1
    claim_id: int
    language: str
    decision: Literal["accepted", "rejected"]
    currency: Literal["EUR"] = "EUR"
    amount: Decimal | None  # what the city pays; None when rejected
    reason: str | None  # the reason for the rejection
    decided_at: datetime
    decision_date: date
    handler: str
    company: ReceiptCompany
    youth_name: str | None
    serial: str | None


def _language(claim: Claim) -> str:
    return claim.language if claim.language in i18n.LANGUAGES else "fi"


def content_of(session: Session, *, claim: Claim, handler: str) -> ReceiptContent:
    """The decided claim's receipt content."""
    if claim.status not in (ClaimStatus.accepted, ClaimStatus.rejected) or not claim.decided_at:
        raise InvalidTransition()
    company = session.get(Company, claim.company_id)
    employee = claims.employee_of(session, claim=claim)
    accepted = claim.status == ClaimStatus.accepted
    return ReceiptContent(
        claim_id=claim.id or 0,
        language=_language(claim),
        decision="accepted" if accepted else "rejected",
        amount=claim.amount if accepted else None,
        reason=None if accepted else claim.decision_reason,
        decided_at=claim.decided_at,
        decision_date=claim.decided_at.astimezone(HELSINKI_TZ).date(),
        handler=handler,
        company=ReceiptCompany(
            name=company.name if company else "", business_id=company.business_id if company else ""
        ),
        youth_name=employee.name if employee else claim.employee_name,
        serial=employee.serial if employee else None,
    )


def receipt_html(content: ReceiptContent) -> str:
    """The HTML the PDF is made from, in the claim's language."""
    return pdf.render_html(TEMPLATE, {"c": content}, content.language)


def file_name(content: ReceiptContent) -> str:
    stem = FILE_NAMES.get(content.language, FILE_NAMES["fi"])
    return f"{stem}-{content.serial or content.claim_id}.pdf"


def store(session: Session, *, claim: Claim, actor: Actor) -> ClaimReceipt:
    """The receipt of the decision just made, in the caller's transaction."""
    handler = timeline_events.actor_name(session, actor)
    content = content_of(session, claim=claim, handler=handler)
    receipt = ClaimReceipt(
        claim_id=claim.id or 0,
        language=content.language,
        pdf=pdf.html_to_pdf(receipt_html(content)),
        content=content.model_dump(mode="json"),
        decided_by=handler,
    )
    session.add(receipt)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher_claim.receipt.create",
        target_type=TARGET,
        target_id=claim.id,
        detail=f"receipt={receipt.id};language={receipt.language}",
    )
    return receipt


@dataclass(frozen=True)
class ReceiptInfo:
    """What a page shows of the receipt (without loading the PDF)."""

    id: int
    created_at: datetime


def info(session: Session, *, claim: Claim) -> ReceiptInfo | None:
    if claim.status not in (ClaimStatus.accepted, ClaimStatus.rejected):
        return None
    found = session.exec(
        select(ClaimReceipt.id, ClaimReceipt.created_at).where(ClaimReceipt.claim_id == claim.id)
    ).first()
    return ReceiptInfo(id=found[0] or 0, created_at=found[1]) if found else None


def read_pdf(session: Session, *, claim: Claim, actor: Actor) -> tuple[bytes, str]:
    """The claim's receipt and its file name (audited); 404 before the decision."""
    receipt = session.exec(select(ClaimReceipt).where(ClaimReceipt.claim_id == claim.id)).first()
    if receipt is None:
        raise NotFound()
    audit.record_read(
        session,
        actor=actor,
        action="summer_voucher_claim.receipt.read",
        target_type=TARGET,
        target_id=claim.id,
        fields=["employee_name"],
        detail=f"receipt={receipt.id}",
    )
    return receipt.pdf, file_name(ReceiptContent.model_validate(receipt.content))
