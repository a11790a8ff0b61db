"""A fake PRH YTJ open data API v3 (`GET /companies?businessId=...`) serving recorded answers.

Answers live in tests/fakes/data/ytj/ as `{"status", "content_type", "body"}` files in the live
shape (numeric company form codes, a separate buildingNumber, upper-case post offices). A file
named by a business id is that company's answer; the others are named answers:

- `unknown`: 200 with no companies, what the API gives for a well-formed id it does not know;
- `malformed_id`: the 400 ErrorResponse for an id that is not NNNNNNN-C;
- `rate_limited`: the 429 with a text/plain body; `server_error`: a 500 ErrorResponse.

`force(name)` makes every request get a named answer (`force(None)` stops it); the underlying
FakeServer's `delay` and `down()` give slow and 503 answers. Form codes other than 16 and 17 are
placeholders: only those two have been observed in live data.

The demo companies of app.demo are recorded too, so `make run` can use this fake:
`python -m tests.fakes.ytj --port 8002` and YTJ_BASE_URL=http://127.0.0.1:8002/opendata-ytj-api/v3.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from tests.fakes.server import FakeRequest, FakeResponse, FakeServer

DATA_DIR = Path(__file__).parent / "data" / "ytj"
BASE_PATH = "/opendata-ytj-api/v3"
COMPANIES_PATH = f"{BASE_PATH}/companies"
UNKNOWN = "unknown"
MALFORMED_ID = "malformed_id"
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
_WELL_FORMED_ID = re.compile(r"^\d{7}-\d$")


@dataclass(frozen=True)
class RecordedAnswer:
    status: int
    content_type: str
    body: Any  # a JSON value, or the text of a text/plain answer

    def response(self) -> FakeResponse:
        if isinstance(self.body, str):
            data = self.body.encode()
        else:
            data = json.dumps(self.body, ensure_ascii=False).encode()
        return FakeResponse(status=self.status, body=data, content_type=self.content_type)


def load_answers(directory: Path = DATA_DIR) -> dict[str, RecordedAnswer]:
    """Every recorded answer in `directory`, by file name without `.json`."""
    answers: dict[str, RecordedAnswer] = {}
    for path in sorted(directory.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        answers[path.stem] = RecordedAnswer(raw["status"], raw["content_type"], raw["body"])
    return answers


def recorded_business_ids(directory: Path = DATA_DIR) -> list[str]:
    """The business ids that have a recorded company answer."""
    return [name for name in load_answers(directory) if _WELL_FORMED_ID.match(name)]


class YtjFake:
    def __init__(self, answers: dict[str, RecordedAnswer] | None = None) -> None:
        # Tests may add or replace entries (by business id or answer name) before calling.
        self.answers = load_answers() if answers is None else answers
        self.forced: str | None = None
        self.server = FakeServer()
        self.server.route("GET", COMPANIES_PATH, self.companies)

    @property
    def base_url(self) -> str:
        """What YTJ_BASE_URL would be: the API's base path on the loopback server."""
        return f"{self.server.base_url}{BASE_PATH}"

    @property
    def requests(self) -> list[FakeRequest]:
        return self.server.requests

    def force(self, name: str | None) -> None:
        self.forced = name

    @contextmanager
    def running(self) -> Iterator[YtjFake]:
        with self.server.running():
            yield self

    def companies(self, request: FakeRequest) -> FakeResponse:
        if request.path != COMPANIES_PATH:
            return FakeResponse.json({"message": "not found"}, status=404)
        if self.forced is not None:
            return self.answers[self.forced].response()
        business_id = request.query.get("businessId", [""])[0]
        if not _WELL_FORMED_ID.match(business_id):
            return self.answers[MALFORMED_ID].response()
        return self.answers.get(business_id, self.answers[UNKNOWN]).response()


def wsgi_app(fake: YtjFake) -> WSGIApplication:
    """The fake as a WSGI application, for running it on a fixed port outside the tests."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        request = FakeRequest(
            method=environ["REQUEST_METHOD"],
            raw_path=f"{path}?{query}" if query else path,
            path=path,
            query=parse_qs(query, keep_blank_values=True),
            headers={},
            body=b"",
        )
        if request.method == "GET":
            response = fake.companies(request)
        else:
            response = FakeResponse.json({"message": "method not allowed"}, status=405)
        status = HTTPStatus(response.status)
        start_response(
            f"{status.value} {status.phrase}",
            [("Content-Type", response.content_type), *response.headers.items()],
        )
        return [response.body]

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the recorded YTJ answers on loopback.")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    # Ctrl-C is how a developer stops it: no traceback for that.
    with (
        make_server("127.0.0.1", args.port, wsgi_app(YtjFake())) as server,
        contextlib.suppress(KeyboardInterrupt),
    ):
        server.serve_forever()


if __name__ == "__main__":
    main()
