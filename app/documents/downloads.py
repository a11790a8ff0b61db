"""Sending a stored file back: always as a download of its checked type, never rendered inline."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 5987),
    so "Työsopimus.pdf" arrives intact and a quote in a name cannot break the header."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(content: bytes, *, filename: str, content_type: str) -> Response:
    """The file with the content type found when it was uploaded; nosniff keeps browsers from
    guessing another one."""
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
        },
    )
