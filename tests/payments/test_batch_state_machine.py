"""Batch operations in any order (hypothesis, R37): build, add, remove, delete, approve, export,
mark paid or failed — no item is ever paid twice, an item is in at most one live batch, a batch's
total is always the sum of its lines, and a paid item stays paid."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session, col, func, select

from app.documents.storage import FileStore
from app.errors import AppError
from app.payments import service
from app.payments.models import PaymentBatch, PaymentBatchItem, PaymentItem
from app.security import Actor
from app.summer_voucher.models import YearConfiguration
from tests.payments import factories as f

ITEMS = 5


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def test_no_item_is_ever_paid_twice(
    db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    for n in range(ITEMS):
        f.approved_claim(db, store, first_name="Tila", last_name=f"Kone{n}")
    item_ids = [item.id or 0 for item in f.items_of(db)]
    payers: list[Actor] = [f.payer(db), f.payer(db, "staff-payer2")]
    db.commit()

    class Batches(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.execute(sa.delete(PaymentBatchItem))
            db.execute(sa.delete(PaymentBatch))
            db.execute(sa.update(PaymentItem).values(status="open", paid_on=None))
            db.commit()
            self.paid: set[int] = set()

        def _do(self, action: object) -> None:
            try:
                action()  # type: ignore[operator]
                db.commit()
            except AppError:
                db.rollback()
            db.expire_all()

        def _batch(self, index: int, status: str | None = None) -> PaymentBatch | None:
            query = select(PaymentBatch).order_by(col(PaymentBatch.id))
            if status:
                query = query.where(PaymentBatch.status == status)
            batches = db.exec(query).all()
            return batches[index % len(batches)] if batches else None

        def _other(self, batch: PaymentBatch) -> Actor:
            return next(p for p in payers if p.user_id != str(batch.created_by_id))

        @initialize(count=st.integers(0, ITEMS))
        def exported_batch(self, count: int) -> None:
            """Often start with a batch whose file has been made, so settling is reachable."""
            if count:
                batch = service.create_batch(db, item_ids=item_ids[:count], actor=payers[0])
                service.approve(db, batch=batch, version=batch.version, actor=payers[1])
                service.export(db, batch=batch, actor=payers[1], payer=f.PAYER)
                db.commit()

        @rule(
            items=st.lists(st.sampled_from(item_ids), min_size=1, max_size=3), who=st.integers(0, 1)
        )
        def build(self, items: list[int], who: int) -> None:
            self._do(lambda: service.create_batch(db, item_ids=items, actor=payers[who]))

        @rule(index=st.integers(0, 5), items=st.lists(st.sampled_from(item_ids), min_size=1))
        def add(self, index: int, items: list[int]) -> None:
            batch = self._batch(index)
            if batch:
                self._do(
                    lambda: service.add_items(db, batch=batch, item_ids=items, actor=payers[0])
                )

        @rule(index=st.integers(0, 5), item=st.sampled_from(item_ids))
        def remove(self, index: int, item: int) -> None:
            batch = self._batch(index)
            if batch:
                self._do(
                    lambda: service.remove_item(db, batch=batch, item_id=item, actor=payers[1])
                )

        @rule(index=st.integers(0, 5))
        def delete(self, index: int) -> None:
            batch = self._batch(index)
            if batch:
                self._do(lambda: service.delete_batch(db, batch=batch, actor=payers[0]))

        @precondition(lambda self: self._batch(0, "draft") is not None)
        @rule(index=st.integers(0, 5), same=st.booleans(), stale=st.booleans())
        def approve(self, index: int, same: bool, stale: bool) -> None:
            batch = self._batch(index, "draft")
            if batch:
                version = batch.version - 1 if stale else batch.version
                who = payers[0] if same else self._other(batch)
                self._do(lambda: service.approve(db, batch=batch, version=version, actor=who))

        @precondition(lambda self: self._batch(0, "approved") is not None)
        @rule(index=st.integers(0, 5))
        def export(self, index: int) -> None:
            batch = self._batch(index, "approved")
            if batch:
                self._do(lambda: service.export(db, batch=batch, actor=payers[0], payer=f.PAYER))

        @precondition(lambda self: self._batch(0, "exported") is not None)
        @rule(index=st.integers(0, 5), pick=st.integers(0, ITEMS), failed=st.booleans())
        def settle(self, index: int, pick: int, failed: bool) -> None:
            batch = self._batch(index, "exported")
            if not batch:
                return
            lines = service.batch_lines(db, batch.id or 0)
            item = lines[pick % len(lines)].item.id or 0 if lines else item_ids[pick % ITEMS]
            if failed:
                self._do(
                    lambda: service.mark_failed(
                        db, batch=batch, item_id=item, reason="RJCT", actor=payers[1]
                    )
                )
            else:
                self._do(
                    lambda: service.mark_paid(
                        db, batch=batch, item_id=item, paid_on=date(2026, 11, 20), actor=payers[1]
                    )
                )

        @invariant()
        def never_paid_twice(self) -> None:
            rows = db.exec(
                select(col(PaymentBatchItem.item_id), func.count())
                .where(col(PaymentBatchItem.outcome) == "paid")
                .group_by(col(PaymentBatchItem.item_id))
            ).all()
            assert all(count == 1 for _, count in rows)
            paid_links = {item for item, _ in rows}
            paid_items = set(
                db.exec(select(PaymentItem.id).where(PaymentItem.status == "paid")).all()
            )
            assert paid_links == paid_items
            assert self.paid <= paid_items  # paid stays paid
            self.paid = {i for i in paid_items if i is not None}

        @invariant()
        def at_most_one_live_batch(self) -> None:
            rows = db.exec(
                select(col(PaymentBatchItem.item_id), func.count())
                .where(
                    sa.or_(
                        col(PaymentBatchItem.outcome).is_(None),
                        col(PaymentBatchItem.outcome) == "paid",
                    )
                )
                .group_by(col(PaymentBatchItem.item_id))
            ).all()
            assert all(count == 1 for _, count in rows)

        @invariant()
        def totals_are_sums(self) -> None:
            for batch in db.exec(select(PaymentBatch)).all():
                total, count = db.exec(
                    select(
                        func.coalesce(func.sum(PaymentBatchItem.amount_cents), 0), func.count()
                    ).where(PaymentBatchItem.batch_id == batch.id)
                ).one()
                assert (batch.total_cents, batch.item_count) == (total, count)
                assert batch.approved_by_id is None or batch.approved_by_id != batch.created_by_id

    run_state_machine_as_test(
        Batches,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
