"""Mail settings, read from the environment on their own so the sender can be configured without
touching the application's Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAIL_FROM = "Helsingin kaupunki <noreply@hel.fi>"
# With the backoff of 1, 2, 4 ... 60 minutes, 8 attempts span about two hours.
DEFAULT_MAX_ATTEMPTS = 8


class MailSettings(BaseSettings):
    """How outbox messages leave the portal: `smtp` in production, `file` (.eml files under
    MAIL_DIR) for `make run`, where no mail server exists and a developer reads the files."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    mail_backend: Literal["smtp", "file"] = "file"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = DEFAULT_MAIL_FROM
    mail_dir: Path = Path("var/mail")
    mail_max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1)
