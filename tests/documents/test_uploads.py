"""Uploads are judged by content, never by name or declared type; the store keeps what it got."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.documents.storage import LocalFileStore
from app.documents.uploads import (
    FileDamaged,
    FileMissing,
    FileTooLarge,
    FileTypeNotAllowed,
    check_upload,
    safe_filename,
)
from tests.summer_voucher.factories import PDF, jpeg_bytes, png_bytes


def test_pdf_png_and_jpeg_are_recognised_by_content() -> None:
    assert check_upload(PDF, "x.png").content_type == "application/pdf"
    assert check_upload(png_bytes(), "x.pdf").content_type == "image/png"
    assert check_upload(jpeg_bytes(), "x").content_type == "image/jpeg"
    assert check_upload(png_bytes(), "kuva.pdf").filename == "kuva.png"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", FileMissing),
        (b"plain text pretending to be a pdf", FileTypeNotAllowed),
        (b"GIF89a" + b"\x00" * 20, FileTypeNotAllowed),
        (b"%PDF-1.7\nno end of file marker", FileDamaged),
        (png_bytes()[:40], FileDamaged),
        (jpeg_bytes()[:30], FileDamaged),
    ],
)
def test_fakes_and_broken_files_are_refused(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_upload(data, "file.pdf")


def test_size_limit() -> None:
    big = PDF[:-7] + b" " * 200 + b"%%EOF\n"
    with pytest.raises(FileTooLarge):
        check_upload(big, "a.pdf", max_bytes=100)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\x\\sopimus.PDF", "sopimus.pdf"),
        ("\x00\x1b[31mred.pdf", "[31mred.pdf"),
        ("", "file.pdf"),
        (None, "file.pdf"),
    ],
)
def test_file_names_lose_paths_and_control_characters(name: str | None, expected: str) -> None:
    assert safe_filename(name, "application/pdf") == expected


def test_store_round_trip_and_orphan_sweep(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    kept = store.save(b"kept")
    orphan = store.save(b"orphan")
    fresh = store.save(b"fresh orphan")
    assert store.read(kept) == b"kept"
    old = time.time() - 7200
    for key in (kept, orphan):
        path = tmp_path / key[:2] / key
        os.utime(path, (old, old))
    assert store.sweep_orphans({kept}, older_than_seconds=3600) == 1
    assert store.read(kept) == b"kept"
    assert store.read(fresh) == b"fresh orphan"  # too new to sweep: an upload in flight
    with pytest.raises(FileNotFoundError):
        store.read(orphan)
    with pytest.raises(ValueError, match="storage key"):
        store.read("../../etc/passwd")
