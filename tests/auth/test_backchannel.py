"""OIDC back-channel logout: the provider ends a login; the logout token is validated in full."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from authlib.jose import JsonWebKey, jwt
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import User, UserSession
from tests.conftest import IdentityProvider, login

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(key: Any, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": overrides.pop("iss"),
        "aud": "portal-employer",
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "sub": "employer-one",
        "events": {EVENT: {}},
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    token: bytes = jwt.encode({"alg": "RS256", "kid": key.as_dict()["kid"]}, claims, key)
    return token.decode()


def employer_sessions(db: Session) -> list[UserSession]:
    user = db.exec(
        select(User).where(User.subject == "employer-one", User.kind == "employer")
    ).one()
    return list(db.exec(select(UserSession).where(UserSession.user_id == user.id)).all())


def test_valid_logout_token_ends_the_users_sessions(
    client: TestClient, db: Session, identity_provider: IdentityProvider
) -> None:
    login(client, "employer-one")
    assert client.get("/employer").status_code == 200
    token = logout_token(identity_provider.signing_key, iss=identity_provider.issuer)
    answer = TestClient(client.app).post("/auth/backchannel-logout", data={"logout_token": token})
    assert answer.status_code == 200
    assert answer.text == "OK"
    assert all(s.end_reason == "backchannel" for s in employer_sessions(db))
    assert client.get("/employer", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"events": None},
        {"events": {"http://example.com/other-event": {}}},
        {"nonce": "abc"},
        {"sub": None},
        {"iat": int(time.time()) - 3600},
        {"iss": "http://127.0.0.1:1"},
    ],
    ids=[
        "wrong-aud",
        "no-events",
        "wrong-event",
        "with-nonce",
        "no-sub-no-sid",
        "stale",
        "unknown-issuer",
    ],
)
def test_bad_logout_tokens_are_refused(
    client: TestClient, db: Session, identity_provider: IdentityProvider, overrides: dict[str, Any]
) -> None:
    login(client, "employer-one")
    claims = {"iss": identity_provider.issuer, **overrides}
    token = logout_token(identity_provider.signing_key, **claims)
    answer = TestClient(client.app).post("/auth/backchannel-logout", data={"logout_token": token})
    assert answer.status_code == 400
    assert client.get("/employer").status_code == 200


def test_token_signed_with_another_key_is_refused(
    client: TestClient, identity_provider: IdentityProvider
) -> None:
    login(client, "employer-one")
    other_key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    token = logout_token(other_key, iss=identity_provider.issuer)
    answer = TestClient(client.app).post("/auth/backchannel-logout", data={"logout_token": token})
    assert answer.status_code == 400
    assert client.get("/employer").status_code == 200


def test_missing_token_is_refused(client: TestClient) -> None:
    assert client.post("/auth/backchannel-logout", data={}).status_code == 400
