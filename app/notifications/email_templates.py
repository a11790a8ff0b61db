"""E-mail texts that staff admins edit: the editable kinds, a sandbox to render them, validation.

The files under templates/email/<kind>/ are the defaults. An admin's EmailTemplate row for a
(kind, language) replaces them in render_email (service.py). Its three parts are Jinja2 source
typed in a browser, so they are rendered in a sandbox: no access to Python internals
(`{{ ''.__class__ }}` fails), no names but the kind's variables (a misspelt one is refused on
save), and `{{ _("...") }}` translated from the catalogs as in the files. HTML is autoescaped in
the HTML part only, so a young person's name can never become markup.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, i18n
from app.db import utcnow
from app.i18n import N_, gettext
from app.notifications.models import EmailTemplate
from app.security import Actor
from app.templating import TEMPLATE_DIR, build_environment, format_day, format_euros

# Form field -> the file it overrides in templates/email/<kind>/.
PARTS: dict[str, str] = {
    "subject": "subject.txt",
    "body_text": "body.txt",
    "body_html": "body.html",
}
MAX_SUBJECT_CHARS = 1000  # the column's length
MAX_BODY_CHARS = 100_000
# The app's own filters the file templates may use; all are pure formatting functions.
_APP_FILTERS = ("date", "datetime", "euros", "number")
# Against a template that exhausts memory: "x" * 10**9, 10**10**10.
_MAX_REPEAT = 100_000
_MAX_INT_BITS = 4096


@dataclass(frozen=True)
class Variable:
    name: str
    description: str  # message id, translated when shown


@dataclass(frozen=True)
class EmailKind:
    """One kind of e-mail: `name` is its folder under templates/email/; `sample` gives preview
    values for every variable, called in the e-mail's language (money and dates are text)."""

    name: str
    title: str  # message id
    variables: tuple[Variable, ...]
    sample: Callable[[], dict[str, Any]]

    @property
    def variable_names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables)


_LANG = Variable("lang", N_("The language of the e-mail: fi, sv or en."))
_SAMPLE_SITE = "https://example.com"


def _activation_sample() -> dict[str, Any]:
    return {
        "first_name": "Eetu",
        "link": f"{_SAMPLE_SITE}/summer-voucher/activate/sample",
        "hours": 12,
        "lang": i18n.current_language(),
    }


def _voucher_sample() -> dict[str, Any]:
    year = utcnow().year
    return {
        "name": "Eetu Virtanen",
        "year": year,
        "value": format_euros(Decimal("350")),
        "serial": "3JZ-9J6-GMQ",
        "min_hours": 60,
        "min_pay": format_euros(Decimal("500")),
        "work_start": format_day(date(year, 6, 1)),
        "work_end": format_day(date(year, 8, 15)),
        "deadline": format_day(date(year, 11, 30)),
        "lang": i18n.current_language(),
    }


def _processing_sample() -> dict[str, Any]:
    return {
        "link": f"{_SAMPLE_SITE}/admin/summer-voucher/youth/123",
        "lang": i18n.current_language(),
    }


def _claim_information_request_sample() -> dict[str, Any]:
    return {
        "message": "Lisää vielä palkkalaskelma.\nKiitos!",
        "link": f"{_SAMPLE_SITE}/employer/summer-voucher/claims/123",
        "serial": "3JZ-9J6-GMQ",
        "lang": i18n.current_language(),
    }


def _subsidy_message_sample() -> dict[str, Any]:
    return {
        "application_number": "123456",
        "link": f"{_SAMPLE_SITE}/employer/subsidies/applications/123",
        "lang": i18n.current_language(),
    }


def _subsidy_information_request_sample() -> dict[str, Any]:
    return {
        **_subsidy_message_sample(),
        "deadline": format_day(date(utcnow().year, 6, 3)),
    }


def _subsidy_draft_reminder_sample() -> dict[str, Any]:
    return {
        "link": f"{_SAMPLE_SITE}/employer/subsidies/applications/123",
        "deletion_date": format_day(date(utcnow().year, 6, 3)),
        "lang": i18n.current_language(),
    }


_SUBSIDY_NUMBER = Variable(
    "application_number", N_("The application's number, or empty if it has none yet.")
)
_SUBSIDY_LINK = Variable("link", N_("The link to the application in the employer e-services."))

KINDS: dict[str, EmailKind] = {
    kind.name: kind
    for kind in (
        EmailKind(
            name="summer_voucher_activation",
            title=N_("Summer job voucher: confirming the e-mail address"),
            variables=(
                Variable("first_name", N_("The young person's first name.")),
                Variable("link", N_("The link that confirms the application.")),
                Variable("hours", N_("How many hours the link works.")),
                _LANG,
            ),
            sample=_activation_sample,
        ),
        EmailKind(
            name="summer_voucher_voucher",
            title=N_("Summer job voucher: the voucher to the young person"),
            variables=(
                Variable("name", N_("The young person's full name.")),
                Variable("year", N_("The year of the voucher.")),
                Variable("value", N_("The voucher's value, for example 350,00 €.")),
                Variable("serial", N_("The voucher's serial number.")),
                Variable("min_hours", N_("The minimum hours of work.")),
                Variable("min_pay", N_("The minimum pay, for example 500,00 €.")),
                Variable("work_start", N_("The first day of the work period.")),
                Variable("work_end", N_("The last day of the work period.")),
                Variable("deadline", N_("The last day for the employer's claim.")),
                _LANG,
            ),
            sample=_voucher_sample,
        ),
        EmailKind(
            name="summer_voucher_processing",
            title=N_("Summer job voucher: additional information to the handlers"),
            variables=(
                Variable("link", N_("The link to the application in the back office.")),
                _LANG,
            ),
            sample=_processing_sample,
        ),
        EmailKind(
            name="summer_voucher_claim_information_request",
            title=N_("Summer job voucher: a question to the employer about a claim"),
            variables=(
                Variable("message", N_("The handler's question, possibly on several lines.")),
                Variable("link", N_("The link to the claim in the employer e-services.")),
                Variable("serial", N_("The voucher's serial number, or empty if not known.")),
                _LANG,
            ),
            sample=_claim_information_request_sample,
        ),
        EmailKind(
            name="subsidy_message",
            title=N_("Helsinki benefit: a new message from the handler"),
            variables=(_SUBSIDY_NUMBER, _SUBSIDY_LINK, _LANG),
            sample=_subsidy_message_sample,
        ),
        EmailKind(
            name="subsidy_information_request",
            title=N_("Helsinki benefit: more information needed"),
            variables=(
                _SUBSIDY_NUMBER,
                _SUBSIDY_LINK,
                Variable("deadline", N_("The last day to send the application again.")),
                _LANG,
            ),
            sample=_subsidy_information_request_sample,
        ),
        EmailKind(
            name="subsidy_decision",
            title=N_("Helsinki benefit: the decision is ready"),
            variables=(_SUBSIDY_NUMBER, _SUBSIDY_LINK, _LANG),
            sample=_subsidy_message_sample,
        ),
        EmailKind(
            name="subsidy_draft_reminder",
            title=N_("Helsinki benefit: an unfinished application will be deleted"),
            variables=(
                _SUBSIDY_LINK,
                Variable("deletion_date", N_("The day the unfinished application is deleted.")),
                _LANG,
            ),
            sample=_subsidy_draft_reminder_sample,
        ),
    )
}


def sample_context(kind: EmailKind, language: str) -> dict[str, Any]:
    """Preview values for every variable of `kind`, formatted as in an e-mail in `language`."""
    with i18n.language(language):
        return kind.sample()


def file_source(kind: str, part: str) -> str:
    """The Jinja2 source of one part of a kind's file template (the default text)."""
    return (TEMPLATE_DIR / "email" / kind / PARTS[part]).read_text(encoding="utf-8")


def file_sources(kind: str) -> dict[str, str]:
    return {part: file_source(kind, part) for part in PARTS}


# --- The sandbox ----------------------------------------------------------------------------


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox: no unsafe attributes (`__class__`, `__globals__` …), no changing the
    values given, no loader (so no {% include %} of files). Also refuses the one-expression ways
    of exhausting memory, repetition and huge numbers; loops are capped by the sandbox's
    range(). It guards access, not time: only staff admins write these templates."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if _is_int(left) and _is_int(right):
            bits = (
                abs(left).bit_length() * right
                if operator == "**" and right > 0 and abs(left) > 1
                else left.bit_length() + right.bit_length()
            )
            if bits > _MAX_INT_BITS:
                raise SecurityError("the number is too large")
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and _is_int(times)
                    and len(sequence) * times > _MAX_REPEAT
                ):
                    raise SecurityError("the repeated value is too long")
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@lru_cache(maxsize=2)
def _sandbox(html: bool) -> _Sandbox:
    """The environment of the text parts (`html=False`) or of the autoescaped HTML part: the
    file templates' settings (strict, trimmed blocks, gettext), so a file's source saved as it
    is renders the same e-mail."""
    env = _Sandbox(
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    files = build_environment(strict=True)
    env.filters.update({name: files.filters[name] for name in _APP_FILTERS})
    env.globals["current_language"] = i18n.current_language
    return env


def environment_for(part: str) -> ImmutableSandboxedEnvironment:
    """The sandbox a part renders in: autoescaped for body_html only."""
    return _sandbox(part == "body_html")


def render_parts(
    parts: Mapping[str, str], context: Mapping[str, Any], *, language: str
) -> tuple[str, str, str]:
    """Render edited (subject, body_text, body_html) source with `context` in `language`; the
    subject folded onto one line. Raises what Jinja2 raises (TemplateError, SecurityError)."""
    with i18n.language(language):
        subject, text, html = (
            environment_for(part).from_string(parts[part]).render(context) for part in PARTS
        )
    return " ".join(subject.split()), text, html


# --- Validation -----------------------------------------------------------------------------


def _first_use(tree: nodes.Template, name: str) -> int:
    lines = [
        node.lineno
        for node in tree.find_all(nodes.Name)
        if node.name == name and node.ctx == "load"
    ]
    return min(lines, default=1)


def _template_line(exc: BaseException) -> int | None:
    """The template line a rendering error happened on: Jinja2 rewrites the traceback so that
    template code appears as frames of the file "<template>" at the template's line."""
    lines = [
        line
        for frame, line in traceback.walk_tb(exc.__traceback__)
        if frame.f_code.co_filename == "<template>"
    ]
    return lines[-1] if lines else None


def _check_part(
    kind: EmailKind, part: str, source: str, sample: Mapping[str, Any], language: str
) -> str | None:
    """The first problem of one part, as a message in the current language, or None."""
    env = environment_for(part)
    try:
        tree = env.parse(source)
        template = env.from_string(source)  # compiling also refuses unknown filters and tests
    except TemplateSyntaxError as exc:
        return gettext(N_("Syntax error on line %(line)s: %(error)s")) % {
            "line": exc.lineno,
            "error": exc.message,
        }
    known = kind.variable_names | set(env.globals)
    unknown = sorted(meta.find_undeclared_variables(tree) - known)
    if unknown:
        return gettext(
            N_(
                "Unknown variable %(name)s on line %(line)s. The variables of this e-mail are: "
                "%(names)s."
            )
        ) % {
            "name": unknown[0],
            "line": _first_use(tree, unknown[0]),
            "names": ", ".join(sorted(kind.variable_names)),
        }
    error: Exception | None = None
    try:
        with i18n.language(language):
            template.render(sample)
    except Exception as exc:  # anything a template can raise: an error for the admin, not a 500
        error = exc
    if error is None:
        return None
    line = _template_line(error)
    if line is None:
        return gettext(N_("The template cannot be rendered: %(error)s")) % {"error": error}
    return gettext(N_("Error on line %(line)s: %(error)s")) % {"line": line, "error": error}


def validate(kind: EmailKind, parts: Mapping[str, str], *, language: str) -> dict[str, str]:
    """Compile each part and render it with the sample context of `language`: field -> the
    first error (syntax, an unknown variable or attribute, unsafe access), with its line, in the
    current (the admin's) language. Empty when the template can be saved."""
    sample = sample_context(kind, language)
    errors: dict[str, str] = {}
    for part in PARTS:
        problem = _check_part(kind, part, parts[part], sample, language)
        if problem is not None:
            errors[part] = problem
    return errors


class EmailTemplateIn(BaseModel):
    """The edit form. Line ends are made \\n: browsers send textareas with \\r\\n."""

    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    body_text: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    body_html: str = Field(min_length=1, max_length=MAX_BODY_CHARS)

    @field_validator("subject", "body_text", "body_html")
    @classmethod
    def _line_ends(cls, value: str) -> str:
        return value.replace("\r\n", "\n").replace("\r", "\n")

    def parts(self) -> dict[str, str]:
        return {"subject": self.subject, "body_text": self.body_text, "body_html": self.body_html}


# --- Stored overrides -----------------------------------------------------------------------


def find_override(session: Session, *, kind: str, language: str) -> EmailTemplate | None:
    return session.exec(
        select(EmailTemplate).where(
            col(EmailTemplate.kind) == kind, col(EmailTemplate.language) == language
        )
    ).first()


def overrides(session: Session) -> dict[tuple[str, str], EmailTemplate]:
    """Every override, by (kind, language)."""
    return {(row.kind, row.language): row for row in session.exec(select(EmailTemplate)).all()}


def _insert(
    session: Session, *, kind: str, language: str, parts: Mapping[str, str], user_id: int | None
) -> EmailTemplate | None:
    """Insert the first override of (kind, language), or None if another admin's insert came
    first (the unique constraint, in a savepoint so the caller's transaction goes on)."""
    row = EmailTemplate(
        kind=kind,
        language=language,
        subject=parts["subject"],
        body_text=parts["body_text"],
        body_html=parts["body_html"],
        updated_by_id=user_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def save_override(
    session: Session,
    *,
    kind: EmailKind,
    language: str,
    parts: Mapping[str, str],
    actor: Actor,
    user_id: int | None,
) -> EmailTemplate:
    """Store (insert or update) the override of (kind, language), validated by the caller, and
    audit it with the names of the parts that changed; never commits. When two admins save the
    first override at once, the later one wins rather than failing on the unique constraint."""
    row = find_override(session, kind=kind.name, language=language)
    changed = list(PARTS)
    if row is None:
        row = _insert(session, kind=kind.name, language=language, parts=parts, user_id=user_id)
    else:
        changed = [part for part in PARTS if getattr(row, part) != parts[part]]
    if row is None:
        row = find_override(session, kind=kind.name, language=language)
        if row is None:  # inserted and deleted again meanwhile: nothing sensible to overwrite
            raise RuntimeError("the e-mail template changed during saving; try again")
    for part in PARTS:
        setattr(row, part, parts[part])
    row.updated_at = utcnow()
    row.updated_by_id = user_id
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="email_template.update",
        target_type="email_template",
        target_id=row.id,
        fields=changed,
        detail=f"{kind.name} {language}",
    )
    return row


def reset_override(session: Session, *, kind: EmailKind, language: str, actor: Actor) -> bool:
    """Delete the override of (kind, language): the file templates apply again. False when there
    was none. Audited; never commits."""
    row = find_override(session, kind=kind.name, language=language)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="email_template.reset",
        target_type="email_template",
        target_id=row.id,
        detail=f"{kind.name} {language}",
    )
    return True
