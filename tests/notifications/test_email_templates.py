"""Staff admins edit the e-mail texts (K64): list, edit, save, preview, test message, reset; the
next real e-mail uses the edited text; templates run in a sandbox and are validated on save."""

from __future__ import annotations

import html
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jinja2 import meta
from jinja2.exceptions import SecurityError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from structlog.testing import capture_logs

from app.audit import AuditEvent
from app.auth.models import User
from app.i18n import LANGUAGES
from app.notifications import email_templates
from app.notifications.email_templates import KINDS, PARTS
from app.notifications.models import EmailTemplate, OutboxMessage
from app.notifications.service import render_email
from app.security import SYSTEM
from app.summer_voucher import service
from app.summer_voucher.models import YearConfiguration
from tests.conftest import login
from tests.summer_voucher.factories import accepted_youth, this_year

BASE = "/admin/email-templates"
VOUCHER = f"{BASE}/summer_voucher_voucher/fi"
ADMIN_EMAIL = "antti.yllapitaja@hel.example"  # the demo staff admin (app/demo.py)


def admin(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    login(client, "staff-admin", staff=True)


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def post(client: TestClient, url: str, action: str, **parts: str) -> Any:
    return client.post(
        url,
        data={"action": action, "csrf_token": token(client), **parts},
        follow_redirects=False,
    )


def voucher_parts(**changes: str) -> dict[str, str]:
    return {
        "subject": "Kesäseteli {{ year }}: {{ serial }}",
        "body_text": 'Hei {{ name }}!\nSetelisi on {{ serial }}.\n{{ _("City of Helsinki") }}',
        "body_html": "<p>Hei {{ name }}!</p>\n<p>Setelisi on {{ serial }}.</p>",
        **changes,
    }


def overrides(db: Session) -> list[EmailTemplate]:
    return list(db.exec(select(EmailTemplate)).all())


def outbox(db: Session, kind: str) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def audit_actions(db: Session) -> list[str]:
    return [e.action for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]


def send_voucher(db: Session, *, first_name: str = "Aino") -> OutboxMessage:
    youth, voucher = accepted_youth(db, first_name=first_name)
    assert voucher is not None
    service.queue_voucher_email(db, application=youth, voucher=voucher, handler_email=None)
    return outbox(db, "summer_voucher.voucher")[-1]


# --- The registry and the sandbox -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_registry_names_exactly_the_variables_of_the_file_templates(kind: str) -> None:
    env = email_templates.environment_for("body_text")
    used: set[str] = set()
    for part in PARTS:
        used |= meta.find_undeclared_variables(env.parse(email_templates.file_source(kind, part)))
    assert used - set(env.globals) == set(KINDS[kind].variable_names)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_file_templates_render_with_the_sample_and_pass_validation(
    db: Session, kind: str, language: str
) -> None:
    sample = email_templates.sample_context(KINDS[kind], language)
    assert set(sample) == KINDS[kind].variable_names
    render_email(kind, sample, language=language)  # strict: every variable is there
    assert (
        email_templates.validate(KINDS[kind], email_templates.file_sources(kind), language=language)
        == {}
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_file_source_saved_unchanged_renders_the_same_email(db: Session, kind: str) -> None:
    sample = email_templates.sample_context(KINDS[kind], "sv")
    from_files = render_email(kind, sample, language="sv", session=db)
    email_templates.save_override(
        db,
        kind=KINDS[kind],
        language="sv",
        parts=email_templates.file_sources(kind),
        actor=SYSTEM,
        user_id=None,
    )
    assert render_email(kind, sample, language="sv", session=db) == from_files


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ name.__class__.__mro__ }}",
        "{{ _.__globals__ }}",
        "{{ current_language.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ 'x' * 1000000 }}",
        "{{ 9 ** 999999 }}",
        "{% set ns = namespace(n=2**64) %}{% for i in range(9) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_unsafe_access(source: str) -> None:
    parts = {"subject": "S", "body_text": source, "body_html": "<p>x</p>"}
    with pytest.raises(SecurityError):
        email_templates.render_parts(parts, {"name": "Eetu"}, language="fi")


def test_the_sandbox_keeps_gettext_and_escapes_only_the_html_part() -> None:
    parts = {
        "subject": '{{ _("City of Helsinki") }}\n{{ name }}',
        "body_text": "{{ name }}",
        "body_html": '<p>{{ name }}</p><p>{{ _("Hello %(name)s,", name=name) }}</p>',
    }
    subject, text, body = email_templates.render_parts(
        parts, {"name": "<b>Åsa & Öberg</b>"}, language="sv"
    )
    assert subject == "Helsingfors stad <b>Åsa & Öberg</b>"  # translated, folded onto one line
    assert text == "<b>Åsa & Öberg</b>"
    assert "<p>&lt;b&gt;Åsa &amp; Öberg&lt;/b&gt;</p>" in body
    assert "<b>" not in body


def test_a_stored_text_that_fails_with_real_values_falls_back_to_the_files(db: Session) -> None:
    # Only a text that passed validation can be saved; a row written around it still must not
    # stop the e-mail.
    db.add(
        EmailTemplate(
            kind="summer_voucher_processing",
            language="fi",
            subject="{{ nope }}",
            body_text="x",
            body_html="x",
        )
    )
    db.flush()
    context = {"link": "https://example.com/x", "lang": "fi"}
    with capture_logs() as logs:
        rendered = render_email("summer_voucher_processing", context, language="fi", session=db)
    assert rendered == render_email("summer_voucher_processing", context, language="fi")
    assert [entry["event"] for entry in logs] == ["email_template.render_failed"]


def test_one_text_per_kind_and_language_in_the_database(db: Session) -> None:
    def row(language: str = "fi") -> EmailTemplate:
        return EmailTemplate(
            kind="summer_voucher_voucher",
            language=language,
            subject="s",
            body_text="t",
            body_html="h",
        )

    db.add(row())
    db.flush()
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(row())
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(row("de"))
    db.add(row("sv"))
    db.flush()
    assert len(overrides(db)) == 2


def test_two_first_saves_at_once_end_in_one_row(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = KINDS["summer_voucher_voucher"]
    first = email_templates.save_override(
        db, kind=kind, language="fi", parts=voucher_parts(), actor=SYSTEM, user_id=None
    )
    # The second admin's lookup ran before the first insert was committed.
    real_find = email_templates.find_override
    calls = iter([None])
    monkeypatch.setattr(
        email_templates,
        "find_override",
        lambda session, **kw: next(calls, None) or real_find(session, **kw),
    )
    second = email_templates.save_override(
        db,
        kind=kind,
        language="fi",
        parts=voucher_parts(subject="Toinen {{ year }}"),
        actor=SYSTEM,
        user_id=None,
    )
    assert second.id == first.id
    assert [r.subject for r in overrides(db)] == ["Toinen {{ year }}"]


# --- The pages ------------------------------------------------------------------------------


def test_the_list_shows_every_kind_and_language(client: TestClient, db: Session) -> None:
    admin(client)
    page = client.get(BASE)
    assert page.status_code == 200
    for kind in KINDS.values():
        assert kind.title in page.text
        for language in LANGUAGES:
            assert f'href="{BASE}/{kind.name}/{language}"' in page.text
    assert page.text.count("Customised") == 0
    assert post(client, VOUCHER, "save", **voucher_parts()).status_code == 303
    page = client.get(BASE)
    assert page.text.count("<td>Customised</td>") == 1
    assert "Antti Ylläpitäjä" in page.text  # who changed it
    assert client.get("/admin").text.count(f'href="{BASE}"') == 1


def test_the_form_starts_from_the_file_template(client: TestClient) -> None:
    admin(client)
    page = client.get(f"{BASE}/summer_voucher_activation/sv")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for part in PARTS:
        assert email_templates.file_source("summer_voucher_activation", part).strip() in text
    assert "first_name" in page.text  # the variables are listed
    assert 'name="csrf_token"' in page.text
    assert client.get(f"{BASE}/nothing/fi").status_code == 404
    assert client.get(f"{BASE}/summer_voucher_activation/de").status_code == 404


def test_a_saved_text_is_used_by_the_next_voucher_email(client: TestClient, db: Session) -> None:
    admin(client)
    saved = post(client, VOUCHER, "save", **voucher_parts())
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{VOUCHER}?done=saved"
    assert "The e-mail text was saved." in client.get(saved.headers["location"]).text
    (row,) = overrides(db)
    admin_user = db.exec(select(User).where(User.subject == "staff-admin")).one()
    assert (row.kind, row.language, row.updated_by_id) == (
        "summer_voucher_voucher",
        "fi",
        admin_user.id,
    )
    assert audit_actions(db)[-1] == "email_template.update"

    mail = send_voucher(db)
    assert mail.language == "fi"
    assert mail.subject.startswith(f"Kesäseteli {this_year()}: ")
    assert mail.body_text.startswith("Hei Aino Virtanen!\n")
    assert mail.body_text.endswith("Helsingin kaupunki")  # _() still translates
    assert mail.body_html is not None
    assert mail.body_html.startswith("<p>Hei Aino Virtanen!</p>")
    assert mail.attachments  # the PDF still comes along

    # Changing the text changes the next e-mail; the form shows what is stored.
    assert (
        post(client, VOUCHER, "save", **voucher_parts(subject="Uusi {{ serial }}")).status_code
        == 303
    )
    assert send_voucher(db).subject.startswith("Uusi ")
    assert "Uusi {{ serial }}" in html.unescape(client.get(VOUCHER).text)
    assert len(overrides(db)) == 1


def test_a_saved_activation_text_is_used_when_a_young_person_applies(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    from tests.summer_voucher.test_youth_application import form

    admin(client)
    parts = {
        "subject": "Vahvista hakemus, {{ first_name }}",
        "body_text": "Avaa {{ link }} {{ hours }} tunnin kuluessa.",
        "body_html": '<p><a href="{{ link }}">{{ first_name }}</a></p>',
    }
    assert post(client, f"{BASE}/summer_voucher_activation/fi", "save", **parts).status_code == 303
    applied = client.post(
        "/summer-voucher/apply",
        data=form(client, first_name="<Eetu>"),
        headers={"Accept-Language": "fi"},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    (mail,) = outbox(db, "summer_voucher.activation")
    assert mail.subject == "Vahvista hakemus, <Eetu>"
    assert mail.body_text.startswith("Avaa http://testserver/summer-voucher/activate/")
    assert mail.body_text.endswith(" 12 tunnin kuluessa.")
    assert mail.body_html is not None
    assert "&lt;Eetu&gt;" in mail.body_html  # a value never becomes markup
    assert "<Eetu>" not in mail.body_html


def test_html_in_a_variable_stays_escaped_in_the_html_part(client: TestClient, db: Session) -> None:
    admin(client)
    assert post(client, VOUCHER, "save", **voucher_parts()).status_code == 303
    mail = send_voucher(db, first_name='<script>alert("x")</script>')
    assert mail.body_html is not None
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail.body_html
    assert '<script>alert("x")</script>' in mail.body_text  # plain text is not HTML


def test_a_syntax_error_is_refused_with_its_line_and_the_text_kept(
    client: TestClient, db: Session
) -> None:
    admin(client)
    typed = "Hei {{ name }}!\n\nSetelisi: {{ serial }"
    answer = post(client, VOUCHER, "save", **voucher_parts(body_text=typed))
    assert answer.status_code == 422
    assert "Syntax error on line 3:" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert html.escape(typed, quote=False) in answer.text.replace("&#34;", '"')
    assert overrides(db) == []
    assert "email_template.update" not in audit_actions(db)


def test_an_unknown_variable_is_refused_with_its_line_and_the_text_kept(
    client: TestClient, db: Session
) -> None:
    admin(client)
    typed = "<p>Hei</p>\n<p>{{ nmae }}</p>"
    answer = post(client, VOUCHER, "save", **voucher_parts(body_html=typed))
    assert answer.status_code == 422
    assert "Unknown variable nmae on line 2." in answer.text
    assert "&lt;p&gt;{{ nmae }}&lt;/p&gt;" in answer.text
    assert overrides(db) == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Hei\n{{ ''.__class__ }}", "Error on line 2: access to attribute &#39;__class__&#39;"),
        (
            "{{ name.__class__.__mro__ }}",
            "Error on line 1: access to attribute &#39;__class__&#39;",
        ),
        ("{{ name.nosuch }}", "Error on line 1:"),
        ("{{ name|nosuchfilter }}", "Syntax error on line 1: No filter named"),
        ("{{ 1 / 0 }}", "Error on line 1: division by zero"),
        ('{% include "base.html" %}', "Error on line 1: no loader"),
    ],
)
def test_unsafe_or_failing_templates_are_refused(
    client: TestClient, db: Session, typed: str, message: str
) -> None:
    admin(client)
    answer = post(client, VOUCHER, "save", **voucher_parts(body_text=typed))
    assert answer.status_code == 422
    assert message in answer.text
    assert overrides(db) == []


def test_an_empty_part_is_refused(client: TestClient, db: Session) -> None:
    admin(client)
    answer = post(client, VOUCHER, "preview", **voucher_parts(subject=""))
    assert answer.status_code == 422
    assert "Fill in this field." in answer.text


def test_preview_renders_the_sample_without_saving(client: TestClient, db: Session) -> None:
    admin(client)
    answer = post(client, VOUCHER, "preview", **voucher_parts())
    assert answer.status_code == 200
    assert "Preview with sample values" in answer.text
    assert "Kesäseteli " in answer.text
    assert ": 3JZ-9J6-GMQ" in answer.text
    assert "Hei Eetu Virtanen!" in answer.text
    assert "&lt;p&gt;Hei Eetu Virtanen!&lt;/p&gt;" in answer.text  # the HTML shown as source
    assert "<iframe" not in answer.text
    assert html.escape(voucher_parts()["body_html"], quote=False) in answer.text  # form kept
    assert overrides(db) == []
    assert outbox(db, "email_template.test") == []


def test_test_message_goes_to_the_admin_through_the_outbox(client: TestClient, db: Session) -> None:
    admin(client)
    answer = post(client, f"{BASE}/summer_voucher_voucher/sv", "test", **voucher_parts())
    assert answer.status_code == 200
    assert f"A test message was queued to {ADMIN_EMAIL}." in answer.text
    (mail,) = outbox(db, "email_template.test")
    assert mail.to_address == ADMIN_EMAIL
    assert mail.language == "sv"
    assert mail.subject.endswith(": 3JZ-9J6-GMQ")
    assert mail.body_text.endswith("Helsingfors stad")  # the sample in the template's language
    assert mail.body_html is not None
    assert overrides(db) == []  # testing does not save


def test_test_message_needs_the_admins_email_address(client: TestClient, db: Session) -> None:
    admin(client)
    me = db.exec(select(User).where(User.subject == "staff-admin")).one()
    me.email = None
    db.add(me)
    db.commit()
    answer = post(client, VOUCHER, "test", **voucher_parts())
    assert answer.status_code == 409
    assert "Your user account has no usable e-mail address" in answer.text
    assert outbox(db, "email_template.test") == []


def test_reset_returns_to_the_file_template(client: TestClient, db: Session) -> None:
    admin(client)
    assert post(client, VOUCHER, "save", **voucher_parts()).status_code == 303
    reset = post(client, VOUCHER, "reset")
    assert reset.status_code == 303
    assert reset.headers["location"] == f"{VOUCHER}?done=reset"
    assert overrides(db) == []
    assert audit_actions(db)[-1] == "email_template.reset"
    page = client.get(reset.headers["location"])
    assert "The e-mail text was returned to the default." in page.text
    assert email_templates.file_source(
        "summer_voucher_voucher", "subject"
    ).strip() in html.unescape(page.text)
    mail = send_voucher(db)
    assert not mail.subject.startswith("Kesäseteli ")
    assert not mail.body_text.startswith("Hei Aino Virtanen!")
    assert "Aino Virtanen" in mail.body_text  # the file template's greeting
    # Resetting a default changes nothing and audits nothing.
    assert post(client, VOUCHER, "reset").status_code == 303
    assert audit_actions(db).count("email_template.reset") == 1


def test_unknown_action_is_refused(client: TestClient, db: Session) -> None:
    admin(client)
    assert post(client, VOUCHER, "delete", **voucher_parts()).status_code == 400
    assert overrides(db) == []


@pytest.mark.parametrize("actor", ["staff-handler", "employer-one"])
def test_only_staff_admins_get_in(client: TestClient, db: Session, actor: str) -> None:
    login(client, actor, staff=actor.startswith("staff"))
    assert client.get(BASE, follow_redirects=False).status_code == 403
    assert client.get(VOUCHER, follow_redirects=False).status_code == 403
    assert post(client, VOUCHER, "save", **voucher_parts()).status_code == 403
    assert overrides(db) == []


def test_anonymous_is_sent_to_the_staff_login(client: TestClient, db: Session) -> None:
    answer = client.get(BASE, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")
    assert post(client, VOUCHER, "save", **voucher_parts()).status_code == 303
    assert overrides(db) == []


def test_line_ends_from_the_browser_are_stored_as_newlines(client: TestClient, db: Session) -> None:
    admin(client)
    parts = voucher_parts(body_text="Hei {{ name }}!\r\n\r\n{{ serial }}")
    assert post(client, VOUCHER, "save", **parts).status_code == 303
    (row,) = overrides(db)
    assert row.body_text == "Hei {{ name }}!\n\n{{ serial }}"
