from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.types import Email


class FeedbackIn(BaseModel):
    """Feedback on the service's accessibility, from the form or the API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=2000)
    page: str | None = Field(default=None, max_length=500)
    wants_reply: bool = False
    # Validated even when left out, so the "reply needs an address" rule is reported together
    # with the other fields' errors rather than only after they are fixed.
    email: Email | None = Field(default=None, validate_default=True)

    @field_validator("email")
    @classmethod
    def email_when_reply_wanted(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("wants_reply") and not value:
            raise PydanticCustomError(
                "reply_needs_email", "An e-mail address is needed for a reply"
            )
        return value


class FeedbackOut(BaseModel):
    id: int
