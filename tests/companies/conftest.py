"""A fresh trade-register fake and a client talking to it, per test (tests change the fake)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.companies.ytj import YtjClient
from tests.fakes.ytj import YtjFake

UNKNOWN_BUSINESS_ID = "3100003-8"  # valid check digit, not recorded


@pytest.fixture
def fake() -> Iterator[YtjFake]:
    with YtjFake().running() as running:
        yield running


@pytest.fixture
def ytj(fake: YtjFake) -> Iterator[YtjClient]:
    with YtjClient(fake.base_url, 2.0) as client:
        yield client
