"""A base for the adapters' HTTP clients: one httpx.Client each, closed with the app."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class HttpAdapter:
    """Holds `_http`; closes it on `close()` or at the end of a `with` block."""

    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
