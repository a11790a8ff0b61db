"""Documents as PDF (WeasyPrint) from the templates: the Kesäseteli voucher and claim receipt, the
Helsinki-lisä decision letter. Each template carries its own print CSS (@page, fonts).

    render_pdf(template, context, language) -> PDF bytes
    render_html(template, context, language) -> the HTML the PDF is made from (for tests, previews)

The templates render in the document's language (not the request's) with the same filters as the
pages. WeasyPrint fetches nothing: a document is built from its HTML alone, so no text in it can
make the server read a file or a URL.
"""

from __future__ import annotations

from typing import Any

from app import i18n
from app.templating import build_environment

_env = build_environment(strict=True)


def render_html(template: str, context: dict[str, Any], language: str) -> str:
    """The template rendered in `language` (fi, sv or en; anything else is Finnish)."""
    lang = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    with i18n.language(lang):
        return _env.get_template(template).render({**context, "lang": lang})


def html_to_pdf(html: str) -> bytes:
    # Imported on first use: WeasyPrint loads Pango, which takes a moment.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # No protocol allowed: not file:, http: nor data:.
    fetcher = URLFetcher(allowed_protocols=())
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def render_pdf(template: str, context: dict[str, Any], language: str) -> bytes:
    """The template in `language` as PDF bytes."""
    return html_to_pdf(render_html(template, context, language))
