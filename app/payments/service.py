"""Payments (issue #7 §2–§5): what the city owes, batches of it, and what the bank did.

Items appear when a decision becomes final: an approved Kesäseteli claim is one item of the
year's voucher value, an accepted Helsinki-lisä decision one item per instalment of its frozen
calculation (H44). They are created by a transition listener (`app.state_machine.on_transition`)
in the decision's own transaction, so a decision and what it owes commit together; a decision
returned to handling withdraws its items, or is refused (409) once any of them is in a batch or
paid. Programmes never import this package.

Every change of a batch is a conditional update on its status (and, to approve, on the version the
approver saw), so of two payers acting at once exactly one wins and the other gets a clear
conflict. The database keeps the rest: an item in at most one live batch (unique partial index),
the builder never the approver (CHECK), integer cents.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, payment_status
from app.auth.models import User
from app.companies.models import Company
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied
from app.i18n import N_
from app.payment_status import PaymentState
from app.payments.bank_file import (
    PayerAccount,
    bank_file,
    end_to_end_id,
    finance_csv,
    parse_status_file,
)
from app.payments.models import (
    BatchStatus,
    ItemStatus,
    Outcome,
    PaymentBatch,
    PaymentBatchItem,
    PaymentEvent,
    PaymentItem,
    Programme,
)
from app.security import Actor
from app.state_machine import on_transition

HELSINKI = ZoneInfo("Europe/Helsinki")
MAX_BATCH_ITEMS = 20_000
PAGE = 100


def today() -> date:
    return datetime.now(HELSINKI).date()


def helsinki_date(moment: datetime | None) -> date:
    return (moment or utcnow()).astimezone(HELSINKI).date()


def cents(amount: Decimal | str) -> int:
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(value)


def euros(amount_cents: int) -> Decimal:
    return (Decimal(amount_cents) / 100).quantize(Decimal("0.01"))


# --- Errors ---------------------------------------------------------------------------------------


class AlreadyInPayment(Conflict):
    code = "already_in_payment"
    message = N_(
        "The decision cannot be returned to handling: its payment is already in a payment batch"
        " or paid."
    )


class BatchChanged(Conflict):
    code = "batch_changed"
    message = N_(
        "The batch was changed or handled by someone else at the same time. Open it again and check."
    )


class BatchNotDraft(Conflict):
    code = "batch_not_draft"
    message = N_("The batch has been approved: its items can no longer change.")


class AlreadyApproved(Conflict):
    code = "batch_already_approved"
    message = N_("The batch has already been approved.")


class AlreadyExported(Conflict):
    code = "batch_already_exported"
    message = N_("The bank file of this batch has already been made.")


class NotApproved(Conflict):
    code = "batch_not_approved"
    message = N_("The batch must be approved before its bank file is made.")


class NotExported(Conflict):
    code = "batch_not_exported"
    message = N_("Payments can be marked only in a batch whose bank file has been made.")


class AlreadySettled(Conflict):
    code = "payment_already_settled"
    message = N_("This payment has already been marked paid or failed.")


class ItemNotPayable(Conflict):
    code = "payment_not_payable"
    message = N_(
        "A chosen payment is no longer payable: it is in another batch, paid, or not yet due."
    )


class EmptyBatch(Conflict):
    code = "batch_empty"
    message = N_("Choose at least one payment.")


class TooManyItems(Conflict):
    code = "batch_too_many"
    message = N_("A batch can hold at most 20 000 payments.")


class SameApprover(PermissionDenied):
    code = "batch_second_approver"
    message = N_("Another payer must approve the batch: you built it.")


# --- Who acts --------------------------------------------------------------------------------------


def user_id(actor: Actor) -> int:
    if actor.user_id is None or not actor.user_id.isdigit():
        raise PermissionDenied()
    return int(actor.user_id)


def actor_name(session: Session, actor: Actor) -> str:
    if actor.user_id and actor.user_id.isdigit():
        user = session.get(User, int(actor.user_id))
        if user and user.name:
            return user.name
    return actor.kind


def _event(
    session: Session,
    *,
    item_ids: Iterable[int],
    kind: str,
    name: str,
    batch_id: int | None = None,
    detail: str | None = None,
) -> None:
    rows = [
        {
            "item_id": item_id,
            "batch_id": batch_id,
            "kind": kind,
            "actor_name": name,
            "detail": detail,
            "created_at": utcnow(),
        }
        for item_id in item_ids
    ]
    if rows:
        session.execute(sa.insert(PaymentEvent), rows)


# --- Items from decisions -------------------------------------------------------------------------


def _business_id(session: Session, company_id: int) -> str | None:
    company = session.get(Company, company_id)
    return company.business_id if company else None


def _subsidy_items(session: Session, application: Any) -> list[PaymentItem]:
    decided = application.decided_calculation or {}
    decision_date = helsinki_date(application.decided_at)
    instalments = decided.get("instalments") or [
        {"number": 1, "amount": str(application.granted_amount), "due_date": None}
    ]
    items = []
    for instalment in instalments:
        due = date.fromisoformat(instalment["due_date"]) if instalment["due_date"] else None
        items.append(
            PaymentItem(
                programme=Programme.helsinki_lisa,
                subsidy_application_id=application.id,
                instalment=int(instalment["number"]),
                instalments=len(instalments),
                application_number=str(application.application_number),
                amount_cents=cents(instalment["amount"]),
                decision_date=decision_date,
                # The first is due at the decision; a later one on its date (payable at once
                # when that is past).
                due_date=decision_date if instalment["number"] == 1 or due is None else due,
                payee_name=(application.company_name or "")[:140],
                business_id=_business_id(session, application.company_id),
                iban=application.iban or "",
                bic=None,
                language=application.language,
            )
        )
    return items


def claim_number(claim_id: int) -> str:
    """The number a Kesäseteli claim is paid and reported under."""
    return f"KS-{claim_id}"


def _claim_items(session: Session, claim: Any) -> list[PaymentItem]:
    company_name = None
    company = session.get(Company, claim.company_id)
    if company is not None:
        company_name = company.name
    payee = claim.payee_name or claim.invoicer_name or company_name or ""
    decision_date = helsinki_date(claim.decided_at)
    return [
        PaymentItem(
            programme=Programme.summer_voucher,
            claim_id=claim.id,
            application_number=claim_number(claim.id),
            amount_cents=cents(claim.amount),
            decision_date=decision_date,
            due_date=decision_date,
            payee_name=payee[:140],
            business_id=company.business_id if company else None,
            iban=(claim.iban or "").replace(" ", ""),
            bic=claim.bic or None,
            language=claim.language,
        )
    ]


def _withdraw(session: Session, *, column: Any, source_id: int, actor: Actor) -> None:
    """The decision went back to handling: its unpaid items, never batched, are deleted."""
    items = list(session.execute(select(PaymentItem).where(column == source_id)).scalars())
    if not items:
        return
    ids = [item.id for item in items]
    live = session.execute(
        select(sa.func.count())
        .select_from(PaymentBatchItem)
        .where(
            col(PaymentBatchItem.item_id).in_(ids),
            sa.or_(
                col(PaymentBatchItem.outcome).is_(None),
                col(PaymentBatchItem.outcome) == Outcome.paid,
            ),
        )
    ).scalar_one()
    if live or any(item.status == ItemStatus.paid for item in items):
        raise AlreadyInPayment()
    session.execute(sa.delete(PaymentItem).where(col(PaymentItem.id).in_(ids)))
    audit.record(
        session,
        actor=actor,
        action="payment_item.withdraw",
        target_type="payment_item",
        detail=f"items={len(ids)}",
    )


def _schedule(session: Session, items: Sequence[PaymentItem], actor: Actor) -> None:
    if not items:
        return
    for item in items:
        session.add(item)
    session.flush()
    name = actor_name(session, actor)
    _event(
        session,
        item_ids=[item.id for item in items if item.id is not None],
        kind="created",
        name=name,
    )
    for item in items:
        audit.record(
            session,
            actor=actor,
            action="payment_item.create",
            target_type="payment_item",
            target_id=item.id,
            fields=["amount_cents", "due_date", "iban", "payee_name"],
        )


@on_transition
def decision_listener(
    session: Session, target_type: str, obj: Any, old: StrEnum, new: StrEnum, actor: Actor
) -> None:
    """Items owed by a decision appear with it, and go when it is returned to handling."""
    if target_type == "subsidy_application":
        if new == "accepted":
            _schedule(session, _subsidy_items(session, obj), actor)
        elif old == "accepted":
            _withdraw(
                session,
                column=col(PaymentItem.subsidy_application_id),
                source_id=obj.id,
                actor=actor,
            )
    elif target_type == "summer_voucher_claim":
        if new == "accepted":
            _schedule(session, _claim_items(session, obj), actor)
        elif old == "accepted":
            _withdraw(session, column=col(PaymentItem.claim_id), source_id=obj.id, actor=actor)


# --- Reading ---------------------------------------------------------------------------------------


def _live_link_exists() -> Any:
    return (
        select(PaymentBatchItem.id)
        .where(
            col(PaymentBatchItem.item_id) == col(PaymentItem.id),
            sa.or_(
                col(PaymentBatchItem.outcome).is_(None),
                col(PaymentBatchItem.outcome) == Outcome.paid,
            ),
        )
        .exists()
    )


def payable_filter(*, programme: str | None = None, due_until: date | None = None) -> list[Any]:
    """Open, due by `due_until` (never later than today: an instalment becomes payable on its
    due date) and in no live batch."""
    due_by = min(due_until, today()) if due_until else today()
    conditions = [
        col(PaymentItem.status) == ItemStatus.open,
        col(PaymentItem.due_date) <= due_by,
        ~_live_link_exists(),
    ]
    if programme:
        conditions.append(col(PaymentItem.programme) == programme)
    return conditions


@dataclass(frozen=True)
class PayablePage:
    items: list[PaymentItem]
    total_cents: int
    count: int
    next_after: str | None


def payable(
    session: Session,
    *,
    programme: str | None = None,
    due_until: date | None = None,
    after: str | None = None,
    limit: int = PAGE,
) -> PayablePage:
    """Payable items oldest due first, paged by key (due date, id), with the whole selection's
    count and sum."""
    conditions = payable_filter(programme=programme, due_until=due_until)
    count, total = session.execute(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(PaymentItem.amount_cents), 0)).where(
            *conditions
        )
    ).one()
    query = select(PaymentItem).where(*conditions)
    if after:
        due_text, _, id_text = after.partition("_")
        try:
            due, last_id = date.fromisoformat(due_text), int(id_text)
        except ValueError:
            due, last_id = date.min, 0
        query = query.where(
            sa.tuple_(col(PaymentItem.due_date), col(PaymentItem.id)) > sa.tuple_(due, last_id)
        )
    rows = list(
        session.execute(
            query.order_by(col(PaymentItem.due_date), col(PaymentItem.id)).limit(limit + 1)
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = f"{rows[-1].due_date.isoformat()}_{rows[-1].id}" if more and rows else None
    return PayablePage(items=rows, total_cents=int(total), count=int(count), next_after=next_after)


def payable_ids(
    session: Session, *, programme: str | None = None, due_until: date | None = None
) -> list[int]:
    conditions = payable_filter(programme=programme, due_until=due_until)
    return [
        int(i)
        for i in session.execute(
            select(col(PaymentItem.id))
            .where(*conditions)
            .order_by(col(PaymentItem.due_date), col(PaymentItem.id))
            .limit(MAX_BATCH_ITEMS + 1)
        ).scalars()
    ]


def get_batch(session: Session, batch_id: int) -> PaymentBatch:
    batch = session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound()
    return batch


def get_item(session: Session, item_id: int) -> PaymentItem:
    item = session.get(PaymentItem, item_id)
    if item is None:
        raise NotFound()
    return item


def batches(session: Session, *, status: str | None = None, limit: int = 200) -> list[PaymentBatch]:
    query = select(PaymentBatch)
    if status:
        query = query.where(col(PaymentBatch.status) == status)
    return list(session.execute(query.order_by(col(PaymentBatch.id).desc()).limit(limit)).scalars())


def batch_counts(session: Session) -> dict[str, int]:
    counts = {status.value: 0 for status in BatchStatus}
    for status, count in session.execute(
        select(col(PaymentBatch.status), sa.func.count()).group_by(col(PaymentBatch.status))
    ).all():
        counts[str(status)] = int(count)
    return counts


@dataclass(frozen=True)
class BatchLine:
    link: PaymentBatchItem
    item: PaymentItem


def batch_lines(session: Session, batch_id: int) -> list[BatchLine]:
    rows = session.execute(
        select(PaymentBatchItem, PaymentItem)
        .join(PaymentItem, col(PaymentItem.id) == col(PaymentBatchItem.item_id))
        .where(col(PaymentBatchItem.batch_id) == batch_id)
        .order_by(col(PaymentItem.application_number), col(PaymentItem.instalment))
    ).all()
    return [BatchLine(link=link, item=item) for link, item in rows]


def read_batch(session: Session, *, batch: PaymentBatch, actor: Actor) -> list[BatchLine]:
    """The batch's lines, with the audit row of the read (payees and accounts are shown)."""
    lines = batch_lines(session, batch.id or 0)
    audit.record_read(
        session,
        actor=actor,
        action="payment_batch.read",
        target_type="payment_batch",
        target_id=batch.id,
        fields=["payee_name", "iban"],
    )
    return lines


def item_history(session: Session, *, item: PaymentItem, actor: Actor) -> list[PaymentEvent]:
    audit.record_read(
        session,
        actor=actor,
        action="payment_item.read",
        target_type="payment_item",
        target_id=item.id,
        fields=["payee_name", "iban"],
    )
    return list(
        session.execute(
            select(PaymentEvent)
            .where(col(PaymentEvent.item_id) == item.id)
            .order_by(col(PaymentEvent.id))
        ).scalars()
    )


def item_batches(session: Session, item_id: int) -> list[tuple[PaymentBatchItem, PaymentBatch]]:
    return [
        (link, batch)
        for link, batch in session.execute(
            select(PaymentBatchItem, PaymentBatch)
            .join(PaymentBatch, col(PaymentBatch.id) == col(PaymentBatchItem.batch_id))
            .where(col(PaymentBatchItem.item_id) == item_id)
            .order_by(col(PaymentBatchItem.id))
        ).all()
    ]


@payment_status.register
def payments_of(session: Session, source: str, source_id: int) -> list[PaymentState]:
    """The payments owed by one decision, for the employer's page of it."""
    column = {
        "subsidy_application": col(PaymentItem.subsidy_application_id),
        "summer_voucher_claim": col(PaymentItem.claim_id),
    }.get(source)
    if column is None:
        return []
    items = session.execute(
        select(PaymentItem)
        .where(column == source_id, col(PaymentItem.status) != ItemStatus.cancelled)
        .order_by(col(PaymentItem.instalment))
    ).scalars()
    return [
        PaymentState(
            instalment=item.instalment,
            instalments=item.instalments,
            amount=euros(item.amount_cents),
            due_date=item.due_date,
            paid_on=item.paid_on,
        )
        for item in items
    ]


# --- Batches ---------------------------------------------------------------------------------------


def _new_message_id() -> str:
    return "HEL" + utcnow().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()


def _lock_draft(session: Session, batch: PaymentBatch) -> None:
    """Bump the version of a draft batch (taking its row lock on PostgreSQL) or refuse."""
    result = session.execute(
        sa.update(PaymentBatch)
        .where(col(PaymentBatch.id) == batch.id, col(PaymentBatch.status) == BatchStatus.draft)
        .values(version=PaymentBatch.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise BatchNotDraft()


def _recount(session: Session, batch: PaymentBatch) -> None:
    """The batch's total and count from its lines, in the database: they cannot drift."""
    lines = sa.select(
        sa.func.coalesce(sa.func.sum(PaymentBatchItem.amount_cents), 0),
        sa.func.count(),
    ).where(col(PaymentBatchItem.batch_id) == batch.id)
    total, count = session.execute(lines).one()
    session.execute(
        sa.update(PaymentBatch)
        .where(col(PaymentBatch.id) == batch.id)
        .values(total_cents=int(total), item_count=int(count))
        .execution_options(synchronize_session=False)
    )
    session.refresh(batch)


def _add_lines(session: Session, *, batch: PaymentBatch, item_ids: list[int], name: str) -> None:
    ids = sorted(set(item_ids))
    if not ids:
        raise EmptyBatch()
    if batch.item_count + len(ids) > MAX_BATCH_ITEMS:
        raise TooManyItems()
    found = {
        item.id: item
        for item in session.execute(
            select(PaymentItem).where(col(PaymentItem.id).in_(ids), *payable_filter())
        ).scalars()
    }
    if len(found) != len(ids):
        raise ItemNotPayable()
    now = utcnow()
    try:
        with session.begin_nested():
            session.execute(
                sa.insert(PaymentBatchItem),
                [
                    {
                        "batch_id": batch.id,
                        "item_id": item_id,
                        "amount_cents": found[item_id].amount_cents,
                        "added_at": now,
                    }
                    for item_id in ids
                ],
            )
    except IntegrityError as exc:  # another payer put one of them into a batch just now
        raise ItemNotPayable() from exc
    _event(session, item_ids=ids, kind="batched", name=name, batch_id=batch.id)


def create_batch(session: Session, *, item_ids: list[int], actor: Actor) -> PaymentBatch:
    """A new draft batch of the chosen payable items."""
    if not item_ids:
        raise EmptyBatch()
    name = actor_name(session, actor)
    batch = PaymentBatch(
        message_id=_new_message_id(),
        created_by_id=user_id(actor),
        created_by_name=name,
    )
    session.add(batch)
    session.flush()
    _add_lines(session, batch=batch, item_ids=item_ids, name=name)
    _recount(session, batch)
    audit.record(
        session,
        actor=actor,
        action="payment_batch.create",
        target_type="payment_batch",
        target_id=batch.id,
        detail=f"items={batch.item_count} total_cents={batch.total_cents}",
    )
    return batch


def add_items(
    session: Session, *, batch: PaymentBatch, item_ids: list[int], actor: Actor
) -> PaymentBatch:
    _lock_draft(session, batch)
    session.refresh(batch)
    _add_lines(session, batch=batch, item_ids=item_ids, name=actor_name(session, actor))
    _recount(session, batch)
    audit.record(
        session,
        actor=actor,
        action="payment_batch.add_items",
        target_type="payment_batch",
        target_id=batch.id,
        detail=f"added={len(set(item_ids))} items={batch.item_count}",
    )
    return batch


def remove_item(
    session: Session, *, batch: PaymentBatch, item_id: int, actor: Actor
) -> PaymentBatch:
    _lock_draft(session, batch)
    result = session.execute(
        sa.delete(PaymentBatchItem).where(
            col(PaymentBatchItem.batch_id) == batch.id, col(PaymentBatchItem.item_id) == item_id
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound()
    _event(
        session,
        item_ids=[item_id],
        kind="removed",
        name=actor_name(session, actor),
        batch_id=batch.id,
    )
    _recount(session, batch)
    audit.record(
        session,
        actor=actor,
        action="payment_batch.remove_item",
        target_type="payment_batch",
        target_id=batch.id,
        detail=f"item={item_id} items={batch.item_count}",
    )
    return batch


def delete_batch(session: Session, *, batch: PaymentBatch, actor: Actor) -> None:
    """A draft batch is deleted; its items become payable again."""
    _lock_draft(session, batch)
    item_ids = [line.item.id for line in batch_lines(session, batch.id or 0) if line.item.id]
    _event(session, item_ids=item_ids, kind="removed", name=actor_name(session, actor))
    session.execute(sa.delete(PaymentBatchItem).where(col(PaymentBatchItem.batch_id) == batch.id))
    session.execute(sa.delete(PaymentBatch).where(col(PaymentBatch.id) == batch.id))
    audit.record(
        session,
        actor=actor,
        action="payment_batch.delete",
        target_type="payment_batch",
        target_id=batch.id,
        detail=f"items={len(item_ids)}",
    )
    session.expunge(batch)


def approve(session: Session, *, batch: PaymentBatch, version: int, actor: Actor) -> PaymentBatch:
    """The second payer approves exactly the version they saw."""
    me = user_id(actor)
    if batch.created_by_id == me:
        raise SameApprover()
    name = actor_name(session, actor)
    result = session.execute(
        sa.update(PaymentBatch)
        .where(
            col(PaymentBatch.id) == batch.id,
            col(PaymentBatch.status) == BatchStatus.draft,
            col(PaymentBatch.version) == version,
            col(PaymentBatch.created_by_id) != me,
            col(PaymentBatch.item_count) > 0,
        )
        .values(
            status=BatchStatus.approved,
            approved_by_id=me,
            approved_by_name=name,
            approved_at=utcnow(),
            version=PaymentBatch.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(batch)
        if batch.status != BatchStatus.draft:
            raise AlreadyApproved()
        if batch.item_count == 0:
            raise EmptyBatch()
        raise BatchChanged()
    session.refresh(batch)
    _record_step(
        session,
        batch=batch,
        lines=batch_lines(session, batch.id or 0),
        kind="approved",
        action="payment_batch.approve",
        name=name,
        actor=actor,
    )
    return batch


def _record_step(
    session: Session,
    *,
    batch: PaymentBatch,
    lines: list[BatchLine],
    kind: str,
    action: str,
    name: str,
    actor: Actor,
) -> None:
    """A step of the whole batch on each payment's history and in the audit log."""
    _event(
        session,
        item_ids=[line.item.id for line in lines if line.item.id],
        kind=kind,
        name=name,
        batch_id=batch.id,
    )
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="payment_batch",
        target_id=batch.id,
        detail=f"items={batch.item_count} total_cents={batch.total_cents}",
    )


def export(
    session: Session, *, batch: PaymentBatch, actor: Actor, payer: PayerAccount
) -> PaymentBatch:
    """Approved → exported: the bank file's content is fixed from now on (its date and message
    id are the batch's). The file is validated before the move."""
    if batch.status == BatchStatus.draft:
        raise NotApproved()
    if batch.status != BatchStatus.approved:
        raise AlreadyExported()
    now = utcnow()
    result = session.execute(
        sa.update(PaymentBatch)
        .where(col(PaymentBatch.id) == batch.id, col(PaymentBatch.status) == BatchStatus.approved)
        .values(
            status=BatchStatus.exported,
            exported_by_id=user_id(actor),
            exported_at=now,
            execution_date=helsinki_date(now),
            version=PaymentBatch.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyExported()
    session.refresh(batch)
    lines = batch_lines(session, batch.id or 0)
    bank_file(batch, [line.item for line in lines], payer)  # refuses an invalid file: nothing moves
    _record_step(
        session,
        batch=batch,
        lines=lines,
        kind="exported",
        action="payment_batch.export",
        name=actor_name(session, actor),
        actor=actor,
    )
    return batch


def download(
    session: Session, *, batch: PaymentBatch, kind: str, actor: Actor, payer: PayerAccount
) -> bytes:
    """The bank file (`pain001`) or the finance CSV (`finance_csv`) of an exported batch, with
    the audit row of the download."""
    if batch.status not in (BatchStatus.exported, BatchStatus.closed):
        raise NotApproved() if batch.status == BatchStatus.draft else NotExported()
    lines = batch_lines(session, batch.id or 0)
    items = [line.item for line in lines]
    content = (
        bank_file(batch, items, payer) if kind == "pain001" else finance_csv(batch, items, payer)
    )
    audit.record(
        session,
        actor=actor,
        action=f"payment_batch.download.{kind}",
        target_type="payment_batch",
        target_id=batch.id,
        fields=["payee_name", "iban", "business_id"],
        detail=f"items={len(items)}",
    )
    return content


# --- Outcomes ---------------------------------------------------------------------------------------


def _close_if_settled(session: Session, batch: PaymentBatch) -> None:
    unsettled = (
        select(PaymentBatchItem.id)
        .where(
            col(PaymentBatchItem.batch_id) == batch.id,
            col(PaymentBatchItem.outcome).is_(None),
        )
        .exists()
    )
    session.execute(
        sa.update(PaymentBatch)
        .where(
            col(PaymentBatch.id) == batch.id,
            col(PaymentBatch.status) == BatchStatus.exported,
            ~unsettled,
        )
        .values(status=BatchStatus.closed, closed_at=utcnow(), version=PaymentBatch.version + 1)
        .execution_options(synchronize_session=False)
    )


def _settle(
    session: Session,
    *,
    batch: PaymentBatch,
    item_id: int,
    outcome: Outcome,
    paid_on: date | None,
    reason: str | None,
    name: str,
) -> None:
    if batch.status != BatchStatus.exported:
        raise NotExported()
    result = session.execute(
        sa.update(PaymentBatchItem)
        .where(
            col(PaymentBatchItem.batch_id) == batch.id,
            col(PaymentBatchItem.item_id) == item_id,
            col(PaymentBatchItem.outcome).is_(None),
        )
        .values(
            outcome=outcome,
            paid_on=paid_on if outcome == Outcome.paid else None,
            failure_reason=reason if outcome == Outcome.failed else None,
            settled_at=utcnow(),
            settled_by_name=name,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        exists = session.execute(
            select(PaymentBatchItem.id).where(
                col(PaymentBatchItem.batch_id) == batch.id,
                col(PaymentBatchItem.item_id) == item_id,
            )
        ).first()
        raise AlreadySettled() if exists else NotFound()
    if outcome == Outcome.paid:
        paid = session.execute(
            sa.update(PaymentItem)
            .where(col(PaymentItem.id) == item_id, col(PaymentItem.status) == ItemStatus.open)
            .values(status=ItemStatus.paid, paid_on=paid_on)
            .execution_options(synchronize_session=False)
        )
        if paid.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadySettled()
    _event(
        session,
        item_ids=[item_id],
        kind=outcome.value,
        name=name,
        batch_id=batch.id,
        detail=paid_on.isoformat() if paid_on and outcome == Outcome.paid else reason,
    )


def mark_paid(
    session: Session, *, batch: PaymentBatch, item_id: int, paid_on: date, actor: Actor
) -> None:
    _mark(session, batch=batch, item_id=item_id, outcome=Outcome.paid, paid_on=paid_on, actor=actor)


def mark_failed(
    session: Session, *, batch: PaymentBatch, item_id: int, reason: str, actor: Actor
) -> None:
    """The bank refused it: the item leaves this batch's count of live payments and becomes
    payable again (a new batch, perhaps after the account is corrected)."""
    _mark(session, batch=batch, item_id=item_id, outcome=Outcome.failed, reason=reason, actor=actor)


def _mark(
    session: Session,
    *,
    batch: PaymentBatch,
    item_id: int,
    outcome: Outcome,
    actor: Actor,
    paid_on: date | None = None,
    reason: str | None = None,
) -> None:
    """One payment marked by hand; the batch closes when none is left unmarked."""
    _settle(
        session,
        batch=batch,
        item_id=item_id,
        outcome=outcome,
        paid_on=paid_on,
        reason=reason,
        name=actor_name(session, actor),
    )
    _close_if_settled(session, batch)
    audit.record(
        session,
        actor=actor,
        action=f"payment_item.{outcome.value}",
        target_type="payment_item",
        target_id=item_id,
        fields=["status", "paid_on"] if outcome == Outcome.paid else ["outcome"],
        detail=f"batch={batch.id}",
    )
    session.refresh(batch)


@dataclass
class StatusReport:
    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def apply_status_file(
    session: Session, *, batch: PaymentBatch, content: bytes, actor: Actor
) -> StatusReport:
    """Mark the batch's payments from the bank's status report (pain.002 XML) or a CSV of
    application numbers (`number[;paid|failed[;date or reason]]`). Numbers not in this batch are
    listed and change nothing; already settled ones are listed too."""
    if batch.status != BatchStatus.exported:
        raise NotExported()
    rows = parse_status_file(content, default_paid_on=today())
    lines = batch_lines(session, batch.id or 0)
    by_key: dict[str, list[BatchLine]] = {}
    for line in lines:
        by_key.setdefault(line.item.application_number, []).append(line)
        by_key.setdefault(end_to_end_id(line.item), []).append(line)
    report = StatusReport()
    name = actor_name(session, actor)
    settled = {line.item.id for line in lines if line.link.outcome is not None}
    for row in rows:
        matches = by_key.get(row.key)
        if not matches:
            report.unknown.append(row.key)
            continue
        for line in matches:
            label = end_to_end_id(line.item)
            if line.item.id in settled:
                report.already.append(label)
                continue
            try:
                with session.begin_nested():
                    _settle(
                        session,
                        batch=batch,
                        item_id=line.item.id or 0,
                        outcome=row.outcome,
                        paid_on=row.paid_on,
                        reason=row.reason,
                        name=name,
                    )
            except AlreadySettled:
                report.already.append(label)
                continue
            settled.add(line.item.id)  # a number repeated in the file is "already"
            (report.paid if row.outcome == Outcome.paid else report.failed).append(label)
    _close_if_settled(session, batch)
    audit.record(
        session,
        actor=actor,
        action="payment_batch.status_file",
        target_type="payment_batch",
        target_id=batch.id,
        detail=(
            f"paid={len(report.paid)} failed={len(report.failed)}"
            f" already={len(report.already)} unknown={len(report.unknown)}"
        ),
    )
    session.refresh(batch)
    return report
