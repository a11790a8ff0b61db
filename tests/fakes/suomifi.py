"""A fake Suomi.fi e-Authorizations Web API (organisation roles, "YPA") on a loopback FakeServer.

It is as strict as the real service where a client can get things wrong: the checksum header is
recomputed from the request line as received (so a re-encoded path fails), the timestamp must be
within ±5 minutes, the token endpoint wants HTTP Basic with the OAuth password, and the roles query
wants the Bearer token issued for that very session. The checksum is computed here on its own,
not with app.auth.mandates, so that a mistake in the client cannot be mirrored by the fake.

Answers are configured per hetu as wire-shaped entries (`{"name", "identifier", "complete",
"roles"}`); an unknown hetu gets an empty array, as a person without mandates would.
`session_expired = True` makes the roles query answer 401 like an expired DVV session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeRequest, FakeResponse, FakeServer

CLIENT_ID = "fake0001"
API_KEY = "6c1f0e2a-3b4d-4e5f-8a9b-0c1d2e3f"
OAUTH_SECRET = "fake-oauth-password"
MAX_SKEW = timedelta(minutes=5)

REGISTER_PREFIX = "/service/ypa/user/register/"
ROLES_PREFIX = "/service/ypa/api/organizationRoles/"


@dataclass
class _Session:
    hetu: str
    user_id: str
    redirect_uri: str | None = None
    access_token: str | None = None


class FakeSuomiFi:
    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        api_key: str = API_KEY,
        oauth_secret: str = OAUTH_SECRET,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client_id = client_id
        self.api_key = api_key
        self.oauth_secret = oauth_secret
        self.clock = clock or (lambda: datetime.now(UTC))
        self.server = FakeServer()
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.session_expired = False
        self._sessions: dict[str, _Session] = {}  # by session id
        self._codes: dict[str, str] = {}  # authorization code -> session id
        self.server.route("GET", REGISTER_PREFIX, self._register)
        self.server.route("GET", "/oauth/authorize", self._authorize)
        self.server.route("POST", "/oauth/token", self._token)
        self.server.route("GET", ROLES_PREFIX, self._roles)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def requests(self) -> list[FakeRequest]:
        return self.server.requests

    def set_organisations(self, hetu: str, entries: list[dict[str, Any]]) -> None:
        """What organizationRoles answers for sessions registered with this hetu."""
        self.answers[hetu] = entries

    @contextmanager
    def running(self) -> Iterator[FakeSuomiFi]:
        with self.server.running():
            yield self

    def _checksum_problem(self, request: FakeRequest) -> str | None:
        header = request.headers.get("x-asiointivaltuudetauthorization", "")
        parts = header.split(" ")
        if len(parts) != 3:
            return "checksum header missing or malformed"
        client_id, timestamp, checksum = parts
        if client_id != self.client_id:
            return "unknown client id"
        try:
            sent_at = datetime.fromisoformat(timestamp)
        except ValueError:
            return "timestamp not ISO-8601"
        if sent_at.tzinfo is None or abs(self.clock() - sent_at) > MAX_SKEW:
            return "timestamp outside the allowed window"
        message = f"{request.raw_path} {timestamp}".encode()
        expected = base64.b64encode(
            hmac.new(self.api_key.encode(), message, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(checksum, expected):
            return "checksum mismatch"
        return None

    @staticmethod
    def _unauthorized(message: str) -> FakeResponse:
        return FakeResponse.json({"error": "unauthorized", "message": message}, status=401)

    @staticmethod
    def _bad_request(message: str) -> FakeResponse:
        return FakeResponse.json({"error": "bad_request", "message": message}, status=400)

    def _register(self, request: FakeRequest) -> FakeResponse:
        problem = self._checksum_problem(request)
        if problem:
            return self._unauthorized(problem)
        segments = request.path.removeprefix(REGISTER_PREFIX).split("/")
        if len(segments) != 2 or segments[0] != self.client_id:
            return self._bad_request("expected /{clientId}/{hetu}")
        if not request.query.get("requestId", [""])[0]:
            return self._bad_request("requestId missing")
        session_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        self._sessions[session_id] = _Session(hetu=segments[1], user_id=user_id)
        return FakeResponse.json({"sessionId": session_id, "userId": user_id})

    def _authorize(self, request: FakeRequest) -> FakeResponse:
        """Stands in for DVV's selection page: the person "chooses" at once and goes back."""
        params = {name: values[0] for name, values in request.query.items()}
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return self._bad_request("client_id or response_type wrong")
        if params.get("lang") not in ("fi", "sv", "en"):
            return self._bad_request("lang must be fi, sv or en")
        redirect_uri = params.get("redirect_uri", "")
        session_id = next(
            (sid for sid, s in self._sessions.items() if s.user_id == params.get("user")), None
        )
        if not redirect_uri or session_id is None:
            return self._bad_request("redirect_uri missing or user unknown")
        self._sessions[session_id].redirect_uri = redirect_uri
        code = secrets.token_urlsafe(16)
        self._codes[code] = session_id
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode({'code': code})}"
        return FakeResponse(status=302, headers={"Location": location})

    def _token(self, request: FakeRequest) -> FakeResponse:
        expected = base64.b64encode(f"{self.client_id}:{self.oauth_secret}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}"):
            return FakeResponse.json({"error": "unauthorized"}, status=401)
        params = {name: values[0] for name, values in request.query.items()}
        if request.body or params.get("grant_type") != "authorization_code":
            return FakeResponse.json({"error": "invalid_request"}, status=400)
        session_id = self._codes.pop(params.get("code", ""), None)  # a code works once
        session = self._sessions.get(session_id) if session_id else None
        if session is None or session.redirect_uri != params.get("redirect_uri"):
            return FakeResponse.json({"error": "invalid_grant"}, status=400)
        session.access_token = str(uuid.uuid4())
        return FakeResponse.json(
            {
                "access_token": session.access_token,
                "token_type": "bearer",
                "refresh_token": str(uuid.uuid4()),
                "expires_in": 599,
                "scope": "read write trust",
            }
        )

    def _roles(self, request: FakeRequest) -> FakeResponse:
        problem = self._checksum_problem(request)
        if problem:
            return self._unauthorized(problem)
        if self.session_expired:
            return self._unauthorized("session expired")
        session = self._sessions.get(request.path.removeprefix(ROLES_PREFIX))
        if session is None or session.access_token is None:
            return self._unauthorized("unknown session")
        bearer = request.headers.get("authorization", "")
        if not hmac.compare_digest(bearer, f"Bearer {session.access_token}"):
            return self._unauthorized("invalid token")
        if not request.query.get("requestId", [""])[0]:
            return self._bad_request("requestId missing")
        return FakeResponse.json(self.answers.get(session.hetu, []))
