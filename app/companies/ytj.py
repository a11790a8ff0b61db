"""The trade register (PRH YTJ open data API v3) behind the `CompanyRegister` adapter.

Only `GET {base}/companies?businessId=...` is used. An unknown but well-formed business id answers
200 with no companies, which is "not found" (None), not an error. Everything that leaves the
company's data unknown (no connection, timeout, any non-2xx including the text/plain 429, a body
that is not the documented shape) raises `RegisterUnavailable`, so callers have one thing to catch
and can fall back to the mandate's data.

Parsing follows the live data, not yjdh's fixtures: names and company forms carry their history, so
the current entry is picked by `version`/`endDate` instead of taking the first one; the business
line is optional; the street number is a separate field; a postal address may be only a PO box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from app.http import HttpAdapter
from app.logs import get_logger
from app.types import normalize_business_id

if TYPE_CHECKING:
    from app.config import Settings

log = get_logger("app.companies.ytj")

# Language codes of `descriptions[]` in the order the portal prefers them: fi, sv, en.
PREFERRED_LANGUAGES = ("1", "2", "3")
TRADE_NAME = "1"  # code set TLAJI: the main trade name (earlier versions have it too)
VISITING_ADDRESS = 1
POSTAL_ADDRESS = 2


@dataclass(frozen=True)
class RegisterCompany:
    """What the portal keeps of a register entry. `end_date` is set for a ceased company, which
    is still returned: whether it may apply is the caller's rule, not the adapter's."""

    business_id: str
    name: str
    company_form: str | None
    industry: str | None
    street_address: str | None
    postcode: str | None
    city: str | None
    end_date: date | None = None


class RegisterUnavailable(Exception):
    """The register could not say anything about the company (down, slow, refused or garbled)."""


class CompanyRegister(Protocol):
    """Looks a company up by business id; None means the register does not know it."""

    def fetch(self, business_id: str) -> RegisterCompany | None: ...


# --- The wire shape: only the fields that are read; anything else is ignored. -----------------


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _Description(_Wire):
    language_code: str
    description: str


class _Name(_Wire):
    name: str
    type: str
    version: int | None = None
    end_date: date | None = None


class _CompanyForm(_Wire):
    type: str
    descriptions: list[_Description] = Field(default_factory=list)
    version: int | None = None
    end_date: date | None = None


class _BusinessLine(_Wire):
    descriptions: list[_Description] = Field(default_factory=list)


class _PostOffice(_Wire):
    city: str
    language_code: str | None = None


class _Address(_Wire):
    type: int
    street: str | None = None
    building_number: str | None = None
    entrance: str | None = None
    apartment_number: str | None = None
    apartment_id_suffix: str | None = None
    post_office_box: str | None = None
    post_code: str | None = None
    post_offices: list[_PostOffice] = Field(default_factory=list)


class _BusinessId(_Wire):
    value: str


class _Company(_Wire):
    business_id: _BusinessId
    names: list[_Name] = Field(default_factory=list)
    company_forms: list[_CompanyForm] = Field(default_factory=list)
    main_business_line: _BusinessLine | None = None
    addresses: list[_Address] = Field(default_factory=list)
    end_date: date | None = None


class _CompaniesAnswer(_Wire):
    total_results: int
    companies: list[_Company]


_Versioned = TypeVar("_Versioned", _Name, _CompanyForm)


def _current(entries: Sequence[_Versioned]) -> _Versioned | None:
    """Version 1 is the current entry; an entry without an end date is the next best sign."""
    return next((e for e in entries if e.version == 1), None) or next(
        (e for e in entries if e.end_date is None), None
    )


def _description(descriptions: Sequence[_Description]) -> str | None:
    by_language = {d.language_code: d.description.strip() for d in descriptions}
    return next((by_language[c] for c in PREFERRED_LANGUAGES if by_language.get(c)), None)


def _has_content(address: _Address) -> bool:
    return bool(address.street or address.post_office_box or address.post_code)


def _street(address: _Address) -> str | None:
    parts = (
        address.street,
        address.building_number,
        address.entrance,
        address.apartment_number,
        address.apartment_id_suffix,
    )
    street = " ".join(part.strip() for part in parts if part and part.strip())
    if not street and address.post_office_box:
        return f"PL {address.post_office_box.strip()}"  # postilokero, the Finnish P.O. box
    return street or None


def _city(address: _Address) -> str | None:
    offices = address.post_offices
    by_language = {office.language_code: office.city for office in offices}
    city = by_language.get("1") or by_language.get("2") or (offices[0].city if offices else None)
    # The register writes post offices in capitals ("HELSINKI"); people read "Helsinki".
    return city.strip().title() if city and city.strip() else None


def _to_register_company(company: _Company) -> RegisterCompany:
    name = _current([n for n in company.names if n.type == TRADE_NAME])
    if name is None:
        raise RegisterUnavailable("register answer has no current trade name")
    form = _current(company.company_forms)
    line = company.main_business_line
    # The visiting address is where the company is; a postal-only (often PO box) address is next.
    address = next(
        (
            a
            for kind in (VISITING_ADDRESS, POSTAL_ADDRESS)
            for a in company.addresses
            if a.type == kind and _has_content(a)
        ),
        None,
    )
    return RegisterCompany(
        business_id=company.business_id.value,
        name=name.name.strip(),
        company_form=(_description(form.descriptions) or form.type) if form else None,
        industry=_description(line.descriptions) if line else None,
        street_address=_street(address) if address else None,
        postcode=(address.post_code or None) if address else None,
        city=_city(address) if address else None,
        end_date=company.end_date,
    )


class YtjClient(HttpAdapter):
    """`CompanyRegister` over the YTJ open data API; one connection pool for all lookups.

    Close it (or use it as a context manager) to free the pool.
    """

    def __init__(
        self, base_url: str, timeout: float, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        # One timeout for connecting, reading, writing and waiting for the pool: a login waits
        # for this call, so no phase may hang longer than the configured time.
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    def fetch(self, business_id: str) -> RegisterCompany | None:
        """The company with this business id, or None if the register does not know it.

        An invalid business id raises ValueError before any request: a typo is not worth a call
        to PRH. The id is sent in its formatted form (1234567-8), which the API expects.
        """
        wanted = normalize_business_id(business_id)
        try:
            response = self._http.get("/companies", params={"businessId": wanted})
        except httpx.TimeoutException as exc:
            raise self._unavailable(wanted, "timeout") from exc
        except httpx.HTTPError as exc:
            raise self._unavailable(wanted, "unreachable") from exc
        if not response.is_success:
            raise self._unavailable(wanted, "http_error", status_code=response.status_code)
        try:
            answer = _CompaniesAnswer.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._unavailable(wanted, "bad_response") from exc
        company = next((c for c in answer.companies if c.business_id.value == wanted), None)
        if company is None:
            return None
        try:
            return _to_register_company(company)
        except RegisterUnavailable:
            log.warning("ytj_unavailable", business_id=wanted, reason="bad_response")
            raise

    @staticmethod
    def _unavailable(
        business_id: str, reason: str, *, status_code: int | None = None
    ) -> RegisterUnavailable:
        log.warning("ytj_unavailable", business_id=business_id, reason=reason, status=status_code)
        status = f" (HTTP {status_code})" if status_code is not None else ""
        return RegisterUnavailable(f"trade register lookup failed: {reason}{status}")


def from_settings(settings: Settings) -> YtjClient:
    """The client for YTJ_BASE_URL with YTJ_TIMEOUT_SECONDS."""
    return YtjClient(settings.ytj_base_url, settings.ytj_timeout_seconds)
