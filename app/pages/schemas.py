from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.types import Email


class FeedbackIn(BaseModel):
    """Feedback on the service's accessibility, from the form or the API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=2000)
    page: str | None = Field(default=None, max_length=500)
    wants_reply: bool = False
    email: Email | None = None

    @model_validator(mode="after")
    def email_when_reply_wanted(self) -> FeedbackIn:
        if self.wants_reply and not self.email:
            raise PydanticCustomError(
                "reply_needs_email", "An e-mail address is needed for a reply", {"field": "email"}
            )
        return self


class FeedbackOut(BaseModel):
    id: int
