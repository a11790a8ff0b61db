"""Where attachment contents live. Rows in the database name a file by its random key; the
bytes are in the store. Locally a directory; several instances share S3-compatible storage
behind the same three calls.

A file is written before the row that names it is committed. If the transaction then fails,
the file is an orphan, which `sweep_orphans` removes; a row never names a missing file.
Deleting a row leaves its file to the same sweep, so a rolled-back delete loses nothing.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Collection
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def save(self, data: bytes) -> str: ...

    def read(self, key: str) -> bytes: ...

    def sweep_orphans(self, known_keys: Collection[str], *, older_than_seconds: int) -> int: ...


class LocalFileStore:
    """Files under one directory, two-level fan-out by key; keys are random, never user input."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a storage key")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        key = secrets.token_hex(16)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def sweep_orphans(self, known_keys: Collection[str], *, older_than_seconds: int) -> int:
        """Delete files no row names; only old ones, so an upload in flight is never swept."""
        if not self.root.exists():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        known = set(known_keys)
        for path in self.root.glob("??/*"):
            if path.name in known or path.stat().st_mtime > cutoff:
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed
