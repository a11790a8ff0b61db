"""The Kesäseteli claim's decision receipt (issue #7 §1): stored as PDF and JSON when a claim is
approved or rejected, in the claim's language, with the youth's name but never an identity
code; the employer downloads it from their claim page and staff from the claim detail, each
download audited; nothing before the decision, nothing for another company.

No PDF text library is installed, so the receipt's text is checked in the HTML it is rendered
from (receipts.receipt_html of the stored JSON) and the PDF by its structure."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.documents.storage import FileStore
from app.errors import InvalidTransition
from app.summer_voucher import claim_handling, claims, receipts
from app.summer_voucher.models import Claim, ClaimReceipt, ClaimStatus
from app.summer_voucher.receipts import ReceiptContent
from app.summer_voucher.schemas import ClaimDecisionIn
from app.templating import HELSINKI_TZ
from tests.conftest import login
from tests.subsidies import factories as sf
from tests.summer_voucher import factories as f

ADMIN = "/admin/summer-voucher/claims"
EMPLOYER = "/employer/summer-voucher/claims"
YOUTH_HETU = sf.hetu("040510", 123, "A")


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def sent_claim(db: Session, store: FileStore, *, language: str = "fi") -> Claim:
    """A claim sent by an employer of Kahvila Esimerkki Oy (employer-one's organisation), for a
    youth whose identity code is known (committed: routes may roll back)."""
    actor = f.employer(db, subject="receipt-employer")
    youth, voucher = f.accepted_youth(db, first_name="Aino", last_name="Virtanen")
    youth.hetu = YOUTH_HETU
    db.add(youth)
    claim = f.submitted_claim(db, store, actor=actor, youth=youth, voucher=voucher)
    claim.language = language  # as if the employer had used the service in this language
    db.add(claim)
    db.commit()
    return claim


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def post(client: TestClient, url: str, **data: str) -> httpx.Response:
    response: httpx.Response = client.post(
        url, data={**data, "csrf_token": token(client)}, follow_redirects=False
    )
    return response


def staff_login(client: TestClient, sub: str = "staff-handler") -> None:
    client.cookies.clear()
    assert login(client, sub, staff=True).status_code == 303


def employer_login(client: TestClient, sub: str = "employer-one") -> None:
    client.cookies.clear()
    answer = login(client, sub)
    assert answer.status_code == 303
    if answer.headers["location"].startswith("/employer/organisations"):
        client.post(
            "/employer/organisations",
            data={"business_id": "3045112-8", "csrf_token": token(client)},
        )


def receipts_of(db: Session, claim: Claim) -> list[ClaimReceipt]:
    db.expire_all()
    return list(db.exec(select(ClaimReceipt).where(ClaimReceipt.claim_id == claim.id)).all())


def audit_rows(db: Session, action: str, claim: Claim) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.target_id == str(claim.id))
            .order_by(col(AuditEvent.id))
        ).all()
    )


def assert_pdf(content: bytes) -> None:
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")


def test_approving_stores_the_receipt_in_the_claims_language(
    client: TestClient, db: Session, store: FileStore
) -> None:
    claim = sent_claim(db, store, language="sv")
    serial = claims.serial_of(db, claim)
    staff_login(client)
    assert post(client, f"{ADMIN}/{claim.id}/decision", decision="accepted").status_code == 303
    [receipt] = receipts_of(db, claim)
    claim = db.get(Claim, claim.id)  # type: ignore[assignment]
    assert claim.status == ClaimStatus.accepted
    assert receipt.language == "sv"
    assert receipt.decided_by == "Hanna Käsittelijä"
    assert_pdf(receipt.pdf)
    content = ReceiptContent.model_validate(receipt.content)
    assert content.decision == "accepted"
    assert content.claim_id == claim.id
    assert content.amount == claim.amount
    assert content.amount is not None
    assert content.amount > Decimal(0)
    assert content.reason is None
    assert content.company.name == "Kahvila Esimerkki Oy"
    assert content.company.business_id == "2956285-9"
    assert content.youth_name == "Aino Virtanen"
    assert content.serial == serial
    assert content.handler == "Hanna Käsittelijä"
    assert claim.decided_at is not None
    assert content.decision_date == claim.decided_at.astimezone(HELSINKI_TZ).date()
    stored = json.dumps(receipt.content)
    assert YOUTH_HETU not in stored
    assert "040510" not in stored
    html = receipts.receipt_html(content)
    assert 'lang="sv"' in html
    assert "Ansökan om ersättning för sommarsedel: beslut" in html
    assert "Belopp som betalas" in html
    assert "Godkänd" in html
    assert "Aino Virtanen" in html
    assert str(serial) in html
    assert "Hanna Käsittelijä" in html
    assert YOUTH_HETU not in html
    assert "040510" not in html
    assert audit_rows(db, "summer_voucher_claim.receipt.create", claim)


def test_rejecting_stores_the_receipt_with_the_reason(db: Session, store: FileStore) -> None:
    claim = sent_claim(db, store)
    claim_handling.decide(
        db,
        claim=claim,
        data=ClaimDecisionIn(decision="rejected", reason="Työsuhde alkoi ennen setelin saamista."),
        actor=f.staff(db),
    )
    db.commit()
    [receipt] = receipts_of(db, claim)
    assert receipt.language == "fi"
    assert receipt.decided_by == "Kaisa Käsittelijä"
    assert_pdf(receipt.pdf)
    content = ReceiptContent.model_validate(receipt.content)
    assert content.decision == "rejected"
    assert content.amount is None
    assert content.reason == "Työsuhde alkoi ennen setelin saamista."
    html = receipts.receipt_html(content)
    assert "Kesäsetelin korvaushakemus: päätös" in html
    assert "Hylkäämisen perustelu" in html
    assert "Työsuhde alkoi ennen setelin saamista." in html
    assert "Hakemus hylättiin: korvausta ei makseta." in html
    assert YOUTH_HETU not in html


def test_a_refused_second_decision_stores_no_receipt(db: Session, store: FileStore) -> None:
    claim = sent_claim(db, store)
    claim_handling.decide(
        db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
    )
    db.commit()
    with pytest.raises(InvalidTransition):  # a decided claim stays decided
        claim_handling.decide(
            db,
            claim=claim,
            data=ClaimDecisionIn(decision="rejected", reason="Ei"),
            actor=f.staff(db),
        )
    db.rollback()
    assert len(receipts_of(db, claim)) == 1


def test_the_employer_downloads_the_receipt_from_the_claim_page(
    client: TestClient, db: Session, store: FileStore
) -> None:
    claim = sent_claim(db, store)
    link = f"{EMPLOYER}/{claim.id}/receipt"
    employer_login(client)
    before = client.get(f"{EMPLOYER}/{claim.id}")
    assert before.status_code == 200
    assert link not in before.text
    assert client.get(link).status_code == 404

    claim_handling.decide(
        db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
    )
    db.commit()
    [receipt] = receipts_of(db, claim)
    page = client.get(f"{EMPLOYER}/{claim.id}")
    assert f'href="{link}"' in page.text
    answer = client.get(link)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert (
        f'filename="kesaseteli-paatos-{claims.serial_of(db, claim)}.pdf"'
        in (answer.headers["content-disposition"])
    )
    assert answer.content == receipt.pdf
    [read] = audit_rows(db, "summer_voucher_claim.receipt.read", claim)
    assert read.actor_kind == "employer"
    assert read.business_id == "2956285-9"
    assert read.detail == f"receipt={receipt.id}"

    # Another organisation's employer finds nothing.
    employer_login(client, "employer-two-orgs")
    assert client.get(link).status_code == 404
    assert len(audit_rows(db, "summer_voucher_claim.receipt.read", claim)) == 1


def test_staff_download_the_receipt_from_the_claim_detail(
    client: TestClient, db: Session, store: FileStore
) -> None:
    claim = sent_claim(db, store)
    link = f"{ADMIN}/{claim.id}/receipt"
    staff_login(client)
    assert link not in client.get(f"{ADMIN}/{claim.id}").text
    assert client.get(link).status_code == 404
    assert (
        post(
            client, f"{ADMIN}/{claim.id}/decision", decision="rejected", reason="Ei ehtoja."
        ).status_code
        == 303
    )
    [receipt] = receipts_of(db, claim)
    detail = client.get(f"{ADMIN}/{claim.id}")
    assert f'href="{link}"' in detail.text
    answer = client.get(link)
    assert answer.status_code == 200
    assert answer.content == receipt.pdf
    [read] = audit_rows(db, "summer_voucher_claim.receipt.read", claim)
    assert read.actor_kind == "staff"
    staff_login(client, "staff-decider")  # Kesäseteli claims are for handlers and admins
    assert client.get(link).status_code == 403


def test_the_receipt_in_english(db: Session, store: FileStore) -> None:
    claim = sent_claim(db, store, language="en")
    claim_handling.decide(
        db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=f.staff(db)
    )
    db.commit()
    [receipt] = receipts_of(db, claim)
    assert receipt.language == "en"
    html = receipts.receipt_html(ReceiptContent.model_validate(receipt.content))
    assert 'lang="en"' in html
    assert "Summer job voucher claim: decision" in html
    assert "Amount to pay" in html
    assert "The city pays " in html
    assert YOUTH_HETU not in html
