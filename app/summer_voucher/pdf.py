"""The voucher as a PDF (WeasyPrint), attached to the voucher e-mail."""

from __future__ import annotations

from typing import Any

from app.documents.pdf import render_pdf


def voucher_pdf(context: dict[str, Any], *, language: str) -> bytes:
    """Render templates/summer_voucher/voucher_pdf.html in the youth's language to PDF bytes."""
    return render_pdf("summer_voucher/voucher_pdf.html", context, language)
