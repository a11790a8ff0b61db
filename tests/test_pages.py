"""The public pages: languages, landmarks, the language switch and the error pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.security import Anonymous

H1 = {
    "fi": "Helsingin kaupungin työnantajapalvelut verkossa",
    "sv": "Helsingfors stads e-tjänster för arbetsgivare",
    "en": "Employer e-services of the City of Helsinki",
}


def h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "page has no h1"
    return match.group(1).strip()


class TestLanguage:
    def test_finnish_is_the_default(self, client: TestClient) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert '<html lang="fi">' in response.text
        assert h1(response.text) == H1["fi"]
        assert response.headers["content-language"] == "fi"

    @pytest.mark.parametrize(
        ("header", "lang"),
        [
            ("sv-FI,sv;q=0.9,en;q=0.5", "sv"),
            ("en-GB,en;q=0.8", "en"),
            ("de-DE,de", "fi"),
            ("de;q=1.0, sv;q=0.2, en;q=0.7", "en"),
            ("nb-NO", "fi"),
        ],
    )
    def test_accept_language_is_the_first_default(
        self, client: TestClient, header: str, lang: str
    ) -> None:
        response = client.get("/", headers={"Accept-Language": header})
        assert f'<html lang="{lang}">' in response.text
        assert h1(response.text) == H1[lang]

    @pytest.mark.parametrize("lang", ["fi", "sv", "en"])
    def test_switch_keeps_the_choice_in_a_cookie_and_returns_to_the_page(
        self, client: TestClient, lang: str
    ) -> None:
        response = client.get(f"/lang/{lang}", params={"next": "/privacy"}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/privacy"
        assert "httponly" in response.headers["set-cookie"].lower()
        page = client.get("/privacy", headers={"Accept-Language": "de"})
        assert f'<html lang="{lang}">' in page.text
        # The cookie beats Accept-Language.
        landing = client.get("/", headers={"Accept-Language": "sv" if lang != "sv" else "en"})
        assert h1(landing.text) == H1[lang]

    @pytest.mark.parametrize(
        "target",
        ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
    )
    def test_switch_never_redirects_off_the_site(self, client: TestClient, target: str) -> None:
        response = client.get("/lang/sv", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"

    def test_unknown_language_is_not_found(self, client: TestClient) -> None:
        assert client.get("/lang/de", follow_redirects=False).status_code == 404

    def test_every_page_links_to_the_same_page_in_the_other_languages(
        self, client: TestClient
    ) -> None:
        html = client.get("/accessibility").text
        for lang in ("fi", "sv", "en"):
            assert f'href="/lang/{lang}?next=%2Faccessibility" lang="{lang}"' in html


class TestLayout:
    @pytest.mark.parametrize("path", ["/", "/accessibility", "/privacy", "/accessibility/feedback"])
    def test_page_has_skip_link_landmarks_and_footer_links(
        self, client: TestClient, path: str
    ) -> None:
        html = client.get(path).text
        assert '<a class="skip-link" href="#main-content">Siirry sisältöön</a>' in html
        assert html.count("<h1") == 1
        assert '<main id="main-content"' in html
        assert 'href="/accessibility">Saavutettavuusseloste</a>' in html
        assert 'href="/privacy">Tietosuojaseloste</a>' in html
        assert "Helsingin kaupunki" in html
        assert "Työnantajan asiointi" in html

    def test_landing_presents_the_three_services(self, client: TestClient) -> None:
        html = client.get("/", headers={"Accept-Language": "sv"}).text
        for name in ("Helsingforstillägg", "Sommarsedeln", "PRAO"):
            assert name in html

    def test_no_asset_is_loaded_from_another_host(self, client: TestClient) -> None:
        html = client.get("/").text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources
        assert all(s.startswith(("/", "#")) for s in sources), sources

    def test_vendored_hds_css_and_licence_are_served(self, client: TestClient) -> None:
        css = client.get("/static/vendor/hds/components.min.css")
        assert css.status_code == 200
        assert ".hds-button" in css.text
        assert css.headers["cache-control"] == "public, max-age=86400"
        assert client.get("/static/vendor/hds/LICENSE").status_code == 200


class TestErrorPages:
    def test_unknown_route_gets_the_404_page_in_the_users_language(
        self, client: TestClient
    ) -> None:
        response = client.get("/no-such-page", headers={"Accept-Language": "sv"})
        assert response.status_code == 404
        assert h1(response.text) == "Sidan hittades inte"
        assert '<html lang="sv">' in response.text

    def test_unknown_api_route_answers_json(self, client: TestClient) -> None:
        response = client.get("/api/v1/nothing")
        assert response.status_code == 404
        assert response.json()["detail"]["code"] == "not_found"

    def test_crash_gives_the_500_page_without_a_stack_trace(self, settings: Settings) -> None:
        app = create_app(settings)

        @app.get("/boom", dependencies=[Anonymous])
        def boom() -> None:
            raise RuntimeError("secret internals /etc/passwd")

        @app.get("/api/v1/boom", dependencies=[Anonymous])
        def api_boom() -> None:
            raise RuntimeError("secret internals")

        with TestClient(app, raise_server_exceptions=False) as client:
            page = client.get("/boom", headers={"Accept-Language": "en"})
            api = client.get("/api/v1/boom")
        assert page.status_code == 500
        assert h1(page.text) == "Something went wrong"
        for body in (page.text, api.text):
            assert "Traceback" not in body
            assert "secret internals" not in body
        assert page.headers["x-request-id"] in page.text
        assert api.status_code == 500
        assert api.json()["detail"]["request_id"] == api.headers["x-request-id"]
        assert page.headers["content-security-policy"]

    def test_403_page_in_the_users_language(self, client: TestClient) -> None:
        response = client.post(
            "/accessibility/feedback", data={"message": "x"}, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 403
        assert h1(response.text) == "You do not have access to this page"
