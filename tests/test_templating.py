"""Template helpers that lists call once per row."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from fastapi import FastAPI

from app import i18n
from app.templating import HELSINKI_TZ, _datetime, _path_for


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_datetimes_read_as_babel_writes_them(lang: str) -> None:
    """The hand-made format equals Babel's "d.M.yyyy HH:mm" in Helsinki time (summer and winter
    time, naive values taken as UTC)."""
    pick = random.Random(2026)
    start = datetime(1999, 1, 1, tzinfo=UTC)
    with i18n.language(lang):
        for _ in range(2000):
            moment = start + timedelta(seconds=pick.randrange(40 * 365 * 86400))
            for value in (
                moment,
                moment.replace(tzinfo=None),
                moment.astimezone(ZoneInfo("America/New_York")),
            ):
                expected = format_datetime(
                    value, format="d.M.yyyy HH:mm", tzinfo=HELSINKI_TZ, locale=i18n.format_locale()
                )
                assert _datetime(value) == expected, value
    assert _datetime(None) == ""


def test_url_for_answers_are_kept(app: FastAPI) -> None:
    path = _path_for(app, "sv_youth_detail", (("application_id", 7),))
    assert path == "/admin/summer-voucher/youth/7"
    before = _path_for.cache_info().hits
    assert _path_for(app, "sv_youth_detail", (("application_id", 7),)) == path
    assert _path_for.cache_info().hits == before + 1
