"""Payment items from decisions (H44, K23) and the batch rules of issue #7 §3 at the service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import payment_status
from app.documents.storage import FileStore
from app.errors import InvalidTransition
from app.payments import service
from app.payments.models import (
    BatchStatus,
    ItemStatus,
    PaymentBatch,
    PaymentBatchItem,
    PaymentEvent,
    Programme,
)
from app.subsidies import handling
from app.subsidies.staff_schemas import ReturnIn
from app.summer_voucher.models import YearConfiguration
from tests.admin import subsidy_factories as hf
from tests.payments import factories as f


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def test_an_approved_claim_owes_the_voucher_value(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    claim = f.approved_claim(db, store)
    (item,) = f.items_of(db, claim_id=claim.id)
    assert item.programme == Programme.summer_voucher
    assert item.amount_cents == int(claim.amount * 100)  # type: ignore[operator]
    assert item.application_number == f"KS-{claim.id}"
    assert item.payee_name == "Kahvila Esimerkki Oy"
    assert item.business_id == "2956285-9"
    assert item.iban == "FI2112345600000785"
    assert item.status == ItemStatus.open
    assert item.due_date == service.today()
    # Encrypted at rest: the stored value is not the IBAN.
    stored = db.execute(sa.text("SELECT iban FROM payment_item WHERE id = :i"), {"i": item.id})
    assert "FI21" not in stored.scalar_one()


def test_a_decision_under_the_threshold_is_one_instalment(db: Session, store: FileStore) -> None:
    application = f.accepted_application(db, store)
    (item,) = f.items_of(db, subsidy_application_id=application.id)
    assert item.programme == Programme.helsinki_lisa
    assert item.amount_cents == 160_000
    assert (item.instalment, item.instalments) == (1, 1)
    assert item.application_number == str(application.application_number)


def test_a_decision_above_the_threshold_is_paid_in_two_instalments(
    db: Session, store: FileStore
) -> None:
    application = f.accepted_application(db, store, months=12, instalments=True)
    first, second = f.items_of(db, subsidy_application_id=application.id)
    assert (first.amount_cents, second.amount_cents) == (900_000, 900_000)
    # start + 6 months (H44), never before the calculation: the frozen calculation's date
    frozen = application.decided_calculation or {}
    assert second.due_date == date.fromisoformat(frozen["instalments"][1]["due_date"])
    assert first.due_date == service.today()


def test_returning_a_decision_withdraws_its_unbatched_items(db: Session, store: FileStore) -> None:
    application = f.accepted_application(db, store)
    handling.return_to_handling(
        db,
        application=application,
        data=ReturnIn(reason="Korjaus"),
        actor=hf.staff(db, "staff-decider"),
    )
    db.commit()
    assert f.items_of(db, subsidy_application_id=application.id) == []


def test_a_decision_in_a_batch_cannot_be_returned(db: Session, store: FileStore) -> None:
    application = f.accepted_application(db, store)
    (item,) = f.items_of(db, subsidy_application_id=application.id)
    service.create_batch(db, item_ids=[item.id or 0], actor=f.payer(db))
    db.commit()
    with pytest.raises(service.AlreadyInPayment):
        handling.return_to_handling(
            db,
            application=application,
            data=ReturnIn(reason="Korjaus"),
            actor=hf.staff(db, "staff-decider"),
        )
    db.rollback()
    assert len(f.items_of(db, subsidy_application_id=application.id)) == 1


def test_batch_life_four_eyes_and_outcomes(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    one = f.approved_claim(db, store)
    two = f.approved_claim(db, store, first_name="Eetu", last_name="Mäkinen")
    page = service.payable(db)
    assert page.count == 2
    ids = [item.id or 0 for item in page.items]
    builder, approver = f.payer(db), f.payer(db, "staff-payer2")
    batch = service.create_batch(db, item_ids=ids, actor=builder)
    db.commit()
    assert (batch.status, batch.item_count, batch.total_cents) == (
        BatchStatus.draft,
        2,
        sum(item.amount_cents for item in page.items),
    )
    assert service.payable(db).count == 0  # in a live batch: not payable
    with pytest.raises(service.SameApprover):
        service.approve(db, batch=batch, version=batch.version, actor=builder)
    with pytest.raises(service.BatchChanged):
        service.approve(db, batch=batch, version=batch.version - 1, actor=approver)
    db.rollback()
    service.approve(db, batch=batch, version=batch.version, actor=approver)
    db.commit()
    with pytest.raises(service.AlreadyApproved):
        service.approve(db, batch=batch, version=batch.version, actor=approver)
    db.rollback()
    with pytest.raises(service.BatchNotDraft):
        service.remove_item(db, batch=batch, item_id=ids[0], actor=builder)
    db.rollback()
    service.export(db, batch=batch, actor=builder, payer=f.PAYER)
    db.commit()
    assert batch.status == BatchStatus.exported
    service.mark_paid(db, batch=batch, item_id=ids[0], paid_on=date(2026, 11, 25), actor=builder)
    db.commit()
    with pytest.raises(service.AlreadySettled):
        service.mark_paid(
            db, batch=batch, item_id=ids[0], paid_on=date(2026, 11, 25), actor=builder
        )
    db.rollback()
    service.mark_failed(db, batch=batch, item_id=ids[1], reason="Tili suljettu", actor=builder)
    db.commit()
    assert batch.status == BatchStatus.closed
    # The failed one is payable again and can go into a new batch; the paid one never.
    again = service.payable(db)
    assert [item.id for item in again.items] == [ids[1]]
    with pytest.raises(service.ItemNotPayable):
        service.create_batch(db, item_ids=[ids[0]], actor=builder)
    db.rollback()
    service.create_batch(db, item_ids=[ids[1]], actor=builder)
    db.commit()
    states = payment_status.payments_of(db, "summer_voucher_claim", one.id)
    assert states[0].paid_on == date(2026, 11, 25)
    assert payment_status.payments_of(db, "summer_voucher_claim", two.id)[0].paid_on is None
    kinds = [
        e.kind
        for e in db.exec(
            select(PaymentEvent).where(PaymentEvent.item_id == ids[0]).order_by(PaymentEvent.id)  # type: ignore[arg-type]
        )
    ]
    assert kinds == ["created", "batched", "approved", "exported", "paid"]


def test_the_database_refuses_an_item_in_two_live_batches(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.approved_claim(db, store)
    (item,) = service.payable(db).items
    first = service.create_batch(db, item_ids=[item.id or 0], actor=f.payer(db))
    second = PaymentBatch(
        message_id="TEST2", created_by_id=first.created_by_id, created_by_name="x"
    )
    db.add(second)
    db.flush()
    db.add(PaymentBatchItem(batch_id=second.id or 0, item_id=item.id or 0, amount_cents=1))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_the_database_refuses_the_builder_as_approver(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.approved_claim(db, store)
    (item,) = service.payable(db).items
    batch = service.create_batch(db, item_ids=[item.id or 0], actor=f.payer(db))
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(
            sa.update(PaymentBatch)
            .where(PaymentBatch.id == batch.id)  # type: ignore[arg-type]
            .values(approved_by_id=batch.created_by_id)
        )
    db.rollback()


def test_instalments_become_payable_on_their_date(db: Session, store: FileStore) -> None:
    application = f.accepted_application(db, store, months=12, instalments=True)
    first, second = f.items_of(db, subsidy_application_id=application.id)
    db.execute(
        sa.text("UPDATE payment_item SET due_date = :d WHERE id = :i"),
        {"d": service.today() + timedelta(days=30), "i": second.id},
    )
    db.commit()
    assert [i.id for i in service.payable(db).items] == [first.id]
    # Not before its date, however far the filter looks ahead.
    later = service.payable(db, due_until=service.today() + timedelta(days=30))
    assert [i.id for i in later.items] == [first.id]
    with pytest.raises(service.ItemNotPayable):
        service.create_batch(db, item_ids=[second.id or 0], actor=f.payer(db))
    db.rollback()
    db.execute(
        sa.text("UPDATE payment_item SET due_date = :d WHERE id = :i"),
        {"d": service.today(), "i": second.id},
    )
    db.commit()
    assert [i.id for i in service.payable(db).items] == [first.id, second.id]


def test_a_claim_cannot_be_paid_twice_through_the_state_machine(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    claim = f.approved_claim(db, store)
    from app.summer_voucher import claim_handling
    from app.summer_voucher.schemas import ClaimDecisionIn
    from tests.summer_voucher import factories as sf

    with pytest.raises(InvalidTransition):
        claim_handling.decide(
            db, claim=claim, data=ClaimDecisionIn(decision="accepted"), actor=sf.staff(db)
        )
    db.rollback()
    assert len(f.items_of(db, claim_id=claim.id)) == 1
