"""Staff admins keep the yearly configuration and the school list of Kesäseteli."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEvent
from app.summer_voucher.models import School, YearConfiguration
from tests.conftest import login


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


class TestConfiguration:
    def test_new_year_form_is_prefilled_from_the_rules(self, client: TestClient) -> None:
        login(client, "staff-admin", staff=True)
        page = client.get("/admin/summer-voucher/configuration?year=2031")
        assert page.status_code == 200
        assert 'value="350.00"' in page.text
        assert 'value="60"' in page.text
        assert 'value="500.00"' in page.text

    def test_saving_creates_then_updates_the_year(self, client: TestClient, db: Session) -> None:
        login(client, "staff-admin", staff=True)
        form = {
            "year": "2031",
            "voucher_value": "350,00",
            "min_work_hours": "60",
            "min_work_compensation": "500",
            "target_groups": ["primary_target_group", "hki_18"],
            "opens_on": "2031-01-15",
            "closes_on": "2031-08-15",
            "csrf_token": csrf(client),
        }
        saved = client.post(
            "/admin/summer-voucher/configuration", data=form, follow_redirects=False
        )
        assert saved.status_code == 303
        config = db.exec(select(YearConfiguration).where(YearConfiguration.year == 2031)).one()
        assert config.voucher_value == Decimal("350.00")
        assert config.target_groups == ["primary_target_group", "hki_18"]
        client.post("/admin/summer-voucher/configuration", data={**form, "voucher_value": "375"})
        db.refresh(config)
        assert config.voucher_value == Decimal("375.00")
        actions = {e.action for e in db.exec(select(AuditEvent)).all()}
        assert {
            "summer_voucher.configuration.create",
            "summer_voucher.configuration.update",
        } <= actions

    def test_bad_input_is_shown_with_the_values_kept(self, client: TestClient) -> None:
        login(client, "staff-admin", staff=True)
        answer = client.post(
            "/admin/summer-voucher/configuration",
            data={
                "year": "2031",
                "voucher_value": "abc",
                "min_work_hours": "60",
                "min_work_compensation": "500",
                "opens_on": "2031-09-01",
                "closes_on": "2031-08-15",
                "csrf_token": csrf(client),
            },
            headers={"Accept-Language": "en"},
        )
        assert answer.status_code == 422
        assert "Enter an amount in euros" in answer.text
        assert 'value="abc"' in answer.text
        assert "Choose at least 1 items." in answer.text or "target_groups" in answer.text

    def test_only_admins(self, client: TestClient) -> None:
        login(client, "staff-handler", staff=True)
        assert client.get("/admin/summer-voucher/configuration").status_code == 403


class TestSchools:
    def test_bulk_import_skips_duplicates_and_sorts_finnish(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, "staff-admin", staff=True)
        names = "Östersundomin koulu\nArabian peruskoulu\n  Arabian   peruskoulu \nÄrjän koulu\nZ-koulu\n"
        answer = client.post(
            "/admin/summer-voucher/schools",
            data={"names": names, "csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("added=4")
        again = client.post(
            "/admin/summer-voucher/schools",
            data={"names": "Arabian peruskoulu", "csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert again.headers["location"].endswith("added=0")
        page = client.get("/admin/summer-voucher/schools").text
        order = [
            page.index(n)
            for n in ("Arabian peruskoulu", "Z-koulu", "Ärjän koulu", "Östersundomin koulu")
        ]
        assert order == sorted(order)
        school = db.exec(select(School).where(School.name == "Z-koulu")).one()
        removed = client.post(
            f"/admin/summer-voucher/schools/{school.id}/delete",
            data={"csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert db.exec(select(School).where(School.name == "Z-koulu")).first() is None
