"""Validated types for Finnish identifiers and money, checked against python-stdnum."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from stdnum.fi import hetu as std_hetu
from stdnum.fi import ytunnus as std_ytunnus

from app.types import BusinessId, Email, Euros, FinnishIban, Hetu, Iban, Phone, Postcode, mask_hetu


class Model(BaseModel):
    business_id: BusinessId | None = None
    hetu: Hetu | None = None
    iban: Iban | None = None
    finnish_iban: FinnishIban | None = None
    postcode: Postcode | None = None
    phone: Phone | None = None
    email: Email | None = None
    euros: Euros | None = None


def error_type(**data: object) -> str:
    with pytest.raises(ValidationError) as excinfo:
        Model(**data)  # type: ignore[arg-type]
    return str(excinfo.value.errors()[0]["type"])


class TestBusinessId:
    @settings(max_examples=300)
    @given(st.from_regex(r"\A[0-9]{7}-[0-9]\Z"))
    def test_agrees_with_stdnum(self, value: str) -> None:
        if std_ytunnus.is_valid(value):
            assert Model(business_id=value).business_id == value
        else:
            assert error_type(business_id=value) == "business_id"

    def test_normalises_missing_leading_zero(self) -> None:
        assert Model(business_id=" 0201256-6 ").business_id == "0201256-6"
        assert Model(business_id="201256-6").business_id == "0201256-6"


class TestHetu:
    @pytest.mark.parametrize(
        "value", ["131052-308T", "131052A308T", "150710E123V", "311299U456X", "131052a308t"]
    )
    def test_valid_codes_including_the_2023_century_letters(self, value: str) -> None:
        assert Model(hetu=value).hetu == value.upper()

    @pytest.mark.parametrize(
        "value", ["131052-308U", "131352-308T", "131052Q308T", "010594Y9032", "nonsense"]
    )
    def test_invalid_codes(self, value: str) -> None:
        assert error_type(hetu=value) == "hetu"

    @settings(max_examples=300)
    @given(
        st.dates(),
        st.integers(min_value=2, max_value=899),
        st.sampled_from("-YXWVU" + "ABCDEF"),
    )
    def test_generated_codes_agree_with_stdnum(
        self, day: object, individual: int, sign: str
    ) -> None:
        # Build a correctly checksummed code, then flip the check character: both directions.
        born = f"{day:%d%m%y}"
        number = int(born + f"{individual:03d}")
        check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[number % 31]
        code = f"{born}{sign}{individual:03d}{check}"
        expected = std_hetu.is_valid(code)
        if expected:
            assert Model(hetu=code).hetu == code
        else:
            assert error_type(hetu=code) == "hetu"

    def test_mask(self) -> None:
        assert mask_hetu("131052-308T") == "131052-****"
        assert mask_hetu(None) == ""


class TestIban:
    def test_valid_and_compacted(self) -> None:
        assert Model(iban="FI21 1234 5600 0007 85").iban == "FI2112345600000785"
        assert Model(iban="SE45 5000 0000 0583 9825 7466").iban == "SE4550000000058398257466"

    def test_checksum(self) -> None:
        assert error_type(iban="FI21 1234 5600 0007 86") == "iban"

    def test_finnish_only(self) -> None:
        assert Model(finnish_iban="FI2112345600000785").finnish_iban == "FI2112345600000785"
        assert error_type(finnish_iban="SE4550000000058398257466") == "iban_not_finnish"


class TestOthers:
    @pytest.mark.parametrize(("raw", "expected"), [("00100", "00100"), (" 00 530", "00530")])
    def test_postcode(self, raw: str, expected: str) -> None:
        assert Model(postcode=raw).postcode == expected

    @pytest.mark.parametrize("raw", ["0010", "001000", "ABCDE"])
    def test_bad_postcode(self, raw: str) -> None:
        assert error_type(postcode=raw) == "postcode"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("040 123 4567", "+358401234567"),
            ("+358 40 123 4567", "+358401234567"),
            ("09-310 1234", "+358931012345"[:-1]),
            ("0046 8 123 456", "+468123456"),
        ],
    )
    def test_phone(self, raw: str, expected: str) -> None:
        assert Model(phone=raw).phone == expected

    @pytest.mark.parametrize("raw", ["abc", "12", "+358 40 123 4567 8901 234"])
    def test_bad_phone(self, raw: str) -> None:
        assert error_type(phone=raw) == "phone"

    def test_email(self) -> None:
        assert Model(email="Maija.Meikalainen@Example.COM").email == "Maija.Meikalainen@example.com"
        assert error_type(email="maija@") == "email"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("1 234,50", Decimal("1234.50")),
            ("1234.5", Decimal("1234.50")),
            (800, Decimal("800.00")),
            ("1\u00a0234,50\u00a0€", Decimal("1234.50")),
            (Decimal("0.10"), Decimal("0.10")),
        ],
    )
    def test_euros(self, raw: object, expected: Decimal) -> None:
        value = Model(euros=raw).euros  # type: ignore[arg-type]
        assert value == expected
        assert isinstance(value, Decimal)

    @pytest.mark.parametrize(
        ("raw", "kind"),
        [("-1", "euros"), ("abc", "euros"), ("1,234", "euros_cents"), ("NaN", "euros")],
    )
    def test_bad_euros(self, raw: str, kind: str) -> None:
        assert error_type(euros=raw) == kind
