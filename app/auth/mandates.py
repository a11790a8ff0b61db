"""Mandates: the organisations a logged-in person may act for, and with which roles.

Two sources, chosen by `Settings.mandate_source`:

- `claims`: the identity provider already knows the organisations and puts them in an
  `organizations` claim (the local test provider, and brokers that add it). `ClaimsMandateSource`
  reads it right after the OIDC login; nothing else is called.
- `suomifi`: the Suomi.fi e-Authorizations Web API (organisation roles, "YPA"). It needs a browser
  round trip through DVV's selection page, so it cannot hide behind the one-call `MandateSource`
  protocol; `SuomiFiClient` offers the four steps (register, authorize URL, token, roles) and the
  login flow drives them.

Every e-Authorizations query carries a fresh `requestId` that DVV logs on its side. DVV requires the
service to keep who queried, for which organisation, the roles, `complete` and the outcome, so the
request id travels with every result (`RegisterResult.request_id`, `RolesResult.request_id`) and
with every failure (`MandateUnavailable.request_id`) for the caller's audit row. Results are
returned rather than kept on the client so that one client can serve concurrent logins.

Nothing here logs or keeps a personal identity code, session id, user id or token: the hetu is only
placed in the register path, and URLs are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic_core import PydanticCustomError
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import hetu as std_hetu

from app.http import HttpAdapter
from app.logs import get_logger
from app.types import normalize_business_id

if TYPE_CHECKING:
    from app.config import Settings

log = get_logger("app.auth.mandates")

CHECKSUM_HEADER = "X-AsiointivaltuudetAuthorization"
# DVV's selection page speaks these languages only.
SELECTION_LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True)
class Organisation:
    """An organisation the person may act for.

    `complete` is False when e-Authorizations could not finish every rule check (typically the
    trade register call for NIMKO failed): the roles may then be missing some, and the caller
    decides whether that is enough to act.
    """

    business_id: str
    name: str
    roles: tuple[str, ...]
    complete: bool = True


class MandateUnavailable(Exception):
    """The mandate query failed, so it is unknown whom the person may act for.

    Distinct from an empty answer (the person may act for nobody). `reason` is one of
    "timeout", "unreachable", "unauthorized" (expired e-Authorizations session or a rejected
    checksum), "http_error" and "bad_response"; `request_id` is the e-Authorizations request id
    when the call had one, for the audit log.
    """

    def __init__(
        self,
        operation: str,
        reason: str,
        *,
        request_id: str | None = None,
        status_code: int | None = None,
    ) -> None:
        status = f" (HTTP {status_code})" if status_code is not None else ""
        super().__init__(f"mandate query {operation} failed: {reason}{status}")
        self.operation = operation
        self.reason = reason
        self.request_id = request_id
        self.status_code = status_code


class MandateSource(Protocol):
    """Organisations from what the login itself returned (ID token and userinfo claims)."""

    def organisations(self, *, claims: Mapping[str, Any]) -> list[Organisation]: ...


def _roles(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        return None
    return tuple(value)


def _merge(organisations: list[Organisation]) -> list[Organisation]:
    """One entry per business id, in first-seen order: roles united, complete only if all were.

    Sources may list an organisation twice (one entry per role rule); the user must still see it
    once in the organisation chooser.
    """
    merged: dict[str, Organisation] = {}
    for org in organisations:
        seen = merged.get(org.business_id)
        if seen is None:
            merged[org.business_id] = org
            continue
        roles = seen.roles + tuple(role for role in org.roles if role not in seen.roles)
        merged[org.business_id] = Organisation(
            business_id=seen.business_id,
            name=seen.name,
            roles=roles,
            complete=seen.complete and org.complete,
        )
    return list(merged.values())


def _business_id(value: Any) -> str | None:
    try:
        return normalize_business_id(value)
    except PydanticCustomError:
        return None


class ClaimsMandateSource:
    """Organisations from a claim: a list of `{"business_id", "name", "roles"}` objects.

    Some brokers stringify custom claims, so a JSON string holding that list is accepted too.
    An entry with an invalid business id or without a name cannot be offered to the user and is
    skipped with a warning (position and reason only: names of sole traders are personal data).
    A claim that is not a list at all means the broker is misconfigured; that is reported as
    `MandateUnavailable` rather than silently as "no organisations".
    """

    def __init__(self, claim: str = "organizations") -> None:
        self.claim = claim

    def organisations(self, *, claims: Mapping[str, Any]) -> list[Organisation]:
        value = claims.get(self.claim)
        if value is None:
            return []
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                log.warning("mandate_claim_invalid", claim=self.claim, reason="not JSON")
                raise MandateUnavailable("claims", "bad_response") from None
        if not isinstance(value, list):
            log.warning("mandate_claim_invalid", claim=self.claim, reason="not a list")
            raise MandateUnavailable("claims", "bad_response")
        found: list[Organisation] = []
        for index, entry in enumerate(value):
            org, problem = self._entry(entry)
            if org is None:
                log.warning(
                    "mandate_claim_entry_skipped", claim=self.claim, index=index, reason=problem
                )
                continue
            found.append(org)
        return _merge(found)

    @staticmethod
    def _entry(entry: Any) -> tuple[Organisation | None, str]:
        if not isinstance(entry, dict):
            return None, "not an object"
        business_id = _business_id(entry.get("business_id"))
        if business_id is None:
            return None, "invalid business id"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            return None, "no name"
        roles = _roles(entry.get("roles"))
        if roles is None:
            return None, "roles not a list of strings"
        return Organisation(business_id=business_id, name=name.strip(), roles=roles), ""


def checksum_header(path_and_query: str, timestamp: str, *, client_id: str, api_key: str) -> str:
    """The `X-AsiointivaltuudetAuthorization` value: "<client id> <timestamp> <checksum>".

    The checksum is base64(HMAC-SHA256(API key, "<path and query> <timestamp>")). DVV recomputes it
    from the request line it received, so `path_and_query` must be exactly what goes on the wire.
    """
    message = f"{path_and_query} {timestamp}".encode()
    digest = hmac.new(api_key.encode(), message, hashlib.sha256).digest()
    return f"{client_id} {timestamp} {base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class RegisterResult:
    """A registered e-Authorizations session: `session_id` for the roles query, `user_id` for the
    selection page."""

    session_id: str
    user_id: str
    request_id: str


@dataclass(frozen=True)
class RolesResult:
    """The organisation roles answer. An empty list is a valid answer: the person may act for no
    organisation (or a rule such as bankruptcy excluded them)."""

    organisations: list[Organisation]
    request_id: str


class SuomiFiClient(HttpAdapter):
    """Suomi.fi e-Authorizations Web API client for organisation roles (YPA).

    The flow after a strong login that gave the person's hetu:
    `register(hetu)` -> redirect the browser to `authorize_url(result.user_id, ...)` -> on the
    callback, `exchange_code(code, ...)` -> `organization_roles(result.session_id, token)`.
    Failures raise `MandateUnavailable`. Close the client (or use it as a context manager) to free
    its connection pool.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        api_key: str,
        oauth_secret: str,
        timeout: float,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # A base path (a proxy in front of DVV) is part of what DVV sees and so of what is signed.
        self._base_path = parts.path
        self.client_id = client_id
        self._api_key = api_key
        self._oauth_secret = oauth_secret
        self._clock = clock or (lambda: datetime.now(UTC))
        # DVV answers directly; a redirect would mean a wrong base URL, not something to follow.
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SuomiFiClient:
        """A client from SUOMIFI_* settings; refuses to build one with missing credentials, which
        would otherwise only show up as a 401 at the first login."""
        api_key = settings.suomifi_api_key.get_secret_value()
        oauth_secret = settings.suomifi_oauth_secret.get_secret_value()
        missing = [
            name
            for name, value in (
                ("SUOMIFI_CLIENT_ID", settings.suomifi_client_id),
                ("SUOMIFI_API_KEY", api_key),
                ("SUOMIFI_OAUTH_SECRET", oauth_secret),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"e-Authorizations credentials missing: {', '.join(missing)}")
        return cls(
            settings.suomifi_base_url,
            settings.suomifi_client_id,
            api_key,
            oauth_secret,
            settings.suomifi_timeout_seconds,
        )

    def checksum_header(self, path_and_query: str, timestamp: str) -> str:
        return checksum_header(
            path_and_query, timestamp, client_id=self.client_id, api_key=self._api_key
        )

    def _timestamp(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        # Always with microseconds, as DVV's examples are; isoformat() would drop a zero fraction.
        return now.astimezone(UTC).isoformat(timespec="microseconds")

    def _send(
        self,
        operation: str,
        method: str,
        path_and_query: str,
        *,
        request_id: str | None,
        signed: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one call and return its decoded JSON; every failure becomes MandateUnavailable.

        The URL is built here, already encoded, so the bytes on the wire are the bytes signed.
        """
        all_headers = dict(headers or {})
        if signed:
            all_headers[CHECKSUM_HEADER] = self.checksum_header(path_and_query, self._timestamp())
        try:
            response = self._http.request(
                method, self._origin + path_and_query, headers=all_headers
            )
        except httpx.TimeoutException:
            raise self._failure(operation, "timeout", request_id) from None
        except httpx.TransportError:
            raise self._failure(operation, "unreachable", request_id) from None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise self._failure(operation, "unauthorized", request_id, response.status_code)
        if not response.is_success:
            raise self._failure(operation, "http_error", request_id, response.status_code)
        try:
            return response.json()
        except ValueError:
            raise self._failure(operation, "bad_response", request_id) from None

    @staticmethod
    def _failure(
        operation: str, reason: str, request_id: str | None, status_code: int | None = None
    ) -> MandateUnavailable:
        log.warning(
            "suomifi_query_failed",
            operation=operation,
            reason=reason,
            status_code=status_code,
            suomifi_request_id=request_id,
        )
        return MandateUnavailable(operation, reason, request_id=request_id, status_code=status_code)

    def register(self, hetu: str) -> RegisterResult:
        """Start an e-Authorizations session for the person with this hetu.

        Temporary identity codes are accepted because DVV's test persons have them. An invalid
        code raises ValueError before anything is sent: it must not reach a URL path.
        """
        try:
            code = std_hetu.validate(hetu.strip().upper(), allow_temporary=True)
        except StdnumError:
            raise ValueError("not a valid personal identity code") from None
        request_id = str(uuid.uuid4())
        # '+' and '-' stay literal: DVV signs and routes on the hetu as written.
        path = (
            f"{self._base_path}/service/ypa/user/register/"
            f"{quote(self.client_id, safe='')}/{quote(code, safe='+-')}?requestId={request_id}"
        )
        data = self._send("register", "GET", path, request_id=request_id, signed=True)
        session_id = data.get("sessionId") if isinstance(data, dict) else None
        user_id = data.get("userId") if isinstance(data, dict) else None
        if not (
            isinstance(session_id, str) and session_id and isinstance(user_id, str) and user_id
        ):
            raise self._failure("register", "bad_response", request_id)
        log.info("suomifi_registered", suomifi_request_id=request_id)
        return RegisterResult(session_id=session_id, user_id=user_id, request_id=request_id)

    def authorize_url(self, user_id: str, redirect_uri: str, lang: str) -> str:
        """DVV's selection page, where the person picks the organisation; DVV then redirects the
        browser to `redirect_uri?code=...` (or with `error=...`). Languages other than fi, sv and
        en fall back to Finnish, which is what DVV would show anyway."""
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "user": user_id,
                "lang": lang if lang in SELECTION_LANGUAGES else "fi",
            }
        )
        return f"{self._origin}{self._base_path}/oauth/authorize?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> str:
        """The access token for the roles query.

        DVV's token endpoint wants the parameters in the query string with an empty body, and
        HTTP Basic with the client id and the OAuth password (not the API key). It is plain
        OAuth 2.0 and takes no requestId, so a failure here carries none.
        """
        query = urlencode(
            {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        )
        credentials = base64.b64encode(f"{self.client_id}:{self._oauth_secret}".encode()).decode()
        data = self._send(
            "token",
            "POST",
            f"{self._base_path}/oauth/token?{query}",
            request_id=None,
            signed=False,
            headers={"Authorization": f"Basic {credentials}"},
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise self._failure("token", "bad_response", None)
        return token

    def organization_roles(self, session_id: str, access_token: str) -> RolesResult:
        """The organisations chosen on the selection page, with the person's roles in each.

        Entries with an invalid business id or no name are skipped with a warning; an answer that
        is not an array of objects is a bad response. A missing `complete` counts as incomplete,
        since nothing then confirms that every rule was checked.
        """
        request_id = str(uuid.uuid4())
        path = (
            f"{self._base_path}/service/ypa/api/organizationRoles/"
            f"{quote(session_id, safe='')}?requestId={request_id}"
        )
        data = self._send(
            "organization_roles",
            "GET",
            path,
            request_id=request_id,
            signed=True,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
            raise self._failure("organization_roles", "bad_response", request_id)
        found: list[Organisation] = []
        for index, entry in enumerate(data):
            business_id = _business_id(entry.get("identifier"))
            name = entry.get("name")
            roles = _roles(entry.get("roles"))
            complete = entry.get("complete", False)
            if (
                business_id is None
                or not isinstance(name, str)
                or not name.strip()
                or roles is None
                or not isinstance(complete, bool)
            ):
                log.warning(
                    "suomifi_role_entry_skipped", index=index, suomifi_request_id=request_id
                )
                continue
            found.append(Organisation(business_id, name.strip(), roles, complete))
        organisations = _merge(found)
        # Business ids, roles and completeness (not names: a sole trader's name is a person's).
        log.info(
            "suomifi_organization_roles",
            suomifi_request_id=request_id,
            organisations=[
                {"business_id": o.business_id, "roles": list(o.roles), "complete": o.complete}
                for o in organisations
            ],
        )
        return RolesResult(organisations=organisations, request_id=request_id)
