"""The checks an uploaded file passes before it is stored: size, and type by content.

The browser's content type and the file name's extension are never trusted: the type comes
from the file's first bytes (filetype), a PDF must also end like one, and an image must decode
(Pillow verify). Anything else answers with a localised message.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

import filetype
from PIL import Image, UnidentifiedImageError

from app.errors import AppError
from app.i18n import N_

MAX_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = ("application/pdf", "image/png", "image/jpeg")
# Pillow refuses images bigger than this many pixels (decompression bombs).
Image.MAX_IMAGE_PIXELS = 60_000_000


class UploadRejected(AppError):
    status_code = 422
    code = "upload_rejected"


class FileMissing(UploadRejected):
    code = "file_missing"
    message = N_("Choose a file to upload.")


class FileTooLarge(UploadRejected):
    status_code = 413
    code = "file_too_large"
    message = N_("The file is too large. The largest allowed size is 10 MB.")


class FileTypeNotAllowed(UploadRejected):
    status_code = 415
    code = "file_type_not_allowed"
    message = N_("The file must be a PDF, PNG or JPEG file.")


class FileDamaged(UploadRejected):
    code = "file_damaged"
    message = N_("The file is damaged or is not really a PDF, PNG or JPEG file.")


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    filename: str
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def safe_filename(name: str | None, content_type: str) -> str:
    """A display name without paths or control characters, with the extension of its type."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    stem = re.sub(r"\.(pdf|png|jpe?g)$", "", base, flags=re.IGNORECASE)[:200] or "file"
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[content_type]
    return f"{stem}.{extension}"


def _looks_like_pdf(data: bytes) -> bool:
    # A PDF starts with %PDF- and has %%EOF near its end (incremental saves add more after).
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def _decodes_as_image(data: bytes, content_type: str) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if Image.MIME.get(image.format or "") != content_type:
                return False
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def check_upload(
    data: bytes,
    filename: str | None,
    *,
    allowed: tuple[str, ...] = ALLOWED_TYPES,
    max_bytes: int = MAX_BYTES,
) -> CheckedFile:
    if not data:
        raise FileMissing()
    if len(data) > max_bytes:
        raise FileTooLarge()
    kind = filetype.guess(data)
    content_type = kind.mime if kind else None
    if content_type is None or content_type not in allowed:
        raise FileTypeNotAllowed()
    if content_type == "application/pdf":
        if not _looks_like_pdf(data):
            raise FileDamaged()
    elif not _decodes_as_image(data, content_type):
        raise FileDamaged()
    return CheckedFile(
        data=data,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )
