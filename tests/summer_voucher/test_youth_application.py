"""A young person applies without logging in, confirms by e-mail and gets the voucher."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.db import make_engine, utcnow
from app.notifications.models import OutboxMessage
from app.summer_voucher import serials, service
from app.summer_voucher.errors import AlreadyAssigned, EmailInUse
from app.summer_voucher.models import Voucher, YearConfiguration, YouthApplication
from app.summer_voucher.population import FixtureRegister, RegisterUnavailable
from app.summer_voucher.schemas import YouthApplicationIn

EETU = {
    "first_name": "Eetu",
    "last_name": "Virtanen",
    "hetu": "220410A3177",
    "postcode": "00510",
}  # 16, Helsinki


def form(client: TestClient, **overrides: str) -> dict[str, str]:
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    return {
        **EETU,
        "school": "",
        "is_unlisted_school": "true",
        "unlisted_school": "Vallilan peruskoulu",
        "target_group": "primary_target_group",
        "phone": "040 123 4567",
        "email": "eetu@example.com",
        "terms_accepted": "true",
        "csrf_token": token,
        **overrides,
    }


def outbox(db: Session, kind: str) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def activation_path(message: OutboxMessage) -> str:
    match = re.search(r"http://testserver(/summer-voucher/activate/[\w-]+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(YouthApplication)).one()


def test_not_open_without_a_configuration(client: TestClient) -> None:
    page = client.get("/summer-voucher", headers={"Accept-Language": "en"})
    assert "Applications for summer job vouchers are not open right now." in page.text
    assert client.get("/summer-voucher/apply").status_code == 200  # the "not open" page, not a form
    assert 'name="hetu"' not in client.get("/summer-voucher/apply").text


def test_apply_activate_and_get_the_voucher(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    start = client.get("/summer-voucher", headers={"Accept-Language": "sv"})
    assert "Sommarsedeln" in start.text
    sent = client.post(
        "/summer-voucher/apply",
        data=form(client),
        headers={"Accept-Language": "sv"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/summer-voucher/thanks"
    (mail,) = outbox(db, "summer_voucher.activation")
    assert mail.language == "sv"
    assert mail.to_address == "eetu@example.com"
    path = activation_path(mail)
    assert (
        client.get(path).status_code == 200
    )  # a confirmation page: opening the link changes nothing
    application = db.exec(select(YouthApplication)).one()
    assert application.activated_at is None
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    done = client.post(path, data={"csrf_token": token}, headers={"Accept-Language": "sv"})
    assert done.status_code == 200
    assert "Din sedel är på väg" in done.text
    db.refresh(application)
    assert application.status == "accepted"
    voucher = db.exec(select(Voucher).where(Voucher.youth_application_id == application.id)).one()
    (voucher_mail,) = outbox(db, "summer_voucher.voucher")
    assert serials.format_serial(voucher.serial_number) in voucher_mail.body_text
    assert "350,00" in voucher_mail.body_text
    assert voucher_mail.bcc == "kesaseteli@hel.fi"
    (attachment,) = voucher_mail.attachments
    assert attachment["content_type"] == "application/pdf"
    again = client.post(path, data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert "Already confirmed" in again.text


def test_personal_data_is_encrypted_and_indexed(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    from sqlalchemy import text

    client.post("/summer-voucher/apply", data=form(client))
    raw = db.execute(text("SELECT hetu, last_name, email, hetu_index FROM youth_application")).one()
    assert all(str(v).startswith("v1:") for v in raw[:3])
    assert "220410" not in str(raw)
    assert "Virtanen" not in str(raw)


def test_second_application_of_the_same_person_is_refused(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    client.post("/summer-voucher/apply", data=form(client))
    again = client.post(
        "/summer-voucher/apply",
        data=form(client, email="toinen@example.com"),
        headers={"Accept-Language": "en"},
    )
    assert again.status_code == 409
    assert count(db) == 1


def test_same_email_waiting_for_activation_is_refused_until_the_link_expires(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    client.post("/summer-voucher/apply", data=form(client))
    other_person = form(
        client,
        first_name="Aino",
        last_name="Mäkelä",
        hetu="150311A246V",
        target_group="primary_target_group",
    )
    assert client.post("/summer-voucher/apply", data=other_person).status_code == 409
    first = db.exec(select(YouthApplication)).one()
    first.created_at = utcnow() - timedelta(hours=13)
    db.add(first)
    db.flush()
    assert (
        client.post("/summer-voucher/apply", data=other_person, follow_redirects=False).status_code
        == 303
    )
    db.refresh(first)
    assert first.status == "expired"


def test_name_mismatch_asks_to_recheck_then_send_anyway(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    answer = client.post(
        "/summer-voucher/apply",
        data=form(client, last_name="Virtane"),
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 422
    assert "Send the application anyway" in answer.text
    assert count(db) == 0
    anyway = client.post(
        "/summer-voucher/apply",
        data=form(client, last_name="Virtane", send_anyway="true"),
        follow_redirects=False,
    )
    assert anyway.status_code == 303
    application = db.exec(select(YouthApplication)).one()
    assert application.needs_additional_info
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    done = client.post(
        activation_path(outbox(db, "summer_voucher.activation")[0]),
        data={"csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert "We need more information" in done.text
    db.refresh(application)
    assert application.status == "additional_information_requested"
    assert outbox(db, "summer_voucher.voucher") == []


def test_send_anyway_when_nothing_is_wrong_is_refused(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    answer = client.post("/summer-voucher/apply", data=form(client, send_anyway="true"))
    assert answer.status_code == 422
    assert count(db) == 0


@pytest.mark.parametrize(
    ("person", "label"),
    [
        ({"first_name": "Juho", "last_name": "Laine", "hetu": "140509A355U"}, "deceased"),
        ({"first_name": "Ei", "last_name": "Löydy", "hetu": "010110A1230"}, "not found"),
    ],
)
def test_register_refusals_store_nothing(
    client: TestClient,
    db: Session,
    open_year: YearConfiguration,
    person: dict[str, str],
    label: str,
) -> None:
    answer = client.post(
        "/summer-voucher/apply", data=form(client, **person), headers={"Accept-Language": "en"}
    )
    assert answer.status_code == 422, label
    assert "not possible to get a summer job voucher" in answer.text
    assert count(db) == 0


def test_register_down_is_a_clear_503(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    class Down:
        def find(self, hetu: str, *, end_user: str | None = None) -> None:
            raise RegisterUnavailable("down")

    app = client.app
    saved = app.state.population_register  # type: ignore[attr-defined]
    app.state.population_register = Down()  # type: ignore[attr-defined]
    try:
        answer = client.post(
            "/summer-voucher/apply", data=form(client), headers={"Accept-Language": "en"}
        )
    finally:
        app.state.population_register = saved  # type: ignore[attr-defined]
    assert answer.status_code == 503
    assert "population register is temporarily unavailable" in answer.text
    assert count(db) == 0


def test_expired_link(client: TestClient, db: Session, open_year: YearConfiguration) -> None:
    client.post("/summer-voucher/apply", data=form(client))
    application = db.exec(select(YouthApplication)).one()
    application.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.add(application)
    db.flush()
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    done = client.post(
        activation_path(outbox(db, "summer_voucher.activation")[0]),
        data={"csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert "The link has expired" in done.text


def test_bad_input_is_rerendered(client: TestClient, open_year: YearConfiguration) -> None:
    answer = client.post(
        "/summer-voucher/apply",
        data=form(
            client, hetu="220410A3178", postcode="123", is_unlisted_school="", terms_accepted=""
        ),
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 422
    for message in (
        "Enter a valid personal identity code",
        "Enter a postcode of five digits",
        "Choose your school, or tick",
        "You must accept this to continue.",
    ):
        assert message in answer.text
    assert 'value="220410A3178"' in answer.text


@pytest.mark.postgres
def test_fifty_parallel_submissions_leave_one(database_url: str, settings: object) -> None:
    """The database decides: of 50 simultaneous submissions of the same person exactly one is stored."""
    from app import crypto

    engine = make_engine(database_url, pool_size=20, max_overflow=40)
    year = utcnow().astimezone(service.HELSINKI).year
    config = YearConfiguration(
        year=year,
        voucher_value=Decimal("350"),
        min_work_hours=60,
        min_work_compensation=Decimal("500"),
        target_groups=["primary_target_group"],
        opens_on=date(year, 1, 1),
        closes_on=date(year, 12, 31),
    )
    crypto.configure(settings)  # type: ignore[arg-type]
    data = YouthApplicationIn.model_validate(
        {
            **EETU,
            "is_unlisted_school": True,
            "unlisted_school": "Koulu",
            "target_group": "primary_target_group",
            "phone": "0401234567",
            "email": "parallel@example.com",
            "terms_accepted": True,
        }
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(50)

    def submit() -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                service.apply(
                    session,
                    data=data,
                    config=config,
                    register=FixtureRegister(),
                    language="fi",
                    now=utcnow(),
                )
                session.commit()
                outcomes.append("stored")
            except (AlreadyAssigned, EmailInUse):
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert outcomes.count("stored") == 1
        assert outcomes.count("refused") == 49
    finally:
        with engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("DELETE FROM youth_application WHERE year = :year"), {"year": year})
        engine.dispose()


def test_additional_information_is_sent_once_and_the_handlers_are_told(
    client: TestClient, db: Session, open_year: YearConfiguration
) -> None:
    client.post("/summer-voucher/apply", data=form(client, last_name="Virtane", send_anyway="true"))
    path = activation_path(outbox(db, "summer_voucher.activation")[0])
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    page = client.post(path, data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert "Why should your application be handled by a person?" in page.text
    info_path = path.replace("/activate/", "/additional-info/")
    empty = client.post(
        info_path, data={"csrf_token": token, "description": ""}, headers={"Accept-Language": "en"}
    )
    assert empty.status_code == 422
    assert "Choose at least 1 items." in empty.text or 'id="f-reasons-error"' in empty.text
    sent = client.post(
        info_path,
        data={
            "csrf_token": token,
            "reasons": ["personal_info_differs_from_vtj", "other"],
            "description": "Sukunimeni on Kela-kortissa eri muodossa.",
        },
        headers={"Accept-Language": "en"},
    )
    assert sent.status_code == 200
    assert "Thank you, we received the information" in sent.text
    application = db.exec(select(YouthApplication)).one()
    assert application.status == "additional_information_provided"
    assert application.additional_info_reasons == ["personal_info_differs_from_vtj", "other"]
    (notice,) = outbox(db, "summer_voucher.processing")
    assert notice.to_address == "kesaseteli@hel.fi"
    assert f"/admin/summer-voucher/youth/{application.id}" in notice.body_text
    again = client.post(
        info_path, data={"csrf_token": token, "reasons": ["other"], "description": "Uudestaan"}
    )
    assert again.status_code == 409


class TestApi:
    def test_apply_and_activate_through_the_json_api(
        self, client: TestClient, db: Session, open_year: YearConfiguration
    ) -> None:
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        body = {
            **EETU,
            "is_unlisted_school": True,
            "unlisted_school": "Vallilan peruskoulu",
            "target_group": "primary_target_group",
            "phone": "0401234567",
            "email": "api@example.com",
            "terms_accepted": True,
        }
        created = client.post(
            "/api/v1/summer-voucher/youth-applications", json=body, headers={"X-CSRF-Token": token}
        )
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "submitted"
        assert "hetu" not in created.text
        link_token = activation_path(outbox(db, "summer_voucher.activation")[0]).rsplit("/", 1)[1]
        done = client.post(
            f"/api/v1/summer-voucher/activations/{link_token}", headers={"X-CSRF-Token": token}
        )
        assert done.json() == {"outcome": "accepted"}
        duplicate = client.post(
            "/api/v1/summer-voucher/youth-applications", json=body, headers={"X-CSRF-Token": token}
        )
        assert duplicate.status_code == 409
        assert duplicate.json()["detail"]["code"] == "already_assigned"

    def test_field_errors_are_localised(
        self, client: TestClient, open_year: YearConfiguration
    ) -> None:
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        answer = client.post(
            "/api/v1/summer-voucher/youth-applications",
            json={"hetu": "nope"},
            headers={"X-CSRF-Token": token, "Accept-Language": "sv"},
        )
        assert answer.status_code == 422
        messages = {tuple(d["loc"]): d["msg"] for d in answer.json()["detail"]}
        assert (
            messages[("body", "hetu")]
            == "Ange en giltig personbeteckning, till exempel 131052-308T."
        )

    def test_not_open(self, client: TestClient) -> None:
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        body = {
            **EETU,
            "is_unlisted_school": True,
            "unlisted_school": "K",
            "target_group": "primary_target_group",
            "phone": "0401234567",
            "email": "x@example.com",
            "terms_accepted": True,
        }
        answer = client.post(
            "/api/v1/summer-voucher/youth-applications", json=body, headers={"X-CSRF-Token": token}
        )
        assert answer.status_code == 409
        assert answer.json()["detail"]["code"] == "not_open"
