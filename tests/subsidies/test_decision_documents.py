"""The Helsinki-lisä decision letter (issue #7 §1): stored as PDF and JSON with the final
decision, in the application's language, with the masked identity code only; the employer's
downloads and the JSON API (404 for another company and before the decision), the staff JSON,
the decider's preview, superseding on return to handling, and the audit rows of every read.

No PDF text library is installed, so the letter's text is checked in the HTML it is rendered
from (decision_document.letter_html of the stored JSON) and the PDF by its structure."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.documents.storage import FileStore
from app.subsidies import calculation as calculations
from app.subsidies import decision_document, handling
from app.subsidies.decision_document import DecisionContent
from app.subsidies.models import Application, ApplicationStatus, DecisionDocument
from app.subsidies.staff_schemas import DecisionIn, ReturnIn
from app.templating import HELSINKI_TZ
from tests.admin import subsidy_factories as f
from tests.subsidies import factories as sf

S = ApplicationStatus
HETU = sf.hetu("010190", 123)  # the factories' employee
MASKED = "010190-****"
EMPLOYER_PAGE = "/employer/subsidies/applications"


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def decide(db: Session, application: Application, data: DecisionIn) -> None:
    handling.decide(
        db,
        application=application,
        data=data,
        actor=f.staff(db, "staff-decider"),
        base_url="http://testserver",
    )
    db.commit()


def documents(db: Session, application: Application) -> list[DecisionDocument]:
    db.expire_all()
    return list(
        db.exec(
            select(DecisionDocument)
            .where(DecisionDocument.application_id == application.id)
            .order_by(col(DecisionDocument.id))
        ).all()
    )


def only_current(db: Session, application: Application) -> DecisionDocument:
    current = [d for d in documents(db, application) if d.superseded_at is None]
    assert len(current) == 1
    return current[0]


def assert_pdf(content: bytes) -> None:
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert HETU.encode() not in content


def employer(
    client: TestClient, db: Session, sub: str = "employer-one", business_id: str | None = None
) -> TestClient:
    client.cookies.clear()
    return sf.employer_client(client, db, sub=sub, business_id=business_id)


# --- Stored with the decision ------------------------------------------------------------------


def test_accepting_stores_the_letter_in_the_applications_language(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.calculated(db, store, employer={"language": "sv"})
    answer = f.post(
        client,
        f"{f.BASE}/{application.id}/decision",
        {"decision": "accepted", "granted_as_de_minimis_aid": "true"},
    )
    assert answer.status_code == 303
    document = only_current(db, application)
    assert document.language == "sv"
    assert document.decided_by == "Pekka Päättäjä"
    assert_pdf(document.pdf)
    content = DecisionContent.model_validate(document.content)
    assert content.decision == "accepted"
    assert content.language == "sv"
    assert content.application_number == application.application_number
    assert content.decision_maker == "Pekka Päättäjä"
    assert content.company.name == "Kahvila Esimerkki Oy"
    assert content.company.business_id == sf.COMPANY
    assert content.employee.name == "Aino Virtanen"
    assert content.employee.hetu_masked == MASKED
    assert content.total == Decimal("1600.00")
    assert content.benefit_period is not None
    assert content.benefit_period.start_date == date(2023, 9, 1)
    assert content.benefit_period.end_date == date(2023, 10, 31)
    assert [(p.months, p.monthly_amount, p.amount) for p in content.periods] == [
        (Decimal("2.00"), Decimal("800.00"), Decimal("1600.00"))
    ]
    assert [(i.number, i.amount) for i in content.instalments] == [(1, Decimal("1600.00"))]
    rules = {r.name: r for r in content.rules}
    monthly_max = rules["subsidies.salary_benefit_monthly_max"]
    assert monthly_max.value == "800.00"
    assert monthly_max.effective_from <= content.calculation_date  # type: ignore[operator]
    assert monthly_max.source
    assert content.de_minimis is not None
    assert content.de_minimis.granted_as_de_minimis_aid is True
    assert "2023/2831" in content.de_minimis.statement
    assert content.appeal.days == 14
    assert content.appeal.kind == "oikaisuvaatimus"
    decided_at = f.fresh(db, application).decided_at
    assert decided_at is not None
    assert content.decided_at == decided_at
    assert content.decision_date == decided_at.astimezone(HELSINKI_TZ).date()
    # The JSON as stored: decimal strings, the masked identity code only.
    stored = json.dumps(document.content)
    assert '"total": "1600.00"' in stored
    assert HETU not in stored
    # The letter says it in Swedish.
    html = decision_document.letter_html(content)
    assert 'lang="sv"' in html
    assert "Beslut om Helsingforstillägg" in html
    assert "Decision on the Helsinki benefit" not in html
    assert "Aino Virtanen" in html
    assert MASKED in html
    assert HETU not in html
    assert "1\xa0600,00\xa0€" in html
    assert "subsidies.salary_benefit_monthly_max" in html
    assert "1\xa0770,00" in html  # the 70 % pay subsidy cap, a rule value used
    assert "2023/2831" in html  # the de minimis statement
    assert "Pekka Päättäjä" in html
    assert "helsinki.kirjaamo@hel.fi" in html
    assert f.audit_rows(db, "subsidy_application.decision_letter.create", application.id)


def test_rejecting_stores_the_letter_with_the_reason(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.in_handling(db, store)
    decide(db, application, DecisionIn(decision="rejected", reason="Työsuhde ei täytä ehtoja."))
    document = only_current(db, application)
    assert document.language == "fi"
    assert_pdf(document.pdf)
    content = DecisionContent.model_validate(document.content)
    assert content.decision == "rejected"
    assert content.reason == "Työsuhde ei täytä ehtoja."
    assert content.total is None
    assert content.periods == []
    assert content.instalments == []
    assert content.rules == []
    assert content.de_minimis is None
    assert content.benefit_period is not None  # the period applied for
    assert content.benefit_period.start_date == application.start_date
    assert content.employee.hetu_masked == MASKED
    html = decision_document.letter_html(content)
    assert 'lang="fi"' in html
    assert "Päätös Helsinki-lisästä" in html
    assert "Hakemus Helsinki-lisästä hylätään." in html
    assert "Työsuhde ei täytä ehtoja." in html
    assert "Oikaisuvaatimus" in html
    assert "14 päivän" in html
    assert HETU not in html


def test_the_letter_in_english(client: TestClient, db: Session, store: FileStore) -> None:
    application = f.calculated(db, store, employer={"language": "en"})
    decide(db, application, DecisionIn(decision="accepted", granted_as_de_minimis_aid=False))
    content = DecisionContent.model_validate(only_current(db, application).content)
    assert content.de_minimis is not None
    assert content.de_minimis.statement == "The benefit is not granted as de minimis aid."
    html = decision_document.letter_html(content)
    assert 'lang="en"' in html
    assert "Decision on the Helsinki benefit" in html
    assert "The Helsinki benefit is granted: 1\xa0600,00\xa0€ in total." in html
    assert "How to request a review (oikaisuvaatimus)" in html


# --- The employer's downloads and the JSON API ----------------------------------------------------


def test_the_employer_downloads_the_letter_and_the_json(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store)
    decide(db, application, DecisionIn(decision="accepted", granted_as_de_minimis_aid=True))
    document = only_current(db, application)
    employer(client, db)
    page = client.get(f"{EMPLOYER_PAGE}/{application.id}")
    assert page.status_code == 200
    pdf_link = f"{EMPLOYER_PAGE}/{application.id}/decision-letter"
    json_link = f"/api/v1/subsidies/{application.id}/decision"
    assert f'href="{pdf_link}"' in page.text
    assert f'href="{json_link}"' in page.text
    assert f'download="helsinki-lisa-paatos-{application.application_number}.json"' in page.text

    letter = client.get(pdf_link)
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert (
        f'filename="helsinki-lisa-paatos-{application.application_number}.pdf"'
        in letter.headers["content-disposition"]
    )
    assert letter.content == document.pdf

    answer = client.get(json_link)
    assert answer.status_code == 200
    body = answer.json()
    assert body == document.content
    assert body["decision"] == "accepted"
    assert body["total"] == "1600.00"
    assert body["employee"] == {"name": "Aino Virtanen", "hetu_masked": MASKED}
    assert body["instalments"][0]["due_date"]
    assert HETU not in answer.text

    reads = f.audit_rows(db, "subsidy_application.decision_letter.read", application.id)
    assert [r.detail for r in reads] == [
        f"document={document.id};format=pdf",
        f"document={document.id};format=json",
    ]
    assert {(r.actor_kind, r.business_id) for r in reads} == {("employer", sf.COMPANY)}
    assert all(r.fields and "employee_hetu" in r.fields for r in reads)


def test_not_before_the_decision_nor_for_another_company(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store)
    employer(client, db)
    page = client.get(f"{EMPLOYER_PAGE}/{application.id}")
    assert page.status_code == 200
    assert "decision-letter" not in page.text
    assert client.get(f"{EMPLOYER_PAGE}/{application.id}/decision-letter").status_code == 404
    missing = client.get(f"/api/v1/subsidies/{application.id}/decision")
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "not_found"

    decide(db, application, DecisionIn(decision="accepted", granted_as_de_minimis_aid=False))
    assert client.get(f"/api/v1/subsidies/{application.id}/decision").status_code == 200

    # Another company's employer sees nothing of it.
    employer(client, db, sub="employer-two-orgs", business_id=sf.OTHER_COMPANY)
    assert client.get(f"/api/v1/subsidies/{application.id}/decision").status_code == 404
    assert client.get(f"{EMPLOYER_PAGE}/{application.id}/decision-letter").status_code == 404
    reads = f.audit_rows(db, "subsidy_application.decision_letter.read", application.id)
    assert [r.business_id for r in reads] == [sf.COMPANY]  # only the one that was let in


# --- Staff ------------------------------------------------------------------------------------------


def test_staff_read_the_json_at_their_own_url(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store)
    url = f"{f.API}/{application.id}/decision"
    f.staff_login(client, "staff-handler")
    assert client.get(url).status_code == 404  # not decided yet
    decide(db, application, DecisionIn(decision="accepted", granted_as_de_minimis_aid=False))
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer.json() == only_current(db, application).content
    assert f.audit_rows(db, "subsidy_application.decision_letter.read", application.id)
    f.staff_login(client, "staff-payer")
    assert client.get(url).status_code == 403


def test_the_decider_previews_the_letter_without_storing_it(
    client: TestClient, db: Session, store: FileStore
) -> None:
    f.staff_login(client, "staff-decider")
    application = f.calculated(db, store)
    form = client.get(f"{f.BASE}/{application.id}/decision", headers=f.EN)
    preview_url = f"{f.BASE}/{application.id}/decision/preview"
    assert f'formaction="{preview_url}"' in form.text
    assert "Preview the decision letter (PDF)" in form.text

    answer = f.post(
        client, preview_url, {"decision": "accepted", "granted_as_de_minimis_aid": "false"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert "-preview.pdf" in answer.headers["content-disposition"]
    assert_pdf(answer.content)
    assert documents(db, application) == []
    assert f.fresh(db, application).status == S.handling
    rows = f.audit_rows(db, "subsidy_application.decision_letter.preview", application.id)
    assert [r.detail for r in rows] == ["decision=accepted;language=fi"]

    rejected = f.post(client, preview_url, {"decision": "rejected", "reason": "Ei ehtoja."})
    assert rejected.status_code == 200
    assert_pdf(rejected.content)

    # The same checks as deciding: the de minimis answer, a reason, a current calculation.
    missing = client.post(
        preview_url,
        data={"decision": "accepted", "csrf_token": f.token(client)},
        headers=f.EN,
    )
    assert missing.status_code == 422
    assert "de minimis" in missing.text
    uncalculated = f.in_handling(db, store)
    refused = client.post(
        f"{f.BASE}/{uncalculated.id}/decision/preview",
        data={
            "decision": "accepted",
            "granted_as_de_minimis_aid": "true",
            "csrf_token": f.token(client),
        },
        headers=f.EN,
    )
    assert refused.status_code == 422
    assert "Calculate the benefit first" in refused.text
    assert documents(db, uncalculated) == []


def test_the_preview_letter_is_marked_and_uses_the_current_calculation(
    db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store, employer={"language": "en"})
    current = calculations.get(db, application=application)
    assert current is not None
    content = decision_document.build_content(
        db,
        application=application,
        decision="accepted",
        reason=None,
        granted_as_de_minimis_aid=True,
        calculation=calculations.frozen(current),
        decided_at=application.updated_at,
        decision_maker="Pekka Päättäjä",
    )
    assert content.total == Decimal("1600.00")
    html = decision_document.letter_html(content, preview=True)
    assert "PREVIEW: this is not a decision." in html
    assert "PREVIEW" not in decision_document.letter_html(content)


def test_only_deciders_preview_and_only_in_handling(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store)
    preview_url = f"{f.BASE}/{application.id}/decision/preview"
    f.staff_login(client, "staff-handler")
    refused = f.post(
        client, preview_url, {"decision": "accepted", "granted_as_de_minimis_aid": "false"}
    )
    assert refused.status_code == 403
    f.staff_login(client, "staff-decider")
    decide(db, application, DecisionIn(decision="rejected", reason="Ei"))
    decided = f.post(client, preview_url, {"decision": "rejected", "reason": "Ei"})
    assert decided.status_code == 409


# --- Returning to handling and deciding again ------------------------------------------------------


def test_return_to_handling_supersedes_and_a_new_decision_stores_a_new_letter(
    client: TestClient, db: Session, store: FileStore
) -> None:
    application = f.calculated(db, store)
    decide(db, application, DecisionIn(decision="rejected", reason="Puuttuu liite."))
    first = only_current(db, application)
    handling.return_to_handling(
        db,
        application=application,
        data=ReturnIn(reason="Liite löytyi"),
        actor=f.staff(db, "staff-decider"),
    )
    db.commit()
    [superseded] = documents(db, application)
    assert superseded.id == first.id
    assert superseded.superseded_at is not None
    assert f.audit_rows(db, "subsidy_application.decision_letter.supersede", application.id)

    employer(client, db)
    assert client.get(f"/api/v1/subsidies/{application.id}/decision").status_code == 404
    assert client.get(f"{EMPLOYER_PAGE}/{application.id}/decision-letter").status_code == 404

    application = f.fresh(db, application)
    decide(db, application, DecisionIn(decision="accepted", granted_as_de_minimis_aid=False))
    all_letters = documents(db, application)
    assert len(all_letters) == 2
    current = only_current(db, application)
    assert current.id != first.id
    answer = client.get(f"/api/v1/subsidies/{application.id}/decision")
    assert answer.status_code == 200
    assert answer.json()["decision"] == "accepted"
    assert client.get(f"{EMPLOYER_PAGE}/{application.id}/decision-letter").content == current.pdf
