"""Settings from environment variables; unsafe values are refused in production."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults. Each one is refused in production (see Settings.unsafe_reasons).
# Public actions counted per client address: action -> (requests, seconds). A whole class may
# apply from one school address; the estimate's page script asks once per pause in typing.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "youth_apply": (60, 600),
    "youth_activate": (60, 600),
    "subsidy_estimate": (300, 600),
    # Pupils' TET search, page and API together: a whole class searching from one school
    # address makes a few hundred requests a minute.
    "tet_search": (300, 60),
}
DEFAULT_SECRET_KEY = "insecure-development-secret-key-change-me"  # noqa: S105
# base64 of a 32-byte development key: fine for development and tests, refused in production.
DEFAULT_ENCRYPTION_KEY = "ZGV2LW9ubHkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
DEFAULT_BLIND_INDEX_KEY = "development-blind-index-key-not-for-production"
MIN_SECRET_LENGTH = 32
DEFAULT_DEBTOR_IBAN = "FI2112345600000785"  # the banks' documented test account
DEFAULT_CLIENT_SECRETS = frozenset({"portal-employer-secret", "portal-staff-secret"})


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """All configuration, read once from the environment (and an optional .env file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_env: Environment = Environment.development
    debug: bool = False
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    database_url: str = "sqlite:///var/portal.db"
    db_pool_size: int = 10
    db_max_overflow: int = 10

    # Field encryption: key id -> base64 of a 32-byte AES key; new values use the active id.
    encryption_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev1": SecretStr(DEFAULT_ENCRYPTION_KEY)}
    )
    encryption_active_key_id: str = "dev1"
    blind_index_key: SecretStr = SecretStr(DEFAULT_BLIND_INDEX_KEY)

    # Identity providers; the identity issue adds clients. A loopback issuer is test-only.
    employer_oidc_issuer: str = "http://127.0.0.1:8001"
    staff_oidc_issuer: str = "http://127.0.0.1:8001"

    # Identity: OIDC clients (the issuers above), mandates and sessions.
    employer_oidc_client_id: str = "portal-employer"
    employer_oidc_client_secret: SecretStr = SecretStr("portal-employer-secret")
    employer_acr_minimum: str = "substantial"  # eIDAS level: low < substantial < high
    staff_oidc_client_id: str = "portal-staff"
    staff_oidc_client_secret: SecretStr = SecretStr("portal-staff-secret")
    staff_roles_claim: str = "groups"
    # Group id in the staff provider's claim -> portal role (handler, decider, payer, admin, tet).
    staff_role_groups: dict[str, str] = Field(
        default_factory=lambda: {
            "portal-handlers": "handler",
            "portal-deciders": "decider",
            "portal-payers": "payer",
            "portal-admins": "admin",
            "portal-tet-editors": "tet",
        }
    )
    # The staff provider's claim naming the city unit a person works in (TET postings of a unit).
    staff_unit_claim: str = "department"
    # The portal's address as users reach it, for links in e-mails sent by jobs (no request).
    public_base_url: str = "http://127.0.0.1:8000"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    mandate_source: Literal["claims", "suomifi"] = "claims"
    suomifi_base_url: str = "https://asiointivaltuustarkastus.test.suomi.fi"
    suomifi_client_id: str = ""
    suomifi_api_key: SecretStr = SecretStr("")
    suomifi_oauth_secret: SecretStr = SecretStr("")
    suomifi_timeout_seconds: float = 10.0

    # Trade register (PRH YTJ open data API v3).
    ytj_base_url: str = "https://avoindata.prh.fi/opendata-ytj-api/v3"
    ytj_timeout_seconds: float = 5.0
    # Company forms (as the register names them, any language) that make an organisation an association.
    association_company_forms: list[str] = Field(
        default_factory=lambda: [
            "Aatteellinen yhdistys",
            "Yhdistys",
            "Ideell förening",
            "Förening",
            "Non-profit association",
            "Säätiö",
            "Stiftelse",
            "Foundation",
            "Uskonnollinen yhdyskunta",
        ]
    )

    # Kesäseteli: where copies of vouchers and handler notices go; the population register used.
    summer_voucher_handler_email: str = "kesaseteli@hel.fi"
    population_register: Literal["fixture", "vtj"] = "fixture"
    vtj_base_url: str = ""
    vtj_username: str = ""
    vtj_password: SecretStr = SecretStr("")
    vtj_timeout_seconds: float = 10.0

    # Public actions: action -> (requests, window in seconds) per client address. Generous, because
    # a whole class may apply from one school network address.
    rate_limits: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(RATE_LIMITS))
    # Public pages for anonymous visitors (the pupils' TET search) are kept this many seconds per
    # worker (app/cache.py), and served at most twice as old while renewed: 0.5 keeps a newly
    # published posting out of sight for at most a second. 0 turns the cache off.
    public_cache_seconds: float = Field(default=0.5, ge=0, le=5)
    # Send queued e-mail from the web process (development); production drains with `send-mail`.
    outbox_worker: bool = False

    # Payments: the city's account the bank file debits (a test account by default, refused in
    # production) and the cost centre of the finance CSV.
    payment_debtor_name: str = "Helsingin kaupunki"
    payment_debtor_iban: str = DEFAULT_DEBTOR_IBAN
    payment_debtor_bic: str | None = "NDEAFIHH"
    payment_cost_centre: str = "1800 Kaupunginkanslia"

    # Attachment contents (app/documents/storage.py); rows in the database name them.
    files_dir: Path = Path("var/files")
    max_body_bytes: int = 12 * 1024 * 1024  # uploads are limited to 10 MB each, plus form overhead
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_production(self) -> bool:
        return self.app_env == Environment.production

    @property
    def is_development(self) -> bool:
        return self.app_env == Environment.development

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @field_validator("rate_limits")
    @classmethod
    def _every_action_has_a_limit(
        cls, value: dict[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int]]:
        """RATE_LIMITS may name only the actions it changes; the others keep their defaults."""
        return {**RATE_LIMITS, **value}

    @property
    def identity_provider_origins(self) -> list[str]:
        """scheme://host[:port] of the identity providers, for the CSP's form-action."""
        origins = []
        for issuer in (self.employer_oidc_issuer, self.staff_oidc_issuer):
            parts = urlsplit(issuer)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
        return origins

    def unsafe_reasons(self) -> list[str]:
        """One line per reason why these settings must not run in production (empty when safe)."""
        if not self.is_production:
            return []
        reasons: list[str] = []
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY:
            reasons.append("SECRET_KEY is the development default; set a random secret.")
        elif len(secret) < MIN_SECRET_LENGTH:
            reasons.append(f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters.")
        if self.is_sqlite:
            reasons.append("DATABASE_URL points to SQLite; production runs on PostgreSQL.")
        if self.debug:
            reasons.append("DEBUG is on; turn it off in production.")
        for name, issuer in (
            ("EMPLOYER_OIDC_ISSUER", self.employer_oidc_issuer),
            ("STAFF_OIDC_ISSUER", self.staff_oidc_issuer),
        ):
            if is_loopback_url(issuer):
                reasons.append(f"{name} is a loopback test identity provider ({issuer}).")
        if any(
            k.get_secret_value() == DEFAULT_ENCRYPTION_KEY for k in self.encryption_keys.values()
        ):
            reasons.append("ENCRYPTION_KEYS contains the development key; set real keys.")
        if self.encryption_active_key_id not in self.encryption_keys:
            reasons.append("ENCRYPTION_ACTIVE_KEY_ID is not one of ENCRYPTION_KEYS.")
        for name, client_secret in (
            ("EMPLOYER_OIDC_CLIENT_SECRET", self.employer_oidc_client_secret),
            ("STAFF_OIDC_CLIENT_SECRET", self.staff_oidc_client_secret),
        ):
            if client_secret.get_secret_value() in DEFAULT_CLIENT_SECRETS:
                reasons.append(
                    f"{name} is the development default; set the provider's client secret."
                )
        if is_loopback_url(self.public_base_url):
            reasons.append(f"PUBLIC_BASE_URL is a loopback address ({self.public_base_url}).")
        if self.population_register == "fixture":
            reasons.append("POPULATION_REGISTER is the test fixture; use the VTJ query service.")
        if self.blind_index_key.get_secret_value() == DEFAULT_BLIND_INDEX_KEY:
            reasons.append("BLIND_INDEX_KEY is the development default; set a random key.")
        if self.payment_debtor_iban.replace(" ", "") == DEFAULT_DEBTOR_IBAN:
            reasons.append("PAYMENT_DEBTOR_IBAN is the test account; set the city's account.")
        return reasons

    @field_validator("payment_debtor_iban")
    @classmethod
    def _valid_iban(cls, value: str) -> str:
        from stdnum import iban

        return iban.validate(value)


class UnsafeSettingsError(RuntimeError):
    """Raised at start-up when production settings are unsafe; the message lists every reason."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
