"""The population register adapter: the fixture register, the VTJ client over real HTTP against the
gateway fake, and the Kesäseteli rules on the register's answer."""

from __future__ import annotations

import base64
import json
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from stdnum.fi import hetu as std_hetu

from app.summer_voucher.population import (
    DEFAULT_FIXTURE,
    Address,
    FixtureRegister,
    Person,
    RegisterUnavailable,
    VtjClient,
    age_in_year,
    hetu_birth_date,
    is_helsinki_resident,
    last_name_matches,
    warnings,
)
from tests.fakes.server import FakeResponse
from tests.fakes.vtj import (
    NOT_FOUND_BODY,
    PASSWORD,
    QUERY_PATH,
    USERNAME,
    FakeAddress,
    FakeVtj,
    fixture_persons,
    found_message,
    henkilo,
)

YEAR = 2026
TODAY = date(2026, 3, 2)
TARGET_AGES = (16, 17)  # the two groups enabled by default
UNKNOWN_HETU = "010110A0023"  # valid check character, not in the fixture

FIXTURE_ENTRIES: list[dict[str, Any]] = json.loads(DEFAULT_FIXTURE.read_text(encoding="utf-8"))
FIXTURE_HETUS = [entry["hetu"] for entry in FIXTURE_ENTRIES]

HELSINKI_16 = "220410A3177"  # Eetu Juhani Virtanen, Sturenkatu 21 C 14, 00510
ESPOO_16 = "271110A241M"
DEAD_17 = "140509A355U"
NON_DISCLOSURE_16 = "020610A862H"
NO_ADDRESS_17 = "170309A219S"
AGED_14 = "250812A4174"
CENTURY_B_16 = "030710B579U"


def make_hetu(ddmmyy: str, sign: str, individual: int) -> str:
    """A code with the check character of the published mod-31 rule, confirmed by stdnum."""
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{ddmmyy}{individual:03d}") % 31]
    code = f"{ddmmyy}{sign}{individual:03d}{check}"
    assert std_hetu.is_valid(code)
    return code


def person(**changes: Any) -> Person:
    """A Helsinki resident of 16 with a matching address; tests change what they look at."""
    values: dict[str, Any] = {
        "hetu": HELSINKI_16,
        "first_names": "Eetu Juhani",
        "last_name": "Virtanen",
        "home_municipality_code": "091",
        "home_municipality_name": "Helsinki",
        "address": Address(street="Sturenkatu 21 C 14", postcode="00510", post_office="Helsinki"),
        "is_alive": True,
        "non_disclosure": False,
    }
    return Person(**(values | changes))


@pytest.fixture(scope="module")
def fixture_register() -> FixtureRegister:
    return FixtureRegister()


@pytest.fixture
def fake() -> Iterator[FakeVtj]:
    with FakeVtj(fixture_persons(DEFAULT_FIXTURE)).running() as running:
        yield running


@pytest.fixture
def vtj(fake: FakeVtj) -> Iterator[VtjClient]:
    with VtjClient(fake.base_url, USERNAME, PASSWORD, 2.0, today=lambda: TODAY) as client:
        yield client


# --- The fixture register. ---------------------------------------------------------------------


@pytest.mark.parametrize("entry", FIXTURE_ENTRIES, ids=FIXTURE_HETUS)
def test_the_fixture_register_finds_every_fixture_person(
    fixture_register: FixtureRegister, entry: dict[str, Any]
) -> None:
    found = fixture_register.find(entry["hetu"])
    assert found is not None
    assert (found.hetu, found.first_names, found.last_name) == (
        entry["hetu"],
        entry["first_names"],
        entry["last_name"],
    )
    assert found.is_alive is entry["alive"]
    assert found.non_disclosure is entry["non_disclosure"]
    municipality = entry["home_municipality"]
    assert found.home_municipality_code == (municipality["code"] if municipality else None)


def test_every_fixture_hetu_is_valid_and_listed_once() -> None:
    assert all(std_hetu.is_valid(code) for code in FIXTURE_HETUS)
    assert len(set(FIXTURE_HETUS)) == len(FIXTURE_HETUS) == 15
    # Individual numbers stay in the range for permanent codes, away from the 900s.
    assert all(2 <= int(code[7:10]) <= 899 for code in FIXTURE_HETUS)


def test_the_fixture_covers_the_cases_the_rules_need(fixture_register: FixtureRegister) -> None:
    persons = [fixture_register.find(code) for code in FIXTURE_HETUS]
    assert all(persons)
    found = [p for p in persons if p is not None]
    helsinki_ages = {age_in_year(p, YEAR) for p in found if is_helsinki_resident(p)}
    assert {14, 15, 16, 17, 18, 25} <= helsinki_ages
    assert any(p.home_municipality_code == "049" for p in found)
    assert any(not p.is_alive for p in found)
    assert any(p.non_disclosure for p in found)
    assert any(p.address is None and not p.non_disclosure for p in found)
    assert any(p.hetu[6] in "BCDEFYXWVU" for p in found)
    assert any(set("åäöÅÄÖ") & set(p.last_name) for p in found)


def test_an_unknown_hetu_is_not_in_the_fixture_register(fixture_register: FixtureRegister) -> None:
    assert fixture_register.find(UNKNOWN_HETU, end_user="handler-1") is None


def test_the_fixture_register_looks_codes_up_in_their_normal_form(
    fixture_register: FixtureRegister,
) -> None:
    found = fixture_register.find(" 150311a246v ")
    assert found is not None
    assert found.last_name == "Mäkelä"


@pytest.mark.parametrize("code", ["150311A246W", "150311-246", "", "311311A246V"])
def test_an_invalid_hetu_is_refused_by_the_fixture_register(
    fixture_register: FixtureRegister, code: str
) -> None:
    with pytest.raises(ValueError, match="personal identity code"):
        fixture_register.find(code)


def _entry(**changes: Any) -> dict[str, Any]:
    return FIXTURE_ENTRIES[0] | changes


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        pytest.param([_entry(note="x")], "note", id="unknown-key"),
        pytest.param([_entry(hetu="150311A246W")], "hetu", id="bad-checksum"),
        pytest.param([_entry(alive="yes")], "alive", id="not-a-bool"),
        pytest.param(
            [_entry(home_municipality={"code": "91", "name": "Helsinki"})], "code", id="short-code"
        ),
        pytest.param([_entry(non_disclosure=True)], "non-disclosure", id="withheld-data-given"),
        pytest.param([_entry(), _entry()], "listed twice", id="duplicate"),
    ],
)
def test_a_broken_fixture_file_is_refused_at_start(
    tmp_path: Path, entries: list[dict[str, Any]], problem: str
) -> None:
    path = tmp_path / "persons.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        FixtureRegister(path)


# --- The VTJ client against the gateway fake. --------------------------------------------------


def test_the_query_is_one_post_with_basic_auth_and_the_documented_body(
    fake: FakeVtj, vtj: VtjClient
) -> None:
    vtj.find("220410a3177")
    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == QUERY_PATH
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "Henkilotunnus": HELSINKI_16,
        "SoSoNimi": "PERUSSANOMA 1",
        "Loppukayttaja": "",
    }
    credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert uuid.UUID(request.headers["x-request-id"]).version == 4


def test_a_handler_query_names_the_end_user_and_every_query_has_its_own_id(
    fake: FakeVtj, vtj: VtjClient
) -> None:
    vtj.find(HELSINKI_16, end_user="3f2b8c1e-5d6a-4e7b-9c0d-1a2b3c4d5e6f")
    vtj.find(HELSINKI_16)
    first, second = fake.requests
    assert first.json()["Loppukayttaja"] == "3f2b8c1e-5d6a-4e7b-9c0d-1a2b3c4d5e6f"
    assert second.json()["Loppukayttaja"] == ""
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_helsinki_resident_is_read_from_the_message(vtj: VtjClient) -> None:
    assert vtj.find(HELSINKI_16) == person()


@pytest.mark.parametrize("code", FIXTURE_HETUS)
def test_every_fixture_person_reads_the_same_from_vtj_as_from_the_fixture(
    vtj: VtjClient, fixture_register: FixtureRegister, code: str
) -> None:
    assert vtj.find(code) == fixture_register.find(code)


def test_a_person_is_stored_as_plain_json(vtj: VtjClient) -> None:
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert json.loads(json.dumps(found.snapshot())) == {
        "hetu": HELSINKI_16,
        "first_names": "Eetu Juhani",
        "last_name": "Virtanen",
        "home_municipality_code": "091",
        "home_municipality_name": "Helsinki",
        "address": {"street": "Sturenkatu 21 C 14", "postcode": "00510", "post_office": "Helsinki"},
        "is_alive": True,
        "non_disclosure": False,
    }


def test_an_unknown_hetu_is_none(fake: FakeVtj, vtj: VtjClient) -> None:
    assert vtj.find(UNKNOWN_HETU) is None
    assert len(fake.requests) == 1


def _set_validity(message: dict[str, Any]) -> None:
    message["Henkilo"]["Henkilotunnus"]["@voimassaolokoodi"] = "0"


def _set_other_hetu(message: dict[str, Any]) -> None:
    message["Henkilo"]["Henkilotunnus"]["#text"] = ESPOO_16


def _set_basis_not_found(message: dict[str, Any]) -> None:
    message["Hakuperusteet"]["Henkilotunnus"]["@hakuperustePaluukoodi"] = "0"
    del message["Henkilo"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_set_validity, id="passive-code"),
        pytest.param(_set_other_hetu, id="other-code-returned"),
        pytest.param(_set_basis_not_found, id="basis-not-found"),
    ],
)
def test_a_code_the_register_does_not_hold_as_valid_is_none(
    fake: FakeVtj, vtj: VtjClient, change: Callable[[dict[str, Any]], None]
) -> None:
    message = found_message(HELSINKI_16, fake.persons[HELSINKI_16])
    change(message)
    fake.force(FakeResponse.json(message))
    assert vtj.find(HELSINKI_16) is None


@pytest.mark.parametrize("code", ["91", 91])
def test_a_municipality_code_without_its_leading_zero_is_helsinki(
    fake: FakeVtj, vtj: VtjClient, code: str | int
) -> None:
    fake.persons[HELSINKI_16]["Kotikunta"]["Kuntanumero"] = code
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert found.home_municipality_code == "091"
    assert is_helsinki_resident(found)


@pytest.mark.parametrize(
    "death",
    [
        pytest.param({"Kuollut": "1", "Kuolinpvm": None}, id="flag-only"),
        pytest.param({"Kuollut": None, "Kuolinpvm": "20260110"}, id="date-only"),
    ],
)
def test_death_is_read_from_either_field(
    fake: FakeVtj, vtj: VtjClient, death: dict[str, str | None]
) -> None:
    fake.persons[HELSINKI_16]["Kuolintiedot"] = death
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert not found.is_alive


def test_withheld_municipality_and_street_mean_non_disclosure(
    fake: FakeVtj, vtj: VtjClient
) -> None:
    # A temporary address in the message is withheld from the portal too.
    fake.persons[NON_DISCLOSURE_16] = henkilo(
        NON_DISCLOSURE_16,
        "Sara",
        "Heikkinen",
        municipality=None,
        temporary_address=FakeAddress("Kalliolanrinne 2", "00510", "Helsinki"),
    )
    found = vtj.find(NON_DISCLOSURE_16)
    assert found is not None
    assert found.non_disclosure
    assert (found.home_municipality_code, found.home_municipality_name, found.address) == (
        None,
        None,
        None,
    )


def test_a_municipality_without_a_street_address_is_not_non_disclosure(
    fake: FakeVtj, vtj: VtjClient
) -> None:
    found = vtj.find(NO_ADDRESS_17)
    assert found is not None
    assert not found.non_disclosure
    assert found.address is None
    assert is_helsinki_resident(found)


def _ended(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%Y%m%d")


PERMANENT = FakeAddress("Sturenkatu 21 C 14", "00510", "Helsinki")
TEMPORARY = FakeAddress("Kalliolanrinne 2", "00530", "Helsinki")


@pytest.mark.parametrize(
    ("permanent", "temporary", "expected"),
    [
        pytest.param(replace(PERMANENT, end=_ended(0)), None, "00510", id="ends-today"),
        pytest.param(replace(PERMANENT, end=_ended(1)), TEMPORARY, "00530", id="ended-temporary"),
        pytest.param(replace(PERMANENT, end=_ended(1)), None, None, id="ended-none"),
        pytest.param(
            FakeAddress("Uusi katu 1", "00100", "Helsinki", start=_ended(-1)),
            None,
            None,
            id="starts-tomorrow",
        ),
        pytest.param(PERMANENT, TEMPORARY, "00510", id="permanent-first"),
    ],
)
def test_only_an_address_in_force_today_counts(
    fake: FakeVtj,
    vtj: VtjClient,
    permanent: FakeAddress,
    temporary: FakeAddress | None,
    expected: str | None,
) -> None:
    fake.persons[HELSINKI_16] = henkilo(
        HELSINKI_16, "Eetu Juhani", "Virtanen", address=permanent, temporary_address=temporary
    )
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert (found.address.postcode if found.address else None) == expected


def test_dates_written_as_numbers_are_still_dates(fake: FakeVtj, vtj: VtjClient) -> None:
    # Read as a Unix timestamp, 20260303 would be 1970 and the address would be in force.
    fake.persons[HELSINKI_16]["VakinainenKotimainenLahiosoite"]["AsuminenAlkupvm"] = 20260303
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert found.address is None


def test_the_swedish_street_and_post_office_stand_in_for_missing_finnish_ones(
    fake: FakeVtj, vtj: VtjClient
) -> None:
    address = fake.persons[HELSINKI_16]["VakinainenKotimainenLahiosoite"]
    address |= {
        "LahiosoiteS": None,
        "LahiosoiteR": "Sturegatan 21 C 14",
        "PostitoimipaikkaS": None,
        "PostitoimipaikkaR": "HELSINGFORS",
    }
    found = vtj.find(HELSINKI_16)
    assert found is not None
    assert not found.non_disclosure  # the municipality is there: this is not a withheld address
    assert found.address == Address(
        street="Sturegatan 21 C 14", postcode="00510", post_office="HELSINGFORS"
    )


def test_a_wrong_password_means_the_register_is_unavailable(fake: FakeVtj) -> None:
    with (
        VtjClient(fake.base_url, USERNAME, "wrong", 2.0) as client,
        pytest.raises(RegisterUnavailable, match="HTTP 401"),
    ):
        client.find(HELSINKI_16)


def _force(response: FakeResponse) -> Callable[[FakeVtj], None]:
    return lambda fake: fake.force(response)


def _found_without_person(fake: FakeVtj) -> None:
    message = found_message(HELSINKI_16, fake.persons[HELSINKI_16])
    del message["Henkilo"]
    fake.force(FakeResponse.json(message))


def _failed_search(fake: FakeVtj) -> None:
    message = found_message(HELSINKI_16, fake.persons[HELSINKI_16])
    message["Paluukoodi"] = {"@koodi": "0006", "#text": "Käyttöoikeus puuttuu"}
    fake.force(FakeResponse.json(message))


def _bad_date(fake: FakeVtj) -> None:
    fake.persons[HELSINKI_16]["VakinainenKotimainenLahiosoite"]["AsuminenAlkupvm"] = "1.6.2018"


@pytest.mark.parametrize(
    ("trouble", "reason"),
    [
        pytest.param(lambda fake: fake.server.down(), "HTTP 503", id="503"),
        pytest.param(
            _force(FakeResponse.json({"message": "Internal Server Error"}, status=500)),
            "HTTP 500",
            id="500",
        ),
        pytest.param(
            _force(FakeResponse(body=b"<html>Huoltokatko</html>", content_type="text/html")),
            "bad response",
            id="html",
        ),
        pytest.param(_force(FakeResponse(body=b'{"Henkilo": ')), "bad response", id="cut-off"),
        pytest.param(_force(FakeResponse.json([NOT_FOUND_BODY])), "bad response", id="list"),
        pytest.param(_force(FakeResponse.json({})), "no return code", id="empty-object"),
        pytest.param(_failed_search, "return code 0006", id="failed-search"),
        pytest.param(_found_without_person, "no person", id="found-without-person"),
        pytest.param(_bad_date, "bad response", id="bad-date"),
    ],
)
def test_error_answers_mean_the_register_is_unavailable(
    fake: FakeVtj, vtj: VtjClient, trouble: Callable[[FakeVtj], None], reason: str
) -> None:
    trouble(fake)
    with pytest.raises(RegisterUnavailable, match=reason):
        vtj.find(HELSINKI_16)


def test_a_slow_register_times_out(fake: FakeVtj) -> None:
    fake.server.delay = 0.5
    with (
        VtjClient(fake.base_url, USERNAME, PASSWORD, 0.2) as client,
        pytest.raises(RegisterUnavailable, match="timeout"),
    ):
        client.find(HELSINKI_16)


def test_a_register_that_does_not_listen_is_unavailable() -> None:
    with FakeVtj().running() as stopped:
        base_url = stopped.base_url
    with (
        VtjClient(base_url, USERNAME, PASSWORD, 2.0) as client,
        pytest.raises(RegisterUnavailable, match="unreachable"),
    ):
        client.find(HELSINKI_16)


@pytest.mark.parametrize("code", ["220410A3178", "220410-31", "", "HELLO"])
def test_an_invalid_hetu_never_reaches_the_register(
    fake: FakeVtj, vtj: VtjClient, code: str
) -> None:
    with pytest.raises(ValueError, match="personal identity code"):
        vtj.find(code)
    assert fake.requests == []


# --- The rules. --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "century"),
    [
        ("+", 1800),
        *((sign, 1900) for sign in "-YXWVU"),
        *((sign, 2000) for sign in "ABCDEF"),
    ],
)
def test_every_century_sign_gives_its_birth_year(sign: str, century: int) -> None:
    assert hetu_birth_date(make_hetu("280210", sign, 123)) == date(century + 10, 2, 28)


@pytest.mark.parametrize(
    ("ddmmyy", "age"),
    [
        ("010110", 16),  # turns 16 on the first day of the year
        ("311210", 16),  # and on the last: still 15 on the day the summer starts
        ("311209", 17),
        ("010111", 15),
        ("311208", 18),
    ],
)
def test_age_is_the_year_difference_whatever_the_birthday(ddmmyy: str, age: int) -> None:
    code = make_hetu(ddmmyy, "A", 234)
    assert age_in_year(code, YEAR) == age
    assert age_in_year(person(hetu=code), YEAR) == age


def test_a_2023_century_letter_gives_the_same_age_as_the_old_one() -> None:
    assert age_in_year(CENTURY_B_16, YEAR) == 16
    assert age_in_year(make_hetu("030710", "A", 579), YEAR) == 16
    assert age_in_year(make_hetu("150675", "Y", 318), YEAR) == 51


def test_the_birth_date_of_a_person_comes_from_their_code() -> None:
    assert person(hetu=CENTURY_B_16).birth_date == date(2010, 7, 3)


@pytest.mark.parametrize(
    ("code", "name", "resident"),
    [("091", "Helsinki", True), ("049", "Espoo", False), (None, None, False)],
)
def test_helsinki_residency_is_the_home_municipality_code(
    code: str | None, name: str | None, resident: bool
) -> None:
    found = person(home_municipality_code=code, home_municipality_name=name)
    assert is_helsinki_resident(found) is resident


@pytest.mark.parametrize(
    ("typed", "register", "matches"),
    [
        ("mäkelä", "Mäkelä", True),
        ("  MÄKELÄ ", "Mäkelä", True),
        (unicodedata.normalize("NFD", "Mäkelä"), "Mäkelä", True),
        ("Makela", "Mäkelä", False),
        ("åström", "Åström", True),
        ("Astrom", "Åström", False),
        ("sjöberg-öhman", "Sjöberg-Öhman", True),
        ("Sjöberg Öhman", "Sjöberg-Öhman", False),
        ("van  der   Berg", "Van der Berg", True),
        ("Virtanen", "Virtanen-Mäkelä", False),
        ("", "", False),
    ],
)
def test_the_last_name_check_ignores_case_and_spacing_but_not_accents(
    typed: str, register: str, matches: bool
) -> None:
    assert last_name_matches(typed, person(last_name=register)) is matches


def _warnings(found: Person | None, **changes: Any) -> list[str]:
    arguments: dict[str, Any] = {
        "typed_last_name": "Virtanen",
        "typed_postcode": "00510",
        "eligible_ages": TARGET_AGES,
        "year": YEAR,
    }
    return warnings(found, **(arguments | changes))


def test_a_matching_resident_of_the_right_age_has_no_warnings() -> None:
    assert _warnings(person()) == []


def test_a_person_the_register_does_not_know_has_only_not_found() -> None:
    assert _warnings(None) == ["not_found"]


@pytest.mark.parametrize(
    ("found", "changes", "expected"),
    [
        pytest.param(person(), {"typed_last_name": "Virtane"}, ["different_last_name"], id="name"),
        pytest.param(person(), {"eligible_ages": (17, 18)}, ["not_in_target_age"], id="age"),
        pytest.param(person(address=None), {}, ["address_missing"], id="no-address"),
        pytest.param(person(), {"typed_postcode": "00100"}, ["different_postcode"], id="postcode"),
        pytest.param(
            person(home_municipality_code="049", home_municipality_name="Espoo"),
            {},
            ["outside_helsinki"],
            id="espoo",
        ),
        pytest.param(person(is_alive=False), {}, ["dead"], id="dead"),
        pytest.param(
            person(
                non_disclosure=True,
                home_municipality_code=None,
                home_municipality_name=None,
                address=None,
            ),
            {"typed_postcode": "00100"},
            ["non_disclosure"],
            id="non-disclosure-hides-address-warnings",
        ),
        pytest.param(
            person(is_alive=False, address=None, home_municipality_code="049"),
            {"typed_last_name": "Korhonen", "eligible_ages": (15,)},
            [
                "different_last_name",
                "not_in_target_age",
                "address_missing",
                "outside_helsinki",
                "dead",
            ],
            id="all-in-order",
        ),
    ],
)
def test_each_difference_gives_its_warning(
    found: Person, changes: dict[str, Any], expected: list[str]
) -> None:
    assert _warnings(found, **changes) == expected


def test_the_fixture_persons_get_the_warnings_their_case_is_for(
    fixture_register: FixtureRegister,
) -> None:
    def for_fixture(code: str, postcode: str = "00510", last_name: str | None = None) -> list[str]:
        found = fixture_register.find(code)
        assert found is not None
        return _warnings(
            found, typed_last_name=last_name or found.last_name, typed_postcode=postcode
        )

    assert for_fixture(ESPOO_16, postcode="02150") == ["outside_helsinki"]
    assert for_fixture(DEAD_17, postcode="00170") == ["dead"]
    assert for_fixture(NON_DISCLOSURE_16) == ["non_disclosure"]
    assert for_fixture(NO_ADDRESS_17) == ["address_missing"]
    assert for_fixture(AGED_14, postcode="00940") == ["not_in_target_age"]
    assert for_fixture(CENTURY_B_16, postcode="00940") == []
    assert for_fixture("061010A724V", postcode="00260", last_name="Sjöberg-Öhman") == []
