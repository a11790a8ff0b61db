"""The two OpenID Connect clients (employers, staff) with Authlib: code flow, PKCE, nonce."""

from __future__ import annotations

import os
from typing import Any

from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from app.config import Settings, is_loopback_url

SCOPES = "openid profile email"


def build_oauth(settings: Settings) -> OAuth:
    if not settings.is_production and (
        is_loopback_url(settings.employer_oidc_issuer)
        or is_loopback_url(settings.staff_oidc_issuer)
    ):
        # The local test provider speaks plain HTTP on loopback; production refuses such issuers.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    oauth = OAuth()
    for name, issuer, client_id, secret in (
        (
            "employer",
            settings.employer_oidc_issuer,
            settings.employer_oidc_client_id,
            settings.employer_oidc_client_secret,
        ),
        (
            "staff",
            settings.staff_oidc_issuer,
            settings.staff_oidc_client_id,
            settings.staff_oidc_client_secret,
        ),
    ):
        oauth.register(
            name,
            client_id=client_id,
            client_secret=secret.get_secret_value(),
            server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10},
        )
    return oauth


def client(oauth: OAuth, name: str) -> StarletteOAuth2App:
    app: StarletteOAuth2App = oauth.create_client(name)
    return app


def claims_options(issuer: str) -> dict[str, Any]:
    """The ID token must come from exactly the configured issuer (mix-up protection)."""
    return {"iss": {"essential": True, "values": [issuer.rstrip("/")]}}
