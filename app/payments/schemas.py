"""Inputs and outputs of the payment use cases; the HTML forms and the JSON API share them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.payments.models import Programme

ItemIds = Annotated[list[int], Field(min_length=1, max_length=20_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BatchCreateIn(_In):
    item_ids: ItemIds


class BatchItemsIn(_In):
    item_ids: ItemIds


class ApproveIn(_In):
    version: int = Field(ge=1)


class PaidIn(_In):
    paid_on: date

    @field_validator("paid_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        from app.payments.service import today

        if value > today():
            raise PydanticCustomError("paid_on_future", "a payment date in the future")
        return value


class FailedIn(_In):
    reason: str = Field(min_length=1, max_length=512)


class PayableFilterIn(_In):
    programme: Programme | None = None
    due_until: date | None = None


class ItemOut(BaseModel):
    id: int
    programme: str
    application_number: str
    instalment: int
    instalments: int
    amount: Decimal
    amount_cents: int
    decision_date: date
    due_date: date
    payee_name: str
    business_id: str | None
    iban: str
    bic: str | None
    creditor_reference: str | None
    status: str
    paid_on: date | None


class BatchLineOut(BaseModel):
    item: ItemOut
    outcome: str | None
    paid_on: date | None
    failure_reason: str | None


class BatchOut(BaseModel):
    id: int
    status: str
    version: int
    item_count: int
    total: Decimal
    total_cents: int
    message_id: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    exported_at: datetime | None
    execution_date: date | None
    closed_at: datetime | None


class BatchDetailOut(BatchOut):
    lines: list[BatchLineOut]


class PayableOut(BaseModel):
    count: int
    total: Decimal
    items: list[ItemOut]
    next_after: str | None


class EventOut(BaseModel):
    kind: str
    batch_id: int | None
    actor_name: str
    detail: str | None
    created_at: datetime


class ItemDetailOut(ItemOut):
    history: list[EventOut]


class StatusReportOut(BaseModel):
    paid: list[str]
    failed: list[str]
    already: list[str]
    unknown: list[str]
    batch: BatchOut
