from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Company(SQLModel, table=True):
    """An organisation by its business id (Y-tunnus). Public register data only: no personal data."""

    __tablename__ = "company"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(max_length=9, unique=True)  # 1234567-8
    name: str = Field(max_length=255)
    company_form: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=255)
    street_address: str | None = Field(default=None, max_length=255)
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=100)
    # Associations answer extra questions in Helsinki-lisä; decided from the company form.
    is_association: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the trade register last answered for this company; None = created from mandate data.
    register_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
