"""The posting's image through the editor (#6): PNG or JPEG by content, at most 4 MB, checked
with Pillow (fake images and decompression bombs are refused with a message on the form),
stored under a generated name, served to the owner only; removing it asks first."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from app.tet.models import TetPosting
from tests.tet.test_manage_pages import MANAGE, MINIMAL, confirm, created_id, csrf, post, sign_in


def png_bytes(size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small file whose header claims a huge picture (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


@pytest.fixture
def draft(client: TestClient, db: Session) -> tuple[TestClient, int]:
    sign_in(client)
    confirm(client)
    return client, created_id(post(client, f"{MANAGE}/new", {"action": "draft", **MINIMAL}))


def upload(
    client: TestClient,
    posting_id: int,
    content: bytes,
    name: str = "kuva.png",
    photographer: str = "",
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{MANAGE}/{posting_id}/image",
        data={"csrf_token": csrf(client), "photographer": photographer},
        files={"file": (name, content, "image/png")},
        follow_redirects=False,
    )
    return response


def stored(db: Session, posting_id: int) -> TetPosting:
    db.expire_all()
    row = db.get(TetPosting, posting_id)
    assert row is not None
    return row


def test_png_and_jpeg_are_stored_under_a_generated_name(
    draft: tuple[TestClient, int], db: Session
) -> None:
    client, posting_id = draft
    content = png_bytes((640, 480))
    answer = upload(client, posting_id, content, name="../../etc/passwd.png", photographer="Pia")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{MANAGE}/{posting_id}/edit?done=image#image"
    row = stored(db, posting_id)
    assert row.image_type == "image/png"
    assert (row.image_width, row.image_height) == (640, 480)
    assert row.photographer == "Pia"
    assert row.image_name
    assert "passwd" not in row.image_name
    image = client.get(f"{MANAGE}/{posting_id}/image")
    assert image.status_code == 200
    assert image.content == content
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "private"
    assert image.headers["x-content-type-options"] == "nosniff"
    page = client.get(answer.headers["location"])
    assert "The image was saved." in page.text
    assert f'src="{MANAGE}/{posting_id}/image"' in page.text
    assert "Photo: Pia" in page.text
    preview = client.get(f"{MANAGE}/{posting_id}/preview")
    assert f'src="{MANAGE}/{posting_id}/image"' in preview.text
    assert "Photo: Pia" in preview.text

    # A JPEG replaces it.
    jpeg = jpeg_bytes()
    assert upload(client, posting_id, jpeg, name="kuva.jpg").status_code == 303
    row = stored(db, posting_id)
    assert row.image_type == "image/jpeg"
    assert row.photographer is None
    assert client.get(f"{MANAGE}/{posting_id}/image").content == jpeg


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (b"just some text, not an image", "kuva.png", 415, "The image must be a PNG or JPEG file."),
        (b"%PDF-1.4\n%%EOF\n", "kuva.png", 415, "The image must be a PNG or JPEG file."),
        (
            png_bytes() + b"\0" * (4 * 1024 * 1024),
            "kuva.png",
            413,
            "The image is too large. The largest allowed size is 4 MB.",
        ),
        (bomb_png(), "pommi.png", 422, "The image is damaged or is not really a PNG or JPEG file."),
        (png_bytes()[:40], "katkennut.png", 422, "The image is damaged or is not really a PNG"),
        (png_bytes((6001, 1), "L"), "leveä.png", 422, "The image is too big."),
        (b"", "", 422, "Choose a file to upload."),
    ],
)
def test_a_refused_image_is_explained_on_the_form(
    draft: tuple[TestClient, int],
    db: Session,
    content: bytes,
    name: str,
    status: int,
    message: str,
) -> None:
    client, posting_id = draft
    answer = upload(client, posting_id, content, name=name, photographer="Pia")
    assert answer.status_code == status
    assert message in answer.text
    assert 'href="#f-file"' in answer.text  # the error summary
    assert 'aria-describedby="f-file-error f-file-hint"' in answer.text
    assert 'value="Pia"' in answer.text  # the typed credit stays
    assert "<h1>Edit the TET posting</h1>" in answer.text
    row = stored(db, posting_id)
    assert row.image_name is None


def test_removing_the_image_asks_first(draft: tuple[TestClient, int], db: Session) -> None:
    client, posting_id = draft
    upload(client, posting_id, png_bytes(), photographer="Pia")
    question = post(client, f"{MANAGE}/{posting_id}/image/delete")
    assert question.status_code == 200
    assert "Remove the image?" in question.text
    assert stored(db, posting_id).image_name is not None
    answer = post(client, f"{MANAGE}/{posting_id}/image/delete", {"confirm": "1"})
    assert answer.status_code == 303
    row = stored(db, posting_id)
    assert row.image_name is None
    assert row.photographer is None
    assert client.get(f"{MANAGE}/{posting_id}/image").status_code == 404
    assert "The image was removed." in client.get(answer.headers["location"]).text


def test_saving_the_form_keeps_the_photographer(draft: tuple[TestClient, int], db: Session) -> None:
    client, posting_id = draft
    upload(client, posting_id, png_bytes(), photographer="Pia")
    answer = post(
        client, f"{MANAGE}/{posting_id}/edit", {"action": "draft", **MINIMAL, "title": "Uusi"}
    )
    assert answer.status_code == 303
    row = stored(db, posting_id)
    assert (row.title, row.photographer) == ("Uusi", "Pia")
    assert row.image_name is not None


def test_a_copy_shares_the_image(draft: tuple[TestClient, int], db: Session) -> None:
    client, posting_id = draft
    upload(client, posting_id, png_bytes())
    copy_id = created_id(post(client, f"{MANAGE}/{posting_id}/copy"))
    assert stored(db, copy_id).image_name == stored(db, posting_id).image_name
    assert client.get(f"{MANAGE}/{copy_id}/image").status_code == 200
