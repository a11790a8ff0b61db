"""Payers acting at once through the API, each request in its own session and transaction, on a
database of its own (PostgreSQL in CI, SQLite too): approving a batch twice, approving while
another payer edits it, exporting twice, marking an item paid twice — exactly one succeeds, the
others get 409 with a clear code, and the batch's total stays the sum of its lines."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.payments.models import PaymentBatch, PaymentBatchItem, PaymentItem
from tests.conftest import login, open_summer_voucher_year
from tests.payments import factories as f
from tests.summer_voucher.test_concurrent_writes import app_with_own_database, at_once

ROUNDS = 3


@pytest.fixture(scope="module")
def payments_app(tmp_path_factory: pytest.TempPathFactory, idp: str) -> Iterator[FastAPI]:
    with app_with_own_database(tmp_path_factory, idp, "payments") as application:
        with Session(application.state.engine) as session:
            open_summer_voucher_year(session)
            session.commit()
        yield application


def payer_client(app: FastAPI, sub: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app)
    login(client, sub, staff=True)
    return client, {"X-CSRF-Token": f.token(client)}


def owed(app: FastAPI, count: int) -> list[int]:
    with Session(app.state.engine) as session:
        for n in range(count):
            f.approved_claim(
                session, app.state.file_store, first_name="Rinnakkais", last_name=f"Testi{n}"
            )
        return [
            int(i or 0)
            for i in session.exec(
                select(PaymentItem.id).where(
                    PaymentItem.status == "open",
                    ~select(PaymentBatchItem.id)
                    .where(col(PaymentBatchItem.item_id) == PaymentItem.id)
                    .exists(),
                )
            ).all()
        ]


def consistent(app: FastAPI, batch_id: int) -> PaymentBatch:
    with Session(app.state.engine) as session:
        batch = session.get(PaymentBatch, batch_id)
        assert batch is not None
        total, count = session.exec(
            select(func.coalesce(func.sum(PaymentBatchItem.amount_cents), 0), func.count()).where(
                PaymentBatchItem.batch_id == batch_id
            )
        ).one()
        assert (batch.total_cents, batch.item_count) == (total, count)
        return batch


def test_exactly_one_of_two_payers_wins_each_race(payments_app: FastAPI) -> None:
    builder, builder_headers = payer_client(payments_app, "staff-payer")
    approvers = [payer_client(payments_app, "staff-payer2") for _ in range(2)]
    for _ in range(ROUNDS):
        ids = owed(payments_app, 3)
        created = builder.post(f"{f.API}/batches", json={"item_ids": ids}, headers=builder_headers)
        assert created.status_code == 201, created.text
        batch = created.json()
        url = f"{f.API}/batches/{batch['id']}"

        # Approve while the builder removes a line: one of them wins.
        answers = at_once(
            [
                partial(
                    approvers[0][0].post,
                    f"{url}/approve",
                    json={"version": batch["version"]},
                    headers=approvers[0][1],
                ),
                partial(builder.delete, f"{url}/items/{ids[0]}", headers=builder_headers),
            ]
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], [a.text for a in answers]
        assert {a.json()["detail"]["code"] for a in answers if a.status_code == 409} <= {
            "batch_changed",
            "batch_not_draft",
        }
        state = consistent(payments_app, batch["id"])
        if state.status == "draft":  # the removal won: approve what is there now
            again = approvers[0][0].post(
                f"{url}/approve", json={"version": state.version}, headers=approvers[0][1]
            )
            assert again.status_code == 200

        # Two payers approve another draft batch at once: one.
        other = builder.post(
            f"{f.API}/batches", json={"item_ids": owed(payments_app, 1)}, headers=builder_headers
        ).json()
        double = at_once(
            [
                partial(
                    c.post,
                    f"{f.API}/batches/{other['id']}/approve",
                    json={"version": other["version"]},
                    headers=h,
                )
                for c, h in approvers
            ]
        )
        assert sorted(a.status_code for a in double) == [200, 409]

        # Two exports at once: one.
        exports = at_once([partial(c.post, f"{url}/export", headers=h) for c, h in approvers])
        assert sorted(a.status_code for a in exports) == [200, 409]

        # The same item marked paid twice at once: one.
        item_id = next(line["item"]["id"] for line in builder.get(url).json()["lines"])
        paid = at_once(
            [
                partial(
                    c.post, f"{url}/items/{item_id}/paid", json={"paid_on": "2026-11-20"}, headers=h
                )
                for c, h in approvers
            ]
        )
        assert sorted(a.status_code for a in paid) == [200, 409]
        consistent(payments_app, batch["id"])
        with Session(payments_app.state.engine) as session:
            item = session.get(PaymentItem, item_id)
            assert item is not None
            assert item.status == "paid"
