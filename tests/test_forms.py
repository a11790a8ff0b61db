"""HTML forms and JSON bodies into one schema; errors in the user's language; typed values kept."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session, func, select
from starlette.datastructures import FormData

from app import i18n
from app.forms import parse_form
from app.pages.models import AccessibilityFeedback
from app.types import Postcode


class Example(BaseModel):
    name: str
    nickname: str | None = None
    agree: bool = False
    languages: list[str] = []
    postcode: Postcode | None = None


class TestParseForm:
    def test_html_quirks_are_normalised(self) -> None:
        form = FormData(
            [
                ("name", "Maija"),
                ("nickname", "  "),
                ("languages", "fi"),
                ("languages", "sv"),
                ("languages", ""),
            ]
        )
        result = parse_form(Example, form)
        assert result.data == Example(
            name="Maija", nickname=None, agree=False, languages=["fi", "sv"]
        )

    def test_checkbox_value_means_true(self) -> None:
        assert parse_form(Example, FormData([("name", "M"), ("agree", "true")])).data.agree is True  # type: ignore[union-attr]

    def test_errors_are_per_field_and_in_the_current_language(self) -> None:
        form = FormData([("name", ""), ("postcode", "123")])
        with i18n.language("sv"):
            result = parse_form(Example, form)
        assert result.data is None
        assert result.errors == {
            "name": "Fyll i det här fältet.",
            "postcode": "Ange ett postnummer med fem siffror, till exempel 00100.",
        }
        assert result.values == {"name": "", "postcode": "123"}


def count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AccessibilityFeedback)).one()


class TestFeedbackPage:
    def test_bad_input_is_rerendered_with_errors_and_the_typed_values(
        self, client: TestClient, csrf: Callable[[], str], db: Session
    ) -> None:
        before = count(db)
        response = client.post(
            "/accessibility/feedback",
            data={
                "message": "",
                "page": "/tet <haku>",
                "wants_reply": "true",
                "email": "ei-osoite",
                "csrf_token": csrf(),
            },
        )
        assert response.status_code == 422
        html = response.text
        assert "<title>Virhe: Palaute saavutettavuudesta" in html
        assert 'class="hds-error-summary error-summary" role="alert"' in html
        assert '<a href="#f-message" class="hds-link">Palautteesi: Täytä tämä kenttä.</a>' in html
        assert (
            '<a href="#f-email" class="hds-link">Sähköpostiosoite: Anna sähköpostiosoite, esimerkiksi nimi@esimerkki.fi.</a>'
            in html
        )
        assert re.search(
            r'id="f-message"[^>]*aria-invalid="true"[^>]*aria-describedby="f-message-error f-message-hint"',
            html,
        )
        assert 'value="/tet &lt;haku&gt;"' in html  # typed value back, escaped
        assert 'value="ei-osoite"' in html
        assert re.search(r'id="f-wants_reply"[^>]*checked', html)
        assert count(db) == before

    def test_cross_field_rule_points_at_its_field(
        self, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Hei", "wants_reply": "true", "csrf_token": csrf()},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert (
            'id="f-email-error">Enter your e-mail address so that we can reply.</span>'
            in response.text
        )

    def test_good_input_is_stored_and_redirected(
        self, client: TestClient, csrf: Callable[[], str], db: Session
    ) -> None:
        before = count(db)
        response = client.post(
            "/accessibility/feedback",
            data={"message": "Hyvä palvelu", "page": "/", "csrf_token": csrf()},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/accessibility/feedback/thanks"
        assert count(db) == before + 1
        thanks = client.get(response.headers["location"])
        assert "Kiitos palautteestasi" in thanks.text


class TestJsonApi:
    def test_422_has_field_messages_in_the_users_language(
        self, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        response = client.post(
            "/api/v1/accessibility-feedback",
            json={"message": "", "email": "x"},
            headers={"X-CSRF-Token": csrf(), "Accept-Language": "sv"},
        )
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert {
            "loc": ["body", "message"],
            "msg": "Fyll i det här fältet.",
            "type": "string_too_short",
        } in detail
        assert any(d["loc"] == ["body", "email"] and d["type"] == "email" for d in detail)

    def test_malformed_json_is_a_localised_422(
        self, client: TestClient, csrf: Callable[[], str]
    ) -> None:
        response = client.post(
            "/api/v1/accessibility-feedback",
            content=b'{"message": ',
            headers={
                "X-CSRF-Token": csrf(),
                "Content-Type": "application/json",
                "Accept-Language": "fi",
            },
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Pyynnön sisältö ei ole kelvollista JSONia."

    def test_unknown_fields_are_refused(self, client: TestClient, csrf: Callable[[], str]) -> None:
        response = client.post(
            "/api/v1/accessibility-feedback",
            json={"message": "Hei", "id": 5, "created_at": "2020-01-01T00:00:00Z"},
            headers={"X-CSRF-Token": csrf()},
        )
        assert response.status_code == 422
        assert {tuple(d["loc"]) for d in response.json()["detail"]} == {
            ("body", "id"),
            ("body", "created_at"),
        }
