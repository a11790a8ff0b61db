"""The employer claim's rules at the service level (the pages and API are tested over HTTP)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.db import utcnow
from app.documents.storage import FileStore
from app.documents.uploads import check_upload
from app.errors import NotFound, ValidationFailed
from app.summer_voucher import claims
from app.summer_voucher.models import AttachmentKind, ClaimStatus, YearConfiguration, YouthStatus
from app.summer_voucher.schemas import ClaimLookupIn, ClaimSubmitIn
from tests.summer_voucher import factories as f


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    store: FileStore = app.state.file_store
    return store


def test_one_draft_per_user_and_company(db: Session, open_year: YearConfiguration) -> None:
    actor = f.employer(db)
    first = claims.open_draft(db, actor=actor, language="fi")
    again = claims.open_draft(db, actor=actor, language="sv")
    assert first.id == again.id
    other_user = f.employer(db, subject="someone-else")
    assert claims.open_draft(db, actor=other_user, language="fi").id != first.id


def test_lookup_tolerates_accents_and_a_typo_but_answers_the_same_for_wrong_name_and_serial(
    db: Session, open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db, last_name="Mäkinen")
    actor = f.employer(db)
    claim = claims.open_draft(db, actor=actor, language="fi")
    employee = claims.lookup(
        db,
        claim=claim,
        data=ClaimLookupIn(employee_name="Aino Makinen", serial=f.serial(voucher)),
        actor=actor,
    )
    assert employee.name == "Aino Mäkinen"
    wrong = []
    for name, serial in (("Aino Korhonen", f.serial(voucher)), ("Aino Mäkinen", "ZZZ-999")):
        with pytest.raises(claims.VoucherNotFound) as caught:
            claims.lookup(
                db, claim=claim, data=ClaimLookupIn(employee_name=name, serial=serial), actor=actor
            )
        wrong.append((caught.value.status_code, caught.value.message))
    assert wrong[0] == wrong[1]


def test_submit_lists_every_missing_thing(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    actor = f.employer(db)
    claim = claims.open_draft(db, actor=actor, language="fi")
    with pytest.raises(ValidationFailed) as caught:
        claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)
    fields = {e["loc"][0] for e in caught.value.errors}
    assert {"employee_name", "iban", "work_hours", "attachments_payslip"} <= fields


def test_minimums_and_work_period_are_checked(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    actor = f.employer(db)
    claim = f.filled_claim(db, store, actor=actor)
    year = open_year.year
    claim.work_hours = Decimal("59.5")
    claim.salary_paid = Decimal("499.99")
    claim.employment_end = date(year, 9, 1)
    with pytest.raises(ValidationFailed) as caught:
        claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)
    kinds = {(e["loc"][0], e["type"]) for e in caught.value.errors}
    assert kinds == {
        ("work_hours", "below_min_hours"),
        ("salary_paid", "below_min_pay"),
        ("employment_end", "outside_work_period"),
    }


def test_foreign_iban_needs_the_bank_details(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    actor = f.employer(db)
    claim = f.filled_claim(db, store, actor=actor)
    claim.iban = "DE89370400440532013000"
    with pytest.raises(ValidationFailed) as caught:
        claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)
    assert {e["loc"][0] for e in caught.value.errors} == {
        "payee_name",
        "payee_address",
        "bic",
        "bank_name",
        "bank_address",
    }


def test_submit_locks_and_a_voucher_is_used_once(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    youth, voucher = f.accepted_youth(db)
    first = f.submitted_claim(db, store, youth=youth, voucher=voucher)
    assert first.status == ClaimStatus.submitted
    assert first.submitted_at is not None
    with pytest.raises(claims.ClaimLocked):
        claims.save_draft(db, claim=first, data=f.complete_fields(), actor=f.employer(db))
    rival = f.employer(db, subject="rival", business_id="3045112-8")
    f.company(db, "3045112-8", "Rakennus Demo Oy")
    claim = claims.open_draft(db, actor=rival, language="fi")
    with pytest.raises(claims.VoucherAlreadyUsed):
        claims.lookup(
            db,
            claim=claim,
            data=ClaimLookupIn(employee_name="Aino Virtanen", serial=f.serial(voucher)),
            actor=rival,
        )


def test_the_database_refuses_a_second_claim_on_a_voucher(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    """Both drafts found the youth before either was sent: the partial unique index decides."""
    youth, voucher = f.accepted_youth(db)
    a = f.filled_claim(db, store, youth=youth, voucher=voucher)
    rival = f.employer(db, subject="rival2", business_id="3045112-8")
    b = f.filled_claim(db, store, actor=rival, youth=youth, voucher=voucher)
    claims.submit(db, claim=a, data=ClaimSubmitIn(terms_accepted=True), actor=f.employer(db))
    # Skip the friendly pre-check to reach the database's own rule.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(claims, "_used_elsewhere", lambda *_, **__: False)
        with pytest.raises(claims.VoucherAlreadyUsed):
            claims.submit(db, claim=b, data=ClaimSubmitIn(terms_accepted=True), actor=rival)
    db.refresh(b)
    assert b.status == ClaimStatus.draft


def test_not_accepted_youth_has_no_voucher_to_find(
    db: Session, open_year: YearConfiguration
) -> None:
    f.accepted_youth(db, status=YouthStatus.awaiting_manual_processing)
    actor = f.employer(db)
    claim = claims.open_draft(db, actor=actor, language="fi")
    with pytest.raises(claims.VoucherNotFound):
        claims.lookup(
            db,
            claim=claim,
            data=ClaimLookupIn(employee_name="Aino Virtanen", serial="3RJ-076"),
            actor=actor,
        )


def test_another_company_cannot_reach_the_claim(db: Session, open_year: YearConfiguration) -> None:
    claim = claims.open_draft(db, actor=f.employer(db), language="fi")
    f.company(db, "3045112-8", "Rakennus Demo Oy")
    other = f.employer(db, subject="other", business_id="3045112-8")
    with pytest.raises(NotFound):
        claims.get_for_employer(db, claim_id=claim.id or 0, actor=other)


def test_at_most_five_files_of_a_kind(
    db: Session, open_year: YearConfiguration, store: FileStore
) -> None:
    actor = f.employer(db)
    claim = claims.open_draft(db, actor=actor, language="fi")
    for _ in range(5):
        claims.add_attachment(
            db,
            claim=claim,
            kind=AttachmentKind.payslip,
            upload=check_upload(f.PDF, "a.pdf"),
            store=store,
            actor=actor,
        )
    with pytest.raises(claims.TooManyAttachments):
        claims.add_attachment(
            db,
            claim=claim,
            kind=AttachmentKind.payslip,
            upload=check_upload(f.PDF, "a.pdf"),
            store=store,
            actor=actor,
        )


@pytest.mark.parametrize(
    ("created", "year"),
    [
        ("2025-02-13T12:00:00+02:00", 2024),
        ("2025-02-14T00:30:00+02:00", 2025),
        ("2025-11-30T12:00:00+02:00", 2025),
    ],
)
def test_claims_before_14_february_belong_to_the_previous_year(created: str, year: int) -> None:
    from datetime import datetime

    assert claims.voucher_year_of(datetime.fromisoformat(created)) == year
    assert utcnow()  # the rule is read by date, whatever today is
