"""Mandate sources: the organisations claim, and the e-Authorizations client over real HTTP.

The client is run against tests/fakes/suomifi.py, which recomputes every checksum from the request
line it received; so a passing flow also proves that the bytes signed were the bytes sent.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from app.auth.mandates import (
    ClaimsMandateSource,
    MandateUnavailable,
    Organisation,
    RegisterResult,
    SuomiFiClient,
    checksum_header,
)
from app.config import Settings
from tests.fakes.server import FakeRequest, FakeResponse
from tests.fakes.suomifi import API_KEY, CLIENT_ID, OAUTH_SECRET, FakeSuomiFi

HETU = "150385-9345"  # the invented person of integrations.md §2.6 (a temporary code, as DVV's test persons)
HETU_1800S = "150385+1230"  # born 1885: the '+' century sign must reach DVV unchanged
REDIRECT_URI = "https://portal.example/auth/suomifi/callback"
KAISLA = {
    "name": "Kaisla Viherpalvelut Oy",
    "identifier": "3217645-7",
    "complete": True,
    "roles": ["NIMKO", "TJ"],
}
LUMIKALLIO = {
    "name": "Lumikallion Urheiluseura ry",
    "identifier": "2998731-2",
    "complete": True,
    "roles": ["PJ"],
}


# --- checksum header --------------------------------------------------------------------------


def test_official_dvv_test_vector() -> None:
    path = "/service/hpa/user/register/ed4b7ae7/080297-915A?requestId=02fd35dc-99e6-477b-b6e2-03f02cbf3666"
    header = checksum_header(
        path,
        "2017-02-09T10:29:42.090000+00:00",
        client_id="ed4b7ae7",
        api_key="3ba56df8-88b8-4805-9b04-2f8e7a61",
    )
    assert header == (
        "ed4b7ae7 2017-02-09T10:29:42.090000+00:00 GeRKoGmGd0RFk33s2vNHutJf/TrEdwSM2Vb7qWXLESY="
    )
    with SuomiFiClient(
        "https://dvv.example", "ed4b7ae7", "3ba56df8-88b8-4805-9b04-2f8e7a61", "x", 1.0
    ) as client:
        assert client.checksum_header(path, "2017-02-09T10:29:42.090000+00:00") == header


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2017, 2, 9, 10, 29, 42, 90000, tzinfo=UTC), "2017-02-09T10:29:42.090000+00:00"),
        # A whole second still has the fraction; a Helsinki time is sent as UTC.
        (
            datetime(2017, 2, 9, 12, 29, 42, tzinfo=timezone(timedelta(hours=2))),
            "2017-02-09T10:29:42.000000+00:00",
        ),
    ],
)
def test_timestamp_is_utc_iso_with_microseconds(now: datetime, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers["X-AsiointivaltuudetAuthorization"]
        assert header.split(" ")[1] == expected
        return httpx.Response(200, json={"sessionId": "s", "userId": "u"})

    transport = httpx.MockTransport(handler)
    with SuomiFiClient(
        "https://dvv.example", CLIENT_ID, API_KEY, "x", 1.0, transport=transport, clock=lambda: now
    ) as client:
        client.register(HETU)


# --- organisations claim ----------------------------------------------------------------------

CLAIM = [
    {"business_id": "3217645-7", "name": "Kaisla Viherpalvelut Oy", "roles": ["NIMKO"]},
    {"business_id": "2998731-2", "name": "Lumikallion Urheiluseura ry", "roles": ["PJ"]},
]
CLAIM_ORGANISATIONS = [
    Organisation("3217645-7", "Kaisla Viherpalvelut Oy", ("NIMKO",)),
    Organisation("2998731-2", "Lumikallion Urheiluseura ry", ("PJ",)),
]


@pytest.mark.parametrize("claim", [CLAIM, json.dumps(CLAIM)], ids=["list", "json-string"])
def test_claims_list_or_json_string(claim: object) -> None:
    source = ClaimsMandateSource()
    assert source.organisations(claims={"sub": "x", "organizations": claim}) == CLAIM_ORGANISATIONS


def test_claims_missing_or_empty_gives_no_organisations() -> None:
    source = ClaimsMandateSource()
    assert source.organisations(claims={"sub": "x"}) == []
    assert source.organisations(claims={"organizations": []}) == []


def test_claims_invalid_entries_skipped_and_logged_without_personal_data() -> None:
    claim: list[Any] = [
        {"business_id": "3217645-8", "name": "Väärä Tarkiste Oy", "roles": []},  # bad check digit
        {"business_id": "2998731-2", "roles": ["PJ"]},  # no name
        {"business_id": "2998731-2", "name": "  ", "roles": ["PJ"]},  # blank name
        {"business_id": "2998731-2", "name": "Roolit Oy", "roles": "PJ"},  # roles not a list
        "3217645-7",
        {"business_id": "3217645-7", "name": "Kaisla Viherpalvelut Oy"},  # no roles: none
    ]
    with capture_logs() as logs:
        found = ClaimsMandateSource().organisations(claims={"organizations": claim})
    assert found == [Organisation("3217645-7", "Kaisla Viherpalvelut Oy", ())]
    skipped = [entry for entry in logs if entry["event"] == "mandate_claim_entry_skipped"]
    assert [entry["index"] for entry in skipped] == [0, 1, 2, 3, 4]
    assert all(entry["log_level"] == "warning" for entry in skipped)
    assert "Väärä" not in repr(logs)
    assert "3217645-8" not in repr(logs)


def test_claims_duplicates_merged_and_business_id_normalised() -> None:
    claim = [
        {"business_id": "3217645-7", "name": "Kaisla Viherpalvelut Oy", "roles": ["NIMKO"]},
        {"business_id": "2998731-2", "name": "Lumikallion Urheiluseura ry", "roles": ["PJ"]},
        {"business_id": " 3217645-7 ", "name": "Kaisla Viherpalvelut Oy", "roles": ["TJ", "NIMKO"]},
    ]
    assert ClaimsMandateSource().organisations(claims={"organizations": claim}) == [
        Organisation("3217645-7", "Kaisla Viherpalvelut Oy", ("NIMKO", "TJ")),
        Organisation("2998731-2", "Lumikallion Urheiluseura ry", ("PJ",)),
    ]


@pytest.mark.parametrize("claim", ["not json", '{"business_id": "3217645-7"}', 42])
def test_claims_not_a_list_is_a_broker_error(claim: object) -> None:
    with pytest.raises(MandateUnavailable) as caught:
        ClaimsMandateSource().organisations(claims={"organizations": claim})
    assert caught.value.reason == "bad_response"
    assert caught.value.request_id is None


def test_claims_name_configurable() -> None:
    source = ClaimsMandateSource(claim="orgs")
    assert source.organisations(claims={"orgs": CLAIM}) == CLAIM_ORGANISATIONS


# --- e-Authorizations client against the fake -------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSuomiFi]:
    with FakeSuomiFi().running() as server:
        yield server


def make_client(fake: FakeSuomiFi, **overrides: Any) -> SuomiFiClient:
    values: dict[str, Any] = {
        "base_url": fake.base_url,
        "client_id": CLIENT_ID,
        "api_key": API_KEY,
        "oauth_secret": OAUTH_SECRET,
        "timeout": 2.0,
        **overrides,
    }
    return SuomiFiClient(**values)


@pytest.fixture
def client(fake: FakeSuomiFi) -> Iterator[SuomiFiClient]:
    with make_client(fake) as suomifi:
        yield suomifi


def choose_organisation(client: SuomiFiClient, registered: RegisterResult) -> str:
    """What the browser does: open DVV's selection page and come back with a code."""
    url = client.authorize_url(registered.user_id, REDIRECT_URI, "fi")
    with httpx.Client(follow_redirects=False) as browser:
        response = browser.get(url)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)["code"][0]


def log_in(client: SuomiFiClient, hetu: str) -> tuple[RegisterResult, str]:
    registered = client.register(hetu)
    token = client.exchange_code(choose_organisation(client, registered), REDIRECT_URI)
    return registered, token


def request_id_of(request: FakeRequest) -> str:
    return request.query["requestId"][0]


def test_whole_flow_and_requests_as_sent(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.set_organisations(HETU, [KAISLA, LUMIKALLIO])

    registered, token = log_in(client, HETU)
    result = client.organization_roles(registered.session_id, token)

    assert result.organisations == [
        Organisation("3217645-7", "Kaisla Viherpalvelut Oy", ("NIMKO", "TJ"), complete=True),
        Organisation("2998731-2", "Lumikallion Urheiluseura ry", ("PJ",), complete=True),
    ]
    register, authorize, token_request, roles = fake.requests
    assert register.method == "GET"
    assert register.raw_path == (
        f"/service/ypa/user/register/{CLIENT_ID}/{HETU}?requestId={registered.request_id}"
    )
    assert "authorization" not in register.headers
    assert register.headers["x-asiointivaltuudetauthorization"].startswith(f"{CLIENT_ID} ")

    assert authorize.path == "/oauth/authorize"
    assert {k: v[0] for k, v in authorize.query.items()} == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "user": registered.user_id,
        "lang": "fi",
    }

    assert token_request.method == "POST"
    assert token_request.path == "/oauth/token"
    assert set(token_request.query) == {"code", "grant_type", "redirect_uri"}
    assert token_request.query["grant_type"] == ["authorization_code"]
    assert token_request.query["redirect_uri"] == [REDIRECT_URI]
    assert token_request.body == b""
    basic = base64.b64encode(f"{CLIENT_ID}:{OAUTH_SECRET}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {basic}"
    assert "x-asiointivaltuudetauthorization" not in token_request.headers

    assert roles.method == "GET"
    assert roles.raw_path == (
        f"/service/ypa/api/organizationRoles/{registered.session_id}?requestId={result.request_id}"
    )
    assert roles.headers["authorization"] == f"Bearer {token}"
    assert "x-asiointivaltuudetauthorization" in roles.headers

    assert request_id_of(register) == registered.request_id
    assert request_id_of(roles) == result.request_id
    assert registered.request_id != result.request_id
    assert uuid.UUID(registered.request_id).version == 4
    assert uuid.UUID(result.request_id).version == 4


def test_every_call_has_a_fresh_request_id(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    first = client.register(HETU)
    second = client.register(HETU)
    assert first.request_id != second.request_id
    assert [request_id_of(r) for r in fake.requests] == [first.request_id, second.request_id]


def test_hetu_with_plus_is_signed_and_sent_unchanged(
    fake: FakeSuomiFi, client: SuomiFiClient
) -> None:
    fake.set_organisations(HETU_1800S, [LUMIKALLIO])
    registered, token = log_in(client, HETU_1800S)
    result = client.organization_roles(registered.session_id, token)

    assert fake.requests[0].raw_path.startswith(
        f"/service/ypa/user/register/{CLIENT_ID}/{HETU_1800S}?"
    )
    assert [org.business_id for org in result.organisations] == ["2998731-2"]


def test_incomplete_answer_passed_through(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.set_organisations(HETU, [{**KAISLA, "complete": False, "roles": []}])
    registered, token = log_in(client, HETU)
    assert client.organization_roles(registered.session_id, token).organisations == [
        Organisation("3217645-7", "Kaisla Viherpalvelut Oy", (), complete=False)
    ]


def test_empty_answer_is_no_organisations(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.set_organisations(HETU, [])
    registered, token = log_in(client, HETU)
    result = client.organization_roles(registered.session_id, token)
    assert result.organisations == []
    assert request_id_of(fake.requests[-1]) == result.request_id


def test_role_entries_checked_and_merged(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.set_organisations(
        HETU,
        [
            KAISLA,
            {**LUMIKALLIO, "identifier": "2998731-3"},  # bad check digit: skipped
            {"name": "Kaisla Viherpalvelut Oy", "identifier": "3217645-7", "roles": ["J"]},
        ],
    )
    registered, token = log_in(client, HETU)
    with capture_logs() as logs:
        result = client.organization_roles(registered.session_id, token)
    # The entry without `complete` cannot confirm every rule was checked.
    assert result.organisations == [
        Organisation("3217645-7", "Kaisla Viherpalvelut Oy", ("NIMKO", "TJ", "J"), complete=False)
    ]
    assert [e["index"] for e in logs if e["event"] == "suomifi_role_entry_skipped"] == [1]


def test_logs_carry_request_ids_and_no_personal_data(
    fake: FakeSuomiFi, client: SuomiFiClient
) -> None:
    fake.set_organisations(HETU, [KAISLA])
    with capture_logs() as logs:
        registered, token = log_in(client, HETU)
        result = client.organization_roles(registered.session_id, token)
    queried = next(e for e in logs if e["event"] == "suomifi_organization_roles")
    assert queried["suomifi_request_id"] == result.request_id
    assert queried["organisations"] == [
        {"business_id": "3217645-7", "roles": ["NIMKO", "TJ"], "complete": True}
    ]
    text = repr(logs)
    for secret in (HETU, registered.session_id, registered.user_id, token, "Kaisla"):
        assert secret not in text


def test_clock_skew_rejected(fake: FakeSuomiFi) -> None:
    def late() -> datetime:
        return datetime.now(UTC) - timedelta(minutes=6)

    with make_client(fake, clock=late) as client, pytest.raises(MandateUnavailable) as caught:
        client.register(HETU)
    assert (caught.value.reason, caught.value.status_code) == ("unauthorized", 401)
    assert caught.value.operation == "register"
    assert caught.value.request_id == request_id_of(fake.requests[0])


def test_clock_skew_within_five_minutes_accepted(fake: FakeSuomiFi) -> None:
    def early() -> datetime:
        return datetime.now(UTC) + timedelta(minutes=4)

    with make_client(fake, clock=early) as client:
        assert client.register(HETU).session_id


def test_wrong_api_key_rejected(fake: FakeSuomiFi) -> None:
    with (
        make_client(fake, api_key="not-the-key") as client,
        pytest.raises(MandateUnavailable) as caught,
    ):
        client.register(HETU)
    assert caught.value.reason == "unauthorized"


def test_wrong_oauth_password_rejected(fake: FakeSuomiFi) -> None:
    with make_client(fake, oauth_secret="wrong") as client:
        registered = client.register(HETU)
        code = choose_organisation(client, registered)
        with pytest.raises(MandateUnavailable) as caught:
            client.exchange_code(code, REDIRECT_URI)
    assert (caught.value.operation, caught.value.reason) == ("token", "unauthorized")
    assert caught.value.request_id is None


def test_expired_session_is_401(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    registered, token = log_in(client, HETU)
    fake.session_expired = True
    with capture_logs() as logs, pytest.raises(MandateUnavailable) as caught:
        client.organization_roles(registered.session_id, token)
    assert (caught.value.reason, caught.value.status_code) == ("unauthorized", 401)
    assert caught.value.request_id == request_id_of(fake.requests[-1])
    failed = next(e for e in logs if e["event"] == "suomifi_query_failed")
    assert failed["suomifi_request_id"] == caught.value.request_id
    assert failed["log_level"] == "warning"


def test_service_down(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.server.down()
    with pytest.raises(MandateUnavailable) as caught:
        client.register(HETU)
    assert (caught.value.reason, caught.value.status_code) == ("http_error", 503)
    assert caught.value.request_id == request_id_of(fake.requests[0])


def test_timeout(fake: FakeSuomiFi) -> None:
    fake.server.delay = 0.5
    with make_client(fake, timeout=0.1) as client, pytest.raises(MandateUnavailable) as caught:
        client.register(HETU)
    assert caught.value.reason == "timeout"
    assert caught.value.request_id is not None


def test_unreachable() -> None:
    fake = FakeSuomiFi()
    with fake.running():
        base_url = fake.base_url
    with (
        SuomiFiClient(base_url, CLIENT_ID, API_KEY, OAUTH_SECRET, 1.0) as client,
        pytest.raises(MandateUnavailable) as caught,
    ):
        client.register(HETU)
    assert caught.value.reason == "unreachable"


@pytest.mark.parametrize(
    "response",
    [
        FakeResponse.text("<html>Huoltokatko</html>"),
        FakeResponse.json({"message": "not an array"}),
        FakeResponse.json([KAISLA, "3217645-7"]),
    ],
    ids=["not-json", "object", "array-of-non-objects"],
)
def test_bad_roles_answer(fake: FakeSuomiFi, client: SuomiFiClient, response: FakeResponse) -> None:
    registered, token = log_in(client, HETU)
    # A longer prefix wins over the fake's own roles route.
    fake.server.route(
        "GET", f"/service/ypa/api/organizationRoles/{registered.session_id}", lambda _: response
    )
    with pytest.raises(MandateUnavailable) as caught:
        client.organization_roles(registered.session_id, token)
    assert caught.value.reason == "bad_response"
    assert caught.value.request_id == request_id_of(fake.requests[-1])


def test_bad_register_answer(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    fake.server.route(
        "GET", f"/service/ypa/user/register/{CLIENT_ID}/{HETU}", lambda _: FakeResponse.json({})
    )
    with pytest.raises(MandateUnavailable) as caught:
        client.register(HETU)
    assert (caught.value.operation, caught.value.reason) == ("register", "bad_response")


def test_invalid_hetu_never_sent(fake: FakeSuomiFi, client: SuomiFiClient) -> None:
    with pytest.raises(ValueError, match="personal identity code"):
        client.register("150385-9346/../../x")
    assert fake.requests == []


def test_authorize_url(client: SuomiFiClient, fake: FakeSuomiFi) -> None:
    url = client.authorize_url("user-1", REDIRECT_URI, "sv")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.base_url}/oauth/authorize"
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "response_type": ["code"],
        "redirect_uri": [REDIRECT_URI],
        "user": ["user-1"],
        "lang": ["sv"],
    }
    assert parse_qs(urlsplit(client.authorize_url("u", REDIRECT_URI, "de")).query)["lang"] == ["fi"]


def test_base_path_is_signed() -> None:
    """Behind a proxy prefix DVV sees (and checks) the full path, so the prefix is signed too."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"sessionId": "s", "userId": "u"})

    with SuomiFiClient(
        "https://proxy.example/dvv/",
        CLIENT_ID,
        API_KEY,
        "x",
        1.0,
        transport=httpx.MockTransport(handler),
    ) as client:
        registered = client.register(HETU)
        header = seen[0].headers["X-AsiointivaltuudetAuthorization"]
        path = seen[0].url.raw_path.decode()
        assert path == (
            f"/dvv/service/ypa/user/register/{CLIENT_ID}/{HETU}?requestId={registered.request_id}"
        )
        assert header == client.checksum_header(path, header.split(" ")[1])


def test_from_settings(fake: FakeSuomiFi) -> None:
    fake.set_organisations(HETU, [KAISLA])
    settings = Settings(
        _env_file=None,
        mandate_source="suomifi",
        suomifi_base_url=fake.base_url,
        suomifi_client_id=CLIENT_ID,
        suomifi_api_key=SecretStr(API_KEY),
        suomifi_oauth_secret=SecretStr(OAUTH_SECRET),
        suomifi_timeout_seconds=2.0,
    )
    with SuomiFiClient.from_settings(settings) as client:
        registered, token = log_in(client, HETU)
        result = client.organization_roles(registered.session_id, token)
    assert [org.business_id for org in result.organisations] == ["3217645-7"]


def test_from_settings_refuses_missing_credentials() -> None:
    settings = Settings(_env_file=None, suomifi_client_id=CLIENT_ID)
    with pytest.raises(ValueError, match="SUOMIFI_API_KEY, SUOMIFI_OAUTH_SECRET"):
        SuomiFiClient.from_settings(settings)
