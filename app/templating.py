"""The Jinja2 environment: Babel i18n in fi/sv/en, filters for dates, money and identifiers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    pass_context,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from app import i18n
from app.security import csrf_token
from app.types import format_iban, mask_hetu

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
HELSINKI_TZ = ZoneInfo("Europe/Helsinki")


def _date(value: date | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    # Finnish short dates read 24.11.2026 in every language of the service.
    return format_date(
        value, format="d.M.yyyy" if fmt == "short" else fmt, locale=i18n.format_locale()
    )


def _datetime(value: datetime | None) -> str:
    """Helsinki time as 24.11.2026 14:05 in every language, as Babel's "d.M.yyyy HH:mm" would
    write it (digits only, so no locale data is needed; naive values are UTC, as in Babel).
    Formatted by hand: lists show a time per row, and Babel costs ten times as much."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(HELSINKI_TZ)
    # %-formatting: half the cost of an f-string with format specs (UP031), on every row of a list.
    return "%d.%d.%04d %02d:%02d" % (local.day, local.month, local.year, local.hour, local.minute)  # noqa: UP031


def _euros(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format_currency(Decimal(value), "EUR", locale=i18n.format_locale())


def _cents(value: int | None) -> str:
    """Integer cents (payments) as euros, without passing through a float."""
    return "" if value is None else _euros(Decimal(value) / 100)


def _number(value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=i18n.format_locale())


def format_euros(value: Decimal | int | None) -> str:
    """Money in the current language's Finnish conventions: 1 234,50 €."""
    return _euros(value)


def format_day(value: date | None) -> str:
    """A date as 24.11.2026 (all three languages of the service use it)."""
    return _date(value)


def format_datetime(value: datetime | None) -> str:
    """Helsinki time as 24.11.2026 14:05, as the `datetime` filter writes it."""
    return _datetime(value)


def _language_switch_href(request: Request, lang: str) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return f"/lang/{lang}?next={quote(target, safe='')}"


@lru_cache(maxsize=1024)
def _path_for(app: Starlette, name: str, params: tuple[tuple[str, Any], ...]) -> str:
    return str(app.url_path_for(name, **dict(params)))


def path_for(request: Request, name: str, /, **path_params: Any) -> str:
    """The site-relative path of a named route (what the templates' url_for gives).

    The routes do not change once the app runs, so the answers are kept: finding a route by
    name walks every router and costs tens of microseconds, and a page links to a dozen."""
    try:
        return _path_for(request.app, name, tuple(sorted(path_params.items())))
    except TypeError:  # an unhashable parameter: not kept
        return str(request.app.url_path_for(name, **path_params))


@pass_context
def _url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """A site-relative URL: correct behind a TLS-terminating proxy, unlike an absolute one."""
    return path_for(context["request"], name, **path_params)


@lru_cache(maxsize=4096)
def _message(language: str, message: str, autoescape: bool) -> str:
    """A template's message in `language`, as a format string (Markup in an HTML template).
    The catalogs are loaded once per process and never change, so neither does the answer."""
    text = i18n.catalogs()[language].ugettext(message)
    # A translation is trusted markup, as Jinja's own gettext treats it.
    return Markup(text) if autoescape else text  # noqa: S704


@lru_cache(maxsize=4096)
def _message_alone(language: str, message: str, autoescape: bool) -> str:
    return _message(language, message, autoescape) % {}


@pass_eval_context
def _gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` and `gettext()` in templates, as Jinja's "newstyle" gettext behaves: the message is
    always a format string (so "%%" is one "%"), variables are escaped in an HTML template.

    Jinja's own goes through an alias, two context calls, a Markup and a formatting on every
    call, and, being given the whole context, makes a copy of it on each call inside a loop or
    after a {% set %} in a block; a page calls it dozens of times. This one needs only the
    evaluation context (autoescape or not), and keeps the translated, formatted message."""
    language = i18n.current_language()
    if variables:
        return _message(language, message, eval_ctx.autoescape) % variables
    return _message_alone(language, message, eval_ctx.autoescape)


@pass_eval_context
def _ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    """`ngettext()` in templates, as Jinja's "newstyle" one behaves (`num` is a variable too)."""
    text = i18n.ngettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - a translation is trusted markup, as in Jinja
    return text % {"num": num, **variables}


def _auth_of(request: Request) -> Any:
    """The logged-in person of this request, when a policy loaded one (else None)."""
    return getattr(request.state, "auth", None)


def build_environment(*, strict: bool, auto_reload: bool = False) -> Environment:
    """The templates' environment. A template is compiled once per process; `auto_reload`
    (DEBUG) checks its file's time on every use to pick up edits, a system call per template
    of every page."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        auto_reload=auto_reload,
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    env.filters.update(
        date=_date,
        datetime=_datetime,
        euros=_euros,
        cents=_cents,
        number=_number,
        mask_hetu=mask_hetu,
        iban=format_iban,
    )
    env.globals.update(
        LANGUAGES=i18n.LANGUAGES,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        current_language=i18n.current_language,
        csrf_token=csrf_token,
        language_switch_href=_language_switch_href,
        auth_of=_auth_of,
    )
    return env


def build_templates(*, strict: bool, auto_reload: bool = False) -> Jinja2Templates:
    templates = Jinja2Templates(env=build_environment(strict=strict, auto_reload=auto_reload))
    templates.env.globals["url_for"] = _url_for
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Render a page in the request's language."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        name,
        {"lang": i18n.current_language(), **(context or {})},
        status_code=status_code,
    )
