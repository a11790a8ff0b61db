"""The population register (VTJ) behind the `PopulationRegister` adapter, and the Kesäseteli rules
that read its answer.

Two registers answer the same question, "who has this personal identity code":

- `VtjClient` asks the City integration gateway, which wraps DVV's VTJkysely service and renders
  the VTJ XML message as JSON. A person the register does not know, or whose code it does not hold
  as valid, is None; everything that leaves the question unanswered (no connection, timeout,
  non-2xx, a body that is not the documented shape, a return code other than success) raises
  `RegisterUnavailable`, which the application service turns into a retryable 503 instead of
  storing a half-checked application.
- `FixtureRegister` reads invented persons from a JSON file, for `make run` and the tests. The
  default file, data/population_fixture.json, holds Helsinki residents who are 15, 16, 17 and 18
  in 2026 (one of them with a 2023 century letter, one born on 31 December, one on 1 January),
  and one each of: too young (14), too old (25), living in Espoo, deceased, under non-disclosure
  (turvakielto: no municipality, no address), and without an address. Names carry å, ä and ö.

The rule helpers at the end are pure (no database, no clock): the application service and the
handler's view call them with the application's year and that year's eligible ages.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import httpx
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from app.config import Settings
from app.http import HttpAdapter
from app.logs import get_logger
from app.types import mask_hetu, normalize_hetu

log = get_logger("app.summer_voucher.population")

DEFAULT_FIXTURE = Path(__file__).parent / "data" / "population_fixture.json"
HELSINKI_MUNICIPALITY_CODE = "091"
HELSINKI_TZ = ZoneInfo("Europe/Helsinki")

QUERY_PATH = "/HenkilonTunnuskysely"
MESSAGE_NAME = "PERUSSANOMA 1"  # SoSoNimi: the basic message the City's data permit covers
SEARCH_SUCCEEDED = "0000"  # Paluukoodi.@koodi
BASIS_FOUND = "1"  # Hakuperusteet.Henkilotunnus.@hakuperustePaluukoodi
HETU_VALID = "1"  # Henkilo.Henkilotunnus.@voimassaolokoodi

# The century sign of a personal identity code; the 2023 reform added Y X W V U and B C D E F.
_CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


# --- What the portal keeps of a register entry. ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Address:
    """A domestic street address. The register may leave a part empty, hence the Nones."""

    street: str | None
    postcode: str | None
    post_office: str | None


@dataclass(frozen=True, kw_only=True)
class Person:
    """A person as the register knows them today.

    Under non-disclosure (turvakielto) the register withholds the home municipality and every
    address, so those are None and `non_disclosure` is set: "unknown", not "outside Helsinki".
    `address` is the permanent address in force today, or the temporary one when no permanent
    address is in force, the one a handler compares with what the youth typed.
    """

    hetu: str
    first_names: str
    last_name: str
    home_municipality_code: str | None
    home_municipality_name: str | None
    address: Address | None
    is_alive: bool
    non_disclosure: bool

    @property
    def birth_date(self) -> date:
        return hetu_birth_date(self.hetu)

    def snapshot(self) -> dict[str, Any]:
        """The answer as plain JSON values, stored (encrypted) with an application so a handler
        can later see what the register check was made on."""
        return asdict(self)


class RegisterUnavailable(Exception):
    """The register could not say anything about the person (down, slow, refused or garbled)."""


class PopulationRegister(Protocol):
    def find(self, hetu: str, *, end_user: str | None = None) -> Person | None:
        """The person with this code, or None if the register does not know it or does not hold
        it as valid. `end_user` is who is asking (a handler's id; None for the system's query when
        a youth submits), which DVV requires in every query's log. A code that fails its checksum
        raises ValueError without a query; `RegisterUnavailable` means no answer.
        """
        ...


def hetu_birth_date(hetu: str) -> date:
    """The birth date a personal identity code carries (ValueError if the code is invalid)."""
    code = normalize_hetu(hetu)
    return date(_CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))


# --- The fixture register. ---------------------------------------------------------------------


class _Fixture(BaseModel):
    # Strict and closed: a typo in the file must fail at start-up, not make a person silently
    # lose a field.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _FixtureMunicipality(_Fixture):
    code: str = Field(pattern=r"^\d{3}$")
    name: str


class _FixtureAddress(_Fixture):
    street: str
    postcode: str = Field(pattern=r"^\d{5}$")
    post_office: str


class _FixturePerson(_Fixture):
    hetu: str
    first_names: str
    last_name: str
    home_municipality: _FixtureMunicipality | None
    alive: bool
    non_disclosure: bool
    address: _FixtureAddress | None

    @field_validator("hetu")
    @classmethod
    def _valid_hetu(cls, value: str) -> str:
        return normalize_hetu(value)

    @model_validator(mode="after")
    def _withheld_under_non_disclosure(self) -> _FixturePerson:
        # The real register gives neither for such a person; a fixture that did would test a
        # case that cannot happen.
        if self.non_disclosure and (self.home_municipality or self.address):
            raise ValueError("a person under non-disclosure has no municipality or address")
        return self

    def to_person(self) -> Person:
        municipality, address = self.home_municipality, self.address
        return Person(
            hetu=self.hetu,
            first_names=self.first_names,
            last_name=self.last_name,
            home_municipality_code=municipality.code if municipality else None,
            home_municipality_name=municipality.name if municipality else None,
            address=(
                Address(
                    street=address.street,
                    postcode=address.postcode,
                    post_office=address.post_office,
                )
                if address
                else None
            ),
            is_alive=self.alive,
            non_disclosure=self.non_disclosure,
        )


_FIXTURE_FILE = TypeAdapter(list[_FixturePerson])


class FixtureRegister:
    """`PopulationRegister` over a JSON list of invented persons, read once at construction.

    An entry has hetu, first_names, last_name, home_municipality ({code, name} or null), alive,
    non_disclosure and address ({street, postcode, post_office} or null). A malformed file, an
    invalid hetu or a hetu listed twice raises ValueError.
    """

    def __init__(self, path: Path = DEFAULT_FIXTURE) -> None:
        try:
            entries = _FIXTURE_FILE.validate_json(path.read_bytes())
        except ValidationError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        self._persons: dict[str, Person] = {}
        for entry in entries:
            if entry.hetu in self._persons:
                raise ValueError(f"{path}: {mask_hetu(entry.hetu)} is listed twice")
            self._persons[entry.hetu] = entry.to_person()

    def find(self, hetu: str, *, end_user: str | None = None) -> Person | None:
        wanted = normalize_hetu(hetu)
        person = self._persons.get(wanted)
        log.info(
            "population_query",
            register="fixture",
            hetu=mask_hetu(wanted),
            end_user=end_user or "",
            outcome="found" if person else "not_found",
        )
        return person


# --- The VTJ query service: the wire shape, only the fields that are read. ---------------------


def _vtj_date(value: Any) -> date | None:
    """VTJ writes dates as YYYYMMDD. Parsed here, because pydantic would read a number (what the
    gateway's rendering may make of one) as a Unix timestamp."""
    if value is None or value == "":
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not re.fullmatch(r"\d{8}", text):
        raise ValueError("not a YYYYMMDD date")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


_VtjDate = Annotated[date | None, BeforeValidator(_vtj_date)]


class _Wire(BaseModel):
    # Numbers are coerced because the gateway's XML-to-JSON rendering decides whether "091"
    # stays text; an element absent or empty in the XML is missing or null here.
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


class _ReturnCode(_Wire):
    code: str = Field(alias="@koodi")


class _SearchBasis(_Wire):
    code: str | None = Field(default=None, alias="@hakuperustePaluukoodi")


class _SearchBases(_Wire):
    hetu: _SearchBasis | None = Field(default=None, alias="Henkilotunnus")


class _PersonHetu(_Wire):
    validity: str | None = Field(default=None, alias="@voimassaolokoodi")
    text: str | None = Field(default=None, alias="#text")


class _LastName(_Wire):
    value: str | None = Field(default=None, alias="Sukunimi")


class _FirstNames(_Wire):
    value: str | None = Field(default=None, alias="Etunimet")


class _Municipality(_Wire):
    code: str | None = Field(default=None, alias="Kuntanumero")
    name_fi: str | None = Field(default=None, alias="KuntaS")
    name_sv: str | None = Field(default=None, alias="KuntaR")


class _Death(_Wire):
    died: str | None = Field(default=None, alias="Kuollut")
    died_on: str | None = Field(default=None, alias="Kuolinpvm")


class _Address(_Wire):
    street_fi: str | None = Field(default=None, alias="LahiosoiteS")
    street_sv: str | None = Field(default=None, alias="LahiosoiteR")
    postcode: str | None = Field(default=None, alias="Postinumero")
    post_office_fi: str | None = Field(default=None, alias="PostitoimipaikkaS")
    post_office_sv: str | None = Field(default=None, alias="PostitoimipaikkaR")
    start: _VtjDate = Field(default=None, alias="AsuminenAlkupvm")
    end: _VtjDate = Field(default=None, alias="AsuminenLoppupvm")


class _Henkilo(_Wire):
    hetu: _PersonHetu | None = Field(default=None, alias="Henkilotunnus")
    last_name: _LastName | None = Field(default=None, alias="NykyinenSukunimi")
    first_names: _FirstNames | None = Field(default=None, alias="NykyisetEtunimet")
    municipality: _Municipality | None = Field(default=None, alias="Kotikunta")
    death: _Death | None = Field(default=None, alias="Kuolintiedot")
    permanent_address: _Address | None = Field(default=None, alias="VakinainenKotimainenLahiosoite")
    temporary_address: _Address | None = Field(default=None, alias="TilapainenKotimainenLahiosoite")


class _Answer(_Wire):
    return_code: _ReturnCode | None = Field(default=None, alias="Paluukoodi")
    search: _SearchBases | None = Field(default=None, alias="Hakuperusteet")
    person: _Henkilo | None = Field(default=None, alias="Henkilo")
    text: str | None = Field(default=None, alias="#text")


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _municipality_code(code: str | None) -> str | None:
    """Three digits, as the code set writes them ("91" -> "091"): the gateway's test data drops
    the leading zero. A code that is not a number is kept as it is, so it compares unequal."""
    text = _text(code)
    return text.zfill(3) if text and text.isdigit() else text


def _in_force(address: _Address | None, today: date) -> Address | None:
    """The address if it has content and today is within its dates (both ends inclusive)."""
    if address is None:
        return None
    street = _text(address.street_fi) or _text(address.street_sv)
    postcode = _text(address.postcode)
    if not (street or postcode):
        return None
    if (address.start and today < address.start) or (address.end and today > address.end):
        return None
    return Address(
        street=street,
        postcode=postcode,
        post_office=_text(address.post_office_fi) or _text(address.post_office_sv),
    )


def _to_person(answer: _Answer, wanted: str, today: date) -> Person | None:
    if answer.return_code is None:
        # The gateway's "Hakuperusteella ei löydy tietoja vtj:stä": a bare text, no return code.
        if answer.person is None and _text(answer.text):
            return None
        raise RegisterUnavailable("answer has no return code")
    if answer.return_code.code != SEARCH_SUCCEEDED:
        # Only success is documented. An unknown code may be an access or service fault, and
        # reading it as "not found" would turn every applicant away as inadmissible.
        raise RegisterUnavailable(f"search failed with return code {answer.return_code.code}")
    basis = answer.search.hetu if answer.search else None
    if basis is None or basis.code != BASIS_FOUND:
        return None
    henkilo = answer.person
    if henkilo is None or henkilo.hetu is None:
        raise RegisterUnavailable("answer says found but has no person")
    if henkilo.hetu.validity != HETU_VALID or _text(henkilo.hetu.text) != wanted:
        return None  # a passive or replaced code: not one the person can apply with

    municipality = henkilo.municipality or _Municipality()
    permanent = henkilo.permanent_address or _Address()
    # The message has no non-disclosure flag. DVV withholds the municipality and the permanent
    # street address of such a person, so a successful search without both is read as one.
    non_disclosure = not (
        _text(municipality.code) or _text(permanent.street_fi) or _text(permanent.street_sv)
    )
    death = henkilo.death or _Death()
    return Person(
        hetu=wanted,
        first_names=_text(henkilo.first_names.value if henkilo.first_names else None) or "",
        last_name=_text(henkilo.last_name.value if henkilo.last_name else None) or "",
        home_municipality_code=None if non_disclosure else _municipality_code(municipality.code),
        home_municipality_name=(
            None if non_disclosure else _text(municipality.name_fi) or _text(municipality.name_sv)
        ),
        address=(
            None
            if non_disclosure
            else _in_force(henkilo.permanent_address, today)
            or _in_force(henkilo.temporary_address, today)
        ),
        is_alive=not (_text(death.died) or _text(death.died_on)),
        non_disclosure=non_disclosure,
    )


def _helsinki_today() -> date:
    return datetime.now(HELSINKI_TZ).date()


class VtjClient(HttpAdapter):
    """`PopulationRegister` over the City integration gateway's VTJ query service.

    `base_url` is the gateway's API root (the query is POSTed to `{base_url}/HenkilonTunnuskysely`);
    the gateway wants HTTP Basic auth. `today` decides which addresses are in force (default: the
    date in Helsinki). Close the client (or use it as a context manager) to free its pool.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        *,
        transport: httpx.BaseTransport | None = None,
        today: Callable[[], date] = _helsinki_today,
    ) -> None:
        # One timeout for every phase: a youth's submit waits for this call.
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(username, password),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )
        self._today = today

    def find(self, hetu: str, *, end_user: str | None = None) -> Person | None:
        wanted = normalize_hetu(hetu)
        # A fresh id per query ties the gateway's log line to ours (logged as vtj_request_id, so
        # the portal's own request id stays on the line too).
        request_id = str(uuid.uuid4())
        context = {
            "register": "vtj",
            "hetu": mask_hetu(wanted),
            "end_user": end_user or "",
            "vtj_request_id": request_id,
        }
        body = {"Henkilotunnus": wanted, "SoSoNimi": MESSAGE_NAME, "Loppukayttaja": end_user or ""}
        try:
            response = self._http.post(QUERY_PATH, json=body, headers={"X-Request-ID": request_id})
        except httpx.TimeoutException as exc:
            raise self._unavailable(context, "timeout") from exc
        except httpx.HTTPError as exc:
            raise self._unavailable(context, "unreachable") from exc
        if not response.is_success:
            raise self._unavailable(context, f"HTTP {response.status_code}")
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._unavailable(context, "bad response") from exc
        try:
            person = _to_person(answer, wanted, self._today())
        except RegisterUnavailable as exc:
            raise self._unavailable(context, str(exc)) from exc
        log.info("population_query", **context, outcome="found" if person else "not_found")
        return person

    @staticmethod
    def _unavailable(context: dict[str, str], reason: str) -> RegisterUnavailable:
        log.warning("population_query", **context, outcome="unavailable", reason=reason)
        return RegisterUnavailable(f"population register query failed: {reason}")


# --- Kesäseteli rules on the register's answer. ------------------------------------------------


class RegisterWarning(StrEnum):
    """What the handler is warned about (K27); the values are stable keys for the templates."""

    NOT_FOUND = "not_found"
    DIFFERENT_LAST_NAME = "different_last_name"
    NOT_IN_TARGET_AGE = "not_in_target_age"
    ADDRESS_MISSING = "address_missing"
    DIFFERENT_POSTCODE = "different_postcode"
    OUTSIDE_HELSINKI = "outside_helsinki"
    DEAD = "dead"
    NON_DISCLOSURE = "non_disclosure"


def age_in_year(person_or_hetu: Person | str, year: int) -> int:
    """The age the programme uses: the application's year minus the birth year (K17), so
    everyone born in the same year is in the same target group whatever their birthday."""
    hetu = person_or_hetu.hetu if isinstance(person_or_hetu, Person) else person_or_hetu
    return year - hetu_birth_date(hetu).year


def is_helsinki_resident(person: Person) -> bool:
    """Helsinki is the home municipality in the register; unknown (non-disclosure) is not."""
    return person.home_municipality_code == HELSINKI_MUNICIPALITY_CODE


def _comparable_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def last_name_matches(typed: str, person: Person) -> bool:
    """The register check: equal apart from case and spacing. Accents count ("Makela" is not
    "Mäkelä"): this decides whether an application goes through unchecked, so it is exact;
    tolerant matching belongs to the employer's voucher lookup. An empty register name never
    matches."""
    expected = _comparable_name(person.last_name)
    return bool(expected) and _comparable_name(typed) == expected


def warnings(
    person: Person | None,
    *,
    typed_last_name: str,
    typed_postcode: str,
    eligible_ages: Collection[int],
    year: int,
) -> list[str]:
    """Every `RegisterWarning` that applies, in a fixed order.

    Under non-disclosure the address and residency warnings are left out: the register withholds
    that data, so "missing" or "outside Helsinki" would be false. `non_disclosure` itself is the
    warning that sends the application to a handler.
    """
    if person is None:
        return [RegisterWarning.NOT_FOUND]
    found: list[str] = []
    if not last_name_matches(typed_last_name, person):
        found.append(RegisterWarning.DIFFERENT_LAST_NAME)
    if age_in_year(person, year) not in eligible_ages:
        found.append(RegisterWarning.NOT_IN_TARGET_AGE)
    if not person.non_disclosure:
        if person.address is None:
            found.append(RegisterWarning.ADDRESS_MISSING)
        elif person.address.postcode != typed_postcode.strip():
            found.append(RegisterWarning.DIFFERENT_POSTCODE)
        if not is_helsinki_resident(person):
            found.append(RegisterWarning.OUTSIDE_HELSINKI)
    if not person.is_alive:
        found.append(RegisterWarning.DEAD)
    if person.non_disclosure:
        found.append(RegisterWarning.NON_DISCLOSURE)
    return found


def from_settings(settings: Settings) -> PopulationRegister:
    """The test fixture for development and tests, the city's VTJ query service in production."""
    if settings.population_register == "vtj":
        return VtjClient(
            settings.vtj_base_url,
            settings.vtj_username,
            settings.vtj_password.get_secret_value(),
            settings.vtj_timeout_seconds,
        )
    return FixtureRegister()
