"""The voucher as a PDF (WeasyPrint), attached to the voucher e-mail."""

from __future__ import annotations

from typing import Any

from app import i18n
from app.templating import build_environment

_env = build_environment(strict=True)


def voucher_pdf(context: dict[str, Any], *, language: str) -> bytes:
    """Render templates/summer_voucher/voucher_pdf.html in the youth's language to PDF bytes."""
    from weasyprint import HTML  # imported on first use: it loads Pango, which takes a moment

    with i18n.language(language):
        html = _env.get_template("summer_voucher/voucher_pdf.html").render(
            {**context, "lang": language}
        )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
