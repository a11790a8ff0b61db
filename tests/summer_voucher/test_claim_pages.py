"""The employer's claim pages over HTTP: draft, look-up, details, files, summary, send (K33-K48)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEvent
from app.auth.models import User
from app.security import Actor
from app.summer_voucher.models import Claim, ClaimAttachment, ClaimStatus, YearConfiguration
from tests.conftest import login
from tests.summer_voucher import factories as f


def employer_client(client: TestClient, sub: str = "employer-one") -> None:
    client.headers["Accept-Language"] = "en"  # the pages' English texts are asserted
    answer = login(client, sub)
    assert answer.status_code == 303
    if answer.headers["location"].startswith("/employer/organisations"):
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        client.post(
            "/employer/organisations", data={"business_id": "3045112-8", "csrf_token": token}
        )


def new_claim(client: TestClient, csrf: Callable[[], str]) -> str:
    response = client.post(
        "/employer/summer-voucher/claims", data={"csrf_token": csrf()}, follow_redirects=False
    )
    assert response.status_code == 303
    path = str(response.headers["location"])
    assert re.fullmatch(r"/employer/summer-voucher/claims/\d+", path)
    return path


def details(csrf: Callable[[], str], **changes: str) -> dict[str, str]:
    year = f.this_year()
    values = {
        "csrf_token": csrf(),
        "employee_phone": "040 123 4567",
        "employment_postcode": "00100",
        "employment_start": f"{year}-06-03",
        "employment_end": f"{year}-07-26",
        "work_hours": "80,5",
        "salary_paid": "920,50",
        "job_description": "Asiakaspalvelu",
        "hired_without_voucher": "maybe",
        "contact_name": "Eija Esimerkki",
        "contact_email": "eija@example.com",
        "contact_phone": "040 765 4321",
        "street_address": "Mannerheimintie 1, 00100 Helsinki",
        "iban": "FI21 1234 5600 0007 85",
    }
    values.update(changes)
    return values


def upload(
    client: TestClient, path: str, csrf: Callable[[], str], kind: str, content: bytes, name: str
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{path}/attachments",
        data={"csrf_token": csrf(), "kind": kind},
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )
    return response


def test_an_employer_claims_a_voucher_from_draft_to_sent(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db, first_name="Ella", last_name="Ääninen")
    db.commit()
    employer_client(client)
    path = new_claim(client, csrf)
    assert new_claim(client, csrf) == path  # K36: the same draft again

    page = client.get(path)
    assert page.status_code == 200
    assert "Kahvila Esimerkki Oy" in page.text
    assert 'name="employment_start"' not in page.text

    lookup = client.post(
        f"{path}/employee",
        data={"csrf_token": csrf(), "employee_name": "Ella Aaninen", "serial": f.serial(voucher)},
        follow_redirects=False,
    )
    assert lookup.status_code == 303
    page = client.get(path)
    assert "Ella Ääninen" in page.text
    assert 'name="employment_start"' in page.text

    saved = client.post(path, data=details(csrf, action="continue"), follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("/summary")
    summary = client.get(saved.headers["location"])
    assert "The claim cannot be sent yet" in summary.text  # no files yet

    assert (
        upload(client, path, csrf, "employment_contract", f.PDF, "sopimus.pdf").status_code == 303
    )
    assert upload(client, path, csrf, "payslip", f.png_bytes(), "palkka.png").status_code == 303
    summary = client.get(f"{path}/summary")
    assert "The claim cannot be sent yet" not in summary.text
    assert "FI21 1234 5600 0007 85" in summary.text

    refused = client.post(f"{path}/submit", data={"csrf_token": csrf()})
    assert refused.status_code == 422
    assert "You must accept this" in refused.text

    sent = client.post(
        f"{path}/submit",
        data={"csrf_token": csrf(), "terms_accepted": "true"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("/thanks")
    assert "Ella" in client.get(sent.headers["location"]).text

    claim = db.exec(select(Claim)).one()
    db.refresh(claim)
    assert claim.status == ClaimStatus.submitted
    assert claim.submitted_at is not None
    view = client.get(path)
    assert "Submitted" in view.text
    assert 'name="employment_start"' not in view.text
    # K45: locked.
    assert client.post(path, data=details(csrf)).status_code == 409
    assert client.post(f"{path}/delete", data={"csrf_token": csrf()}).status_code == 409

    listing = client.get("/employer/summer-voucher")
    assert f.serial(voucher) in listing.text
    assert "Ella Aaninen" in listing.text

    # "Add another" copies the employer's details into a new draft.
    another = client.post(
        "/employer/summer-voucher/claims",
        data={"csrf_token": csrf(), "copy_from": str(claim.id)},
        follow_redirects=False,
    )
    assert another.headers["location"] != path
    assert "eija@example.com" in client.get(another.headers["location"]).text


def test_bad_values_come_back_with_messages_and_the_typed_values(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db)
    db.commit()
    employer_client(client)
    path = new_claim(client, csrf)
    client.post(
        f"{path}/employee",
        data={"csrf_token": csrf(), "employee_name": "Aino Virtanen", "serial": f.serial(voucher)},
    )
    response = client.post(
        path, data=details(csrf, iban="FI00 1234", employment_postcode="1234", work_hours="1,234")
    )
    assert response.status_code == 422
    assert "Enter a valid IBAN" in response.text
    assert 'value="FI00 1234"' in response.text
    assert 'value="1,234"' in response.text
    assert 'aria-invalid="true"' in response.text


def test_wrong_name_and_wrong_serial_answer_the_same(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db)
    db.commit()
    employer_client(client)
    path = new_claim(client, csrf)
    answers = [
        client.post(
            f"{path}/employee",
            data={"csrf_token": csrf(), "employee_name": name, "serial": serial},
        )
        for name, serial in (("Aino Nieminen", f.serial(voucher)), ("Aino Virtanen", "ABC-123"))
    ]
    assert [a.status_code for a in answers] == [404, 404]
    message = "No summer job voucher was found with this name and serial number."
    assert all(message in a.text for a in answers)
    attempts = db.exec(
        select(AuditEvent).where(AuditEvent.action == "summer_voucher_claim.employee_lookup")
    ).all()
    assert len(attempts) == 2
    assert all(a.outcome == "failure" for a in attempts)


def test_a_fake_pdf_is_refused(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    employer_client(client)
    path = new_claim(client, csrf)
    fake = upload(client, path, csrf, "payslip", b"this is not a pdf at all", "palkka.pdf")
    assert fake.status_code == 415
    assert "must be a PDF, PNG or JPEG" in fake.text
    broken = upload(client, path, csrf, "payslip", b"%PDF-1.4 truncated", "palkka.pdf")
    assert broken.status_code == 422
    assert db.exec(select(ClaimAttachment)).all() == []


def test_files_are_downloaded_and_deleted_only_by_the_company(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    employer_client(client)
    path = new_claim(client, csrf)
    upload(client, path, csrf, "employment_contract", f.PDF, "../../etc/sopimus.pdf")
    attachment = db.exec(select(ClaimAttachment)).one()
    assert attachment.filename == "sopimus.pdf"
    download = client.get(f"{path}/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.content == f.PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    upload(client, path, csrf, "payslip", f.PDF, "Työ palkka.pdf")
    named = db.exec(select(ClaimAttachment).where(ClaimAttachment.kind == "payslip")).one()
    header = client.get(f"{path}/attachments/{named.id}").headers["content-disposition"]
    assert header.endswith("filename*=UTF-8''Ty%C3%B6%20palkka.pdf")

    client.post("/logout", data={"csrf_token": csrf()})
    client.cookies.clear()
    employer_client(client, "employer-two-orgs")  # acts for another company
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/attachments/{attachment.id}").status_code == 404
    assert (
        client.post(
            f"{path}/attachments/{attachment.id}/delete", data={"csrf_token": csrf()}
        ).status_code
        == 404
    )
    assert client.post(f"{path}/delete", data={"csrf_token": csrf()}).status_code == 404
    assert db.exec(select(ClaimAttachment)).all() != []


def test_a_draft_is_deleted_after_confirmation(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    employer_client(client)
    path = new_claim(client, csrf)
    assert "Delete permanently" in client.get(f"{path}/delete").text
    gone = client.post(f"{path}/delete", data={"csrf_token": csrf()}, follow_redirects=False)
    assert gone.status_code == 303
    assert db.exec(select(Claim)).all() == []
    assert client.get(path).status_code == 404


def test_more_information_is_added_and_the_claim_sent_back(
    client: TestClient,
    db: Session,
    csrf: Callable[[], str],
    open_year: YearConfiguration,
    app: FastAPI,
) -> None:
    from app.summer_voucher import claims

    employer_client(client)
    me = db.exec(select(User).where(User.kind == "employer", User.subject == "employer-one")).one()
    actor = Actor(kind="employer", user_id=str(me.id), provider="x", business_id="2956285-9")
    f.company(db)
    claim = f.submitted_claim(db, app.state.file_store, actor=actor)
    handler = f.staff(db)
    from app.state_machine import apply_transition

    apply_transition(
        db,
        obj=claim,
        table=claims.CLAIM_TRANSITIONS,
        target=ClaimStatus.additional_information_requested,
        actor=handler,
        role="handler",
        target_type="summer_voucher_claim",
        stamps={"information_request": "Lisää allekirjoitettu työsopimus."},
    )
    db.commit()
    path = f"/employer/summer-voucher/claims/{claim.id}"
    page = client.get(path)
    assert "Lisää allekirjoitettu työsopimus." in page.text
    assert (
        upload(client, path, csrf, "employment_contract", f.PDF, "allekirjoitettu.pdf").status_code
        == 303
    )
    back = client.post(
        f"{path}/provide-information", data={"csrf_token": csrf()}, follow_redirects=False
    )
    assert back.status_code == 303
    db.refresh(claim)
    assert claim.status == ClaimStatus.additional_information_provided
    # No more files once sent back.
    assert upload(client, path, csrf, "payslip", f.PDF, "x.pdf").status_code == 409


def test_a_separate_invoicer_is_kept_and_required_before_sending(
    client: TestClient, db: Session, csrf: Callable[[], str], open_year: YearConfiguration
) -> None:
    _youth, voucher = f.accepted_youth(db)
    db.commit()
    employer_client(client)
    path = new_claim(client, csrf)
    client.post(
        f"{path}/employee",
        data={"csrf_token": csrf(), "employee_name": "Aino Virtanen", "serial": f.serial(voucher)},
    )
    saved = client.post(path, data=details(csrf, is_separate_invoicer="true"))
    assert saved.status_code == 200  # followed the redirect back to the draft
    assert 'id="f-is_separate_invoicer" name="is_separate_invoicer" value="true"' in saved.text
    assert "checked" in saved.text.split('id="f-is_separate_invoicer"')[1].split(">")[0]
    summary = client.get(f"{path}/summary")
    assert "#f-invoicer_name" in summary.text
    cleared = client.post(path, data=details(csrf))
    assert "checked" not in cleared.text.split('id="f-is_separate_invoicer"')[1].split(">")[0]
