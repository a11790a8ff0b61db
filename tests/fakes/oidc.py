"""A deliberately misbehaving OpenID provider: it answers the code flow with an ID token that is
wrong in one chosen way (bad signature, wrong issuer or audience, expired, nonce mismatch, ...).
The honest mode ("valid") proves the fake itself works, so a refusal means the client checked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode

from authlib.jose import JsonWebKey, jwt

from tests.fakes.server import FakeRequest, FakeResponse, FakeServer

MODES = (
    "valid",
    "bad_signature",
    "wrong_issuer",
    "wrong_audience",
    "expired",
    "nonce_mismatch",
    "no_nonce",
)


class ForgingProvider:
    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.mode = "valid"
        self.claims: dict[str, Any] = {
            "sub": "forged-user",
            "acr": "substantial",
            "organizations": [],
        }
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "real"})
        self.other_key = JsonWebKey.generate_key(
            "RSA", 2048, is_private=True, options={"kid": "real"}
        )
        self.server = FakeServer()
        self._nonces: dict[str, str] = {}  # code -> nonce of the authorization request
        self.server.route("GET", "/.well-known/openid-configuration", self._discovery)
        self.server.route("GET", "/jwks", self._jwks)
        self.server.route("GET", "/authorize", self._authorize)
        self.server.route("POST", "/token", self._token)

    @property
    def issuer(self) -> str:
        return self.server.base_url

    @contextmanager
    def running(self) -> Iterator[ForgingProvider]:
        with self.server.running():
            yield self

    def _discovery(self, _request: FakeRequest) -> FakeResponse:
        return FakeResponse.json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    def _jwks(self, _request: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"keys": [self.key.as_dict()]})

    def _authorize(self, request: FakeRequest) -> FakeResponse:
        params = {k: v[0] for k, v in request.query.items()}
        code = f"code-{len(self._nonces)}"
        self._nonces[code] = params.get("nonce", "")
        location = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"
        return FakeResponse(status=302, headers={"Location": location})

    def _token(self, request: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        nonce = self._nonces.pop(form.get("code", ""), None)
        if nonce is None:
            return FakeResponse.json({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims: dict[str, Any] = {
            **self.claims,
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        key = self.key
        if self.mode == "bad_signature":
            key = self.other_key  # same kid, different key: the signature cannot verify
        elif self.mode == "wrong_issuer":
            claims["iss"] = "https://attacker.example"
        elif self.mode == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.mode == "nonce_mismatch":
            claims["nonce"] = "not-the-nonce-that-was-sent"
        elif self.mode == "no_nonce":
            del claims["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "real"}, claims, key).decode()
        return FakeResponse.json(
            {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        )
