"""A fake of the City integration gateway's VTJ query service on a loopback FakeServer.

`POST /api/HenkilonTunnuskysely` answers like the gateway: without the right HTTP Basic
credentials it is 401, a body that is not `{"Henkilotunnus", "SoSoNimi": "PERUSSANOMA 1",
"Loppukayttaja"}` is 400, a known hetu gets a PERUSSANOMA 1 message around its entry in `persons`,
and an unknown one gets the gateway's bare "not found" text.

`persons` holds wire-shaped "Henkilo" blocks by hetu: build them with `henkilo()`, edit them in a
test for odd answers. As in the real message there is no non-disclosure flag: such a person is
`henkilo(..., municipality=None, address=None)`, whose municipality and street come back null.
`force(response)` makes every authorised query get that answer; the server's `delay` and `down()`
give slow and 503 answers. The wire shape is written out here on its own, not with
app.summer_voucher.population, so a mistake in the client's parsing cannot be mirrored by the fake.
`fixture_persons()` reads the fixture register's JSON file into blocks, so tests can show that the
two adapters see the same persons.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes.server import FakeRequest, FakeResponse, FakeServer

USERNAME = "kesaseteli-test"
PASSWORD = "fake-vtj-password"
BASE_PATH = "/api"
QUERY_PATH = f"{BASE_PATH}/HenkilonTunnuskysely"
XMLNS = "http://xml.vrk.fi/schema/vtjkysely"
NOT_FOUND_BODY = {
    "@xmlns": "http://xml.vrk.fi/ws/vtj/vtjkysely/1",
    "#text": "Hakuperusteella ei löydy tietoja vtj:stä",
}
DEFAULT_DEATH_DATE = "20250301"  # the fixture says only "not alive"; the register has a date
_SWEDISH_MUNICIPALITY_NAMES = {"Helsinki": "Helsingfors", "Espoo": "Esbo", "Vantaa": "Vanda"}


@dataclass(frozen=True)
class FakeAddress:
    street: str
    postcode: str
    post_office: str
    start: str | None = "20100101"  # YYYYMMDD, as VTJ writes dates
    end: str | None = None


def _address_block(address: FakeAddress | None) -> dict[str, Any]:
    if address is None:
        # An absent address is rendered as the empty elements VTJ sends, all null.
        return dict.fromkeys(
            (
                "LahiosoiteS",
                "LahiosoiteR",
                "Postinumero",
                "PostitoimipaikkaS",
                "PostitoimipaikkaR",
                "AsuminenAlkupvm",
                "AsuminenLoppupvm",
            )
        )
    return {
        "LahiosoiteS": address.street,
        "LahiosoiteR": None,
        "Postinumero": address.postcode,
        "PostitoimipaikkaS": address.post_office,
        "PostitoimipaikkaR": None,
        "AsuminenAlkupvm": address.start,
        "AsuminenLoppupvm": address.end,
    }


def henkilo(
    hetu: str,
    first_names: str,
    last_name: str,
    *,
    municipality: tuple[str, str] | None = ("091", "Helsinki"),
    address: FakeAddress | None = None,
    temporary_address: FakeAddress | None = None,
    died_on: str | None = None,
) -> dict[str, Any]:
    """A "Henkilo" block: `municipality` is (Kuntanumero, KuntaS); `died_on` is YYYYMMDD."""
    code, name = municipality if municipality else (None, None)
    return {
        "Henkilotunnus": {"@voimassaolokoodi": "1", "#text": hetu},
        "NykyinenSukunimi": {"Sukunimi": last_name},
        "NykyisetEtunimet": {"Etunimet": first_names},
        "VakinainenKotimainenLahiosoite": _address_block(address),
        "TilapainenKotimainenLahiosoite": _address_block(temporary_address),
        "Kotikunta": {
            "Kuntanumero": code,
            "KuntaS": name,
            "KuntaR": _SWEDISH_MUNICIPALITY_NAMES.get(name) if name else None,
            "KuntasuhdeAlkupvm": "20100101" if code else None,
        },
        "Kuolintiedot": {"Kuollut": "1" if died_on else None, "Kuolinpvm": died_on},
        "Aidinkieli": {
            "Kielikoodi": "fi",
            "KieliS": "suomi",
            "KieliR": "finska",
            "KieliE": "Finnish",
        },
    }


def found_message(hetu: str, person: dict[str, Any]) -> dict[str, Any]:
    """The whole answer for a found person, with the envelope the gateway puts around it."""
    now = datetime.now(UTC)
    shown = now.strftime("%d.%m.%Y %H:%M")
    return {
        "@xmlns": XMLNS,
        "@sanomatunnus": "PERUSSANOMA 1",
        "@tietojenPoimintaaika": now.strftime("%Y%m%d%H%M%S"),
        "Asiakasinfo": {"InfoS": shown, "InfoR": shown, "InfoE": shown},
        "Paluukoodi": {"@koodi": "0000", "#text": "Haku onnistui"},
        "Hakuperusteet": {
            "Henkilotunnus": {
                "@hakuperustePaluukoodi": "1",
                "@hakuperusteTekstiS": "Löytyi",
                "@hakuperusteTekstiR": "Hittades",
                "@hakuperusteTekstiE": "Found",
                "#text": hetu,
            }
        },
        "Henkilo": person,
    }


def fixture_persons(path: Path) -> dict[str, dict[str, Any]]:
    """The fixture register's persons as "Henkilo" blocks, read from its JSON file directly."""
    persons: dict[str, dict[str, Any]] = {}
    for entry in json.loads(path.read_text(encoding="utf-8")):
        municipality = entry["home_municipality"]
        address = entry["address"]
        persons[entry["hetu"]] = henkilo(
            entry["hetu"],
            entry["first_names"],
            entry["last_name"],
            municipality=(municipality["code"], municipality["name"]) if municipality else None,
            address=(
                FakeAddress(address["street"], address["postcode"], address["post_office"])
                if address
                else None
            ),
            died_on=None if entry["alive"] else DEFAULT_DEATH_DATE,
        )
    return persons


class FakeVtj:
    def __init__(
        self,
        persons: dict[str, dict[str, Any]] | None = None,
        *,
        username: str = USERNAME,
        password: str = PASSWORD,
    ) -> None:
        # Tests may add, replace or edit entries before querying.
        self.persons: dict[str, dict[str, Any]] = dict(persons or {})
        self.username = username
        self.password = password
        self.forced: FakeResponse | None = None
        self.server = FakeServer()
        self.server.route("POST", QUERY_PATH, self.query)

    @property
    def base_url(self) -> str:
        """What the client's base URL would be: the gateway's API root on the loopback server."""
        return f"{self.server.base_url}{BASE_PATH}"

    @property
    def requests(self) -> list[FakeRequest]:
        return self.server.requests

    def force(self, response: FakeResponse | None) -> None:
        self.forced = response

    @contextmanager
    def running(self) -> Iterator[FakeVtj]:
        with self.server.running():
            yield self

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return credentials == f"{self.username}:{self.password}"

    def query(self, request: FakeRequest) -> FakeResponse:
        if request.path != QUERY_PATH:
            return FakeResponse.json({"message": "not found"}, status=404)
        if not self._authorised(request.headers.get("authorization")):
            response = FakeResponse.json({"message": "Unauthorized"}, status=401)
            response.headers["WWW-Authenticate"] = 'Basic realm="vtj"'
            return response
        if self.forced is not None:
            return self.forced
        try:
            body = request.json()
        except ValueError:
            return FakeResponse.json({"message": "body is not JSON"}, status=400)
        if (
            not isinstance(body, dict)
            or set(body) != {"Henkilotunnus", "SoSoNimi", "Loppukayttaja"}
            or body["SoSoNimi"] != "PERUSSANOMA 1"
            or not all(isinstance(value, str) for value in body.values())
        ):
            return FakeResponse.json({"message": "not a PERUSSANOMA 1 query"}, status=400)
        hetu = body["Henkilotunnus"]
        person = self.persons.get(hetu)
        return FakeResponse.json(found_message(hetu, person) if person else NOT_FOUND_BODY)
