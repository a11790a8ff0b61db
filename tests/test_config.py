"""Settings: production refuses unsafe values, one line per reason."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from app.config import Environment, Settings, UnsafeSettingsError
from app.main import create_app

SAFE = {
    "app_env": Environment.production,
    "secret_key": SecretStr("k" * 48),
    "database_url": "postgresql+psycopg://portal@db.internal:5432/portal",
    "employer_oidc_issuer": "https://login.hel.fi/realms/helsinki-tunnistus",
    "staff_oidc_issuer": "https://login.microsoftonline.com/tenant/v2.0",
    "public_base_url": "https://tyollisyyspalvelut.hel.fi",
    "encryption_keys": {"k2026": SecretStr(base64.b64encode(b"p" * 32).decode())},
    "encryption_active_key_id": "k2026",
    "blind_index_key": SecretStr("b" * 48),
    "employer_oidc_client_secret": SecretStr("e" * 40),
    "staff_oidc_client_secret": SecretStr("s" * 40),
    "population_register": "vtj",
    "payment_debtor_iban": "FI49 5000 9420 0287 30",
    "debug": False,
}


def production(**overrides: object) -> Settings:
    return Settings(_env_file=None, **{**SAFE, **overrides})  # type: ignore[arg-type]


def test_safe_production_settings_start() -> None:
    settings = production()
    assert settings.unsafe_reasons() == []
    create_app(settings)  # does not connect to the database at start-up


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (
            {"secret_key": SecretStr("insecure-development-secret-key-change-me")},
            "SECRET_KEY is the development default",
        ),
        ({"secret_key": SecretStr("short")}, "SECRET_KEY is shorter than 32 characters"),
        ({"database_url": "sqlite:///var/portal.db"}, "DATABASE_URL points to SQLite"),
        ({"employer_oidc_issuer": "http://127.0.0.1:9400"}, "EMPLOYER_OIDC_ISSUER is a loopback"),
        ({"staff_oidc_issuer": "http://localhost:9401/"}, "STAFF_OIDC_ISSUER is a loopback"),
        ({"employer_oidc_issuer": "http://[::1]:9400"}, "EMPLOYER_OIDC_ISSUER is a loopback"),
        ({"debug": True}, "DEBUG is on"),
        ({"public_base_url": "http://127.0.0.1:8000"}, "PUBLIC_BASE_URL is a loopback"),
        (
            {"employer_oidc_client_secret": SecretStr("portal-employer-secret")},
            "EMPLOYER_OIDC_CLIENT_SECRET is the development default",
        ),
        (
            {
                "encryption_keys": {
                    "dev1": SecretStr("ZGV2LW9ubHkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=")
                },
                "encryption_active_key_id": "dev1",
            },
            "ENCRYPTION_KEYS contains the development key",
        ),
        (
            {"blind_index_key": SecretStr("development-blind-index-key-not-for-production")},
            "BLIND_INDEX_KEY is the development default",
        ),
        ({"payment_debtor_iban": "FI2112345600000785"}, "PAYMENT_DEBTOR_IBAN is the test account"),
    ],
)
def test_production_refuses_each_unsafe_value_with_its_reason(
    override: dict[str, object], reason: str
) -> None:
    settings = production(**override)
    with pytest.raises(UnsafeSettingsError) as excinfo:
        create_app(settings)
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "Refusing to start in production:"
    assert len(lines) == 2, lines
    assert reason in lines[1]


def test_all_reasons_are_listed_at_once() -> None:
    reasons = Settings(_env_file=None, app_env=Environment.production, debug=True).unsafe_reasons()
    assert len(reasons) == 12
    assert all("\n" not in r for r in reasons)


def test_an_invalid_debtor_account_is_refused() -> None:
    with pytest.raises(ValueError, match="payment_debtor_iban"):
        Settings(_env_file=None, payment_debtor_iban="FI00 1234")


def test_development_defaults_are_accepted_outside_production() -> None:
    for env in (Environment.development, Environment.test):
        assert Settings(_env_file=None, app_env=env).unsafe_reasons() == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("ENCRYPTION_KEYS", '{"a": "' + base64.b64encode(b"z" * 32).decode() + '"}')
    monkeypatch.setenv("ENCRYPTION_ACTIVE_KEY_ID", "a")
    settings = Settings(_env_file=None)
    assert settings.app_env == Environment.test
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.encryption_active_key_id == "a"


def test_rate_limits_from_the_environment_keep_the_other_actions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMITS", '{"youth_apply": [5, 60]}')
    limits = Settings(_env_file=None).rate_limits
    assert limits["youth_apply"] == (5, 60)
    assert limits["subsidy_estimate"] == (300, 600)
    assert limits["youth_activate"] == (60, 600)
