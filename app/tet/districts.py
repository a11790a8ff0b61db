"""Helsinki's major districts (suurpiirit) by postcode, for the pupils' area filter.

The mapping is by postal code area, which does not follow district borders exactly: an area that
straddles a border is listed under the district holding most of it. Postcodes outside Helsinki
belong to no district; pupils can still filter by the exact postcode.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_


@dataclass(frozen=True)
class District:
    code: str
    name: str  # message id, translated when shown
    postcodes: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District(
        "southern",
        N_("Southern Helsinki"),
        (
            "00100",
            "00120",
            "00130",
            "00140",
            "00150",
            "00160",
            "00170",
            "00180",
            "00190",
            "00200",
            "00210",
            "00220",
            "00250",
            "00260",
        ),
    ),
    District(
        "western",
        N_("Western Helsinki"),
        (
            "00270",
            "00280",
            "00290",
            "00300",
            "00310",
            "00320",
            "00330",
            "00340",
            "00350",
            "00360",
            "00370",
            "00380",
            "00390",
            "00400",
            "00410",
            "00420",
            "00430",
            "00440",
        ),
    ),
    District(
        "central",
        N_("Central Helsinki"),
        (
            "00230",
            "00240",
            "00500",
            "00510",
            "00520",
            "00530",
            "00540",
            "00550",
            "00560",
            "00580",
            "00600",
            "00610",
        ),
    ),
    District(
        "northern",
        N_("Northern Helsinki"),
        ("00620", "00630", "00640", "00650", "00660", "00670", "00680", "00690"),
    ),
    District(
        "north_eastern",
        N_("North-Eastern Helsinki"),
        (
            "00700",
            "00710",
            "00720",
            "00730",
            "00740",
            "00750",
            "00760",
            "00770",
            "00780",
            "00790",
        ),
    ),
    District(
        "south_eastern",
        N_("South-Eastern Helsinki"),
        ("00570", "00800", "00810", "00820", "00830", "00840", "00850", "00860", "00870"),
    ),
    District(
        "eastern",
        N_("Eastern Helsinki"),
        (
            "00880",
            "00900",
            "00910",
            "00920",
            "00930",
            "00940",
            "00950",
            "00960",
            "00970",
            "00980",
            "00990",
        ),
    ),
    District("ostersundom", N_("Östersundom"), ("00890",)),
)

BY_CODE = {d.code: d for d in DISTRICTS}
BY_POSTCODE = {postcode: d for d in DISTRICTS for postcode in d.postcodes}


def district_of(postcode: str | None) -> District | None:
    return BY_POSTCODE.get(postcode or "")
