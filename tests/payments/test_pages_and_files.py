"""The payers' pages and API end to end: payable items → batch → second payer approves → bank
file (XSD-valid pain.001) and finance CSV → paid/failed one by one or from the bank's status
report; every download audited (issue #7 §3–§5)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree
from sqlmodel import Session, col, select

from app import i18n, payment_status
from app.audit import AuditEvent
from app.documents.storage import FileStore
from app.payments import bank_file, service
from app.payments.models import BatchStatus, ItemStatus, PaymentBatch
from app.subsidies import messages
from app.summer_voucher import claim_handling
from app.summer_voucher.models import YearConfiguration
from app.templating import format_euros
from tests.conftest import login
from tests.payments import factories as f
from tests.subsidies import factories as sf

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def store(app: FastAPI) -> FileStore:
    file_store: FileStore = app.state.file_store
    return file_store


def audit(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )


def batch_id_of(response_location: str) -> int:
    match = re.search(r"/admin/payments/batches/(\d+)$", response_location)
    assert match, response_location
    return int(match.group(1))


def build_batch(client: TestClient, db: Session) -> int:
    """As staff-payer, all payable items into a new batch from the payable page."""
    login(client, "staff-payer", staff=True)
    page = client.get(f"{f.ADMIN}/payable", headers=EN)
    assert page.status_code == 200
    ids = re.findall(r'name="item_ids" value="(\d+)"', page.text)
    created = f.post(client, f"{f.ADMIN}/batches", {"item_ids": ids})
    assert created.status_code == 303, created.text
    return batch_id_of(created.headers["location"])


def switch(client: TestClient, sub: str) -> None:
    client.cookies.clear()
    login(client, sub, staff=True)


def test_the_whole_way_from_decisions_to_paid(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    claim = f.approved_claim(db, store, company_name="Äänekosken Kahvila Oy")
    application = f.accepted_application(db, store)
    batch_id = build_batch(client, db)
    page = client.get(f"{f.ADMIN}/batches/{batch_id}", headers=EN)
    assert "Another payer approves the batch: you built it." in page.text
    claim_cents = int((claim.amount or 0) * 100)
    total = claim_cents + 160_000  # the voucher value and 2 × 800 €
    with i18n.language("en"):
        assert format_euros(Decimal(total) / 100) in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is None  # no approval form for the builder
    # The builder's approval is refused by the server too.
    batch = db.get(PaymentBatch, batch_id)
    assert batch is not None
    refused = f.post(
        client, f"{f.ADMIN}/batches/{batch_id}/approve", {"version": str(batch.version)}
    )
    assert refused.status_code == 403
    assert "Maksuerän on hyväksyttävä toinen maksaja" in refused.text

    switch(client, "staff-payer2")
    page = client.get(f"{f.ADMIN}/batches/{batch_id}", headers=EN)
    version_match = re.search(r'name="version" value="(\d+)"', page.text)
    assert version_match
    approved = f.post(
        client, f"{f.ADMIN}/batches/{batch_id}/approve", {"version": version_match.group(1)}
    )
    assert approved.status_code == 303
    again = f.post(
        client, f"{f.ADMIN}/batches/{batch_id}/approve", {"version": version_match.group(1)}
    )
    assert again.status_code == 409
    assert "Maksuerä on jo hyväksytty." in again.text
    # No file before the export.
    assert client.get(f"{f.ADMIN}/batches/{batch_id}/bank-file").status_code == 409
    exported = f.post(client, f"{f.ADMIN}/batches/{batch_id}/export")
    assert exported.status_code == 303

    xml = client.get(f"{f.ADMIN}/batches/{batch_id}/bank-file")
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert bank_file.validate(xml.content) == []
    root = etree.fromstring(xml.content)
    transactions = root.findall(".//p:CdtTrfTxInf", NS)
    assert len(transactions) == 2
    names = {t.findtext("p:Cdtr/p:Nm", namespaces=NS) for t in transactions}
    assert "Äänekosken Kahvila Oy" in names  # Finnish letters kept
    amounts = sorted(t.findtext("p:Amt/p:InstdAmt", namespaces=NS) for t in transactions)
    assert amounts == sorted(["1600.00", f"{Decimal(claim_cents) / 100:.2f}"])
    remittances = {t.findtext("p:RmtInf/p:Ustrd", namespaces=NS) for t in transactions}
    assert f"Kesäseteli KS-{claim.id}" in remittances
    assert f"Helsinki-lisä {application.application_number}" in remittances
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == f"{Decimal(total) / 100:.2f}"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "FI2112345600000785"
    # Every download is the same file.
    assert client.get(f"{f.ADMIN}/batches/{batch_id}/bank-file").content == xml.content

    finance = client.get(f"{f.ADMIN}/batches/{batch_id}/finance.csv")
    assert finance.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(finance.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(bank_file.FINANCE_COLUMNS)
    assert len(rows) == 3
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[f"KS-{claim.id}"][3] == "2956285-9"
    assert by_number[f"KS-{claim.id}"][7] == f"{Decimal(claim_cents) / 100:.2f}".replace(".", ",")
    assert by_number[str(application.application_number)][10] == "1800 Kaupunginkanslia"
    assert len(audit(db, "payment_batch.download.pain001")) == 2
    assert len(audit(db, "payment_batch.download.finance_csv")) == 1

    # One paid by hand, the other from a status CSV with an unknown number beside it.
    items = {i.application_number: i for i in f.items_of(db)}
    claim_item = items[f"KS-{claim.id}"]
    paid = f.post(
        client,
        f"{f.ADMIN}/batches/{batch_id}/items/{claim_item.id}/paid",
        {"paid_on": "2026-11-20"},
    )
    assert paid.status_code == 303
    twice = f.post(
        client,
        f"{f.ADMIN}/batches/{batch_id}/items/{claim_item.id}/paid",
        {"paid_on": "2026-11-20"},
    )
    assert twice.status_code == 409
    report = client.post(
        f"{f.ADMIN}/batches/{batch_id}/status-file",
        data={"csrf_token": f.token(client)},
        files={
            "file": (
                "status.csv",
                f"{application.application_number};paid;2026-11-21\n999999;paid\n".encode(),
                "text/csv",
            )
        },
        headers=EN,
    )
    assert report.status_code == 200
    assert "Not in this batch, nothing changed for them: 999999" in report.text
    db.expire_all()
    batch = db.get(PaymentBatch, batch_id)
    assert batch is not None
    assert batch.status == BatchStatus.closed
    assert {i.status for i in f.items_of(db)} == {ItemStatus.paid}
    assert payment_status.payments_of(db, "summer_voucher_claim", claim.id)[0].paid_on == date(
        2026, 11, 20
    )

    # The employer of the company sees the payment on the claim and on the application.
    client.cookies.clear()
    login(client, "employer-one")
    claim_page = client.get(claim_handling.employer_claim_path(claim.id), headers=EN)
    assert "paid on 20.11.2026" in claim_page.text
    sf.accept_terms(client, db)
    application_page = client.get(messages.employer_application_path(application.id), headers=EN)
    assert "paid on 21.11.2026" in application_page.text
    switch(client, "staff-payer2")

    # The item's page shows its history.
    history = client.get(f"{f.ADMIN}/items/{claim_item.id}", headers=EN)
    assert "Batch approved" in history.text
    assert "Paid" in history.text
    assert audit(db, "payment_item.read")


def test_a_pain002_report_marks_paid_and_failed_and_failed_become_payable(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    one = f.approved_claim(db, store)
    two = f.approved_claim(db, store, first_name="Eetu", last_name="Mäkinen")
    items = f.items_of(db)
    builder, approver = f.payer(db), f.payer(db, "staff-payer2")
    batch = service.create_batch(db, item_ids=[i.id or 0 for i in items], actor=builder)
    db.commit()
    service.approve(db, batch=batch, version=batch.version, actor=approver)
    service.export(db, batch=batch, actor=approver, payer=f.PAYER)
    db.commit()
    pain002 = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>R1</MsgId><CreDtTm>2026-11-25T10:00:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>{batch.message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts>
   <OrgnlPmtInfId>x</OrgnlPmtInfId>
   <TxInfAndSts><OrgnlEndToEndId>KS-{one.id}-1</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>
   <TxInfAndSts><OrgnlEndToEndId>KS-{two.id}-1</OrgnlEndToEndId><TxSts>RJCT</TxSts>
     <StsRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>Closed account</AddtlInf></StsRsnInf></TxInfAndSts>
   <TxInfAndSts><OrgnlEndToEndId>KS-0-1</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>
  </OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>""".encode()
    login(client, "staff-payer", staff=True)
    response = client.post(
        f"{f.API}/batches/{batch.id}/status-file",
        files={"file": ("pain002.xml", pain002, "application/xml")},
        headers={"X-CSRF-Token": f.token(client)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["paid"] == [f"KS-{one.id}-1"]
    assert body["failed"] == [f"KS-{two.id}-1"]
    assert body["unknown"] == ["KS-0-1"]
    assert body["batch"]["status"] == "closed"
    payable = client.get(f"{f.API}/items").json()
    assert [i["application_number"] for i in payable["items"]] == [f"KS-{two.id}"]
    detail = client.get(f"{f.API}/batches/{batch.id}").json()
    failed = next(line for line in detail["lines"] if line["outcome"] == "failed")
    assert failed["failure_reason"] == "RJCT AC04 Closed account"
    assert detail["total_cents"] == sum(line["item"]["amount_cents"] for line in detail["lines"])


def test_api_batch_life_and_conflicts(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.approved_claim(db, store)
    f.approved_claim(db, store, first_name="Eetu", last_name="Mäkinen")
    login(client, "staff-payer", staff=True)
    headers = {"X-CSRF-Token": f.token(client)}
    payable = client.get(f"{f.API}/items").json()
    ids = [i["id"] for i in payable["items"]]
    created = client.post(f"{f.API}/batches", json={"item_ids": ids[:1]}, headers=headers)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (batch["item_count"], batch["status"]) == (1, "draft")
    added = client.post(
        f"{f.API}/batches/{batch['id']}/items", json={"item_ids": ids[1:]}, headers=headers
    )
    assert added.json()["item_count"] == 2
    # The same item into another batch: refused.
    other = client.post(f"{f.API}/batches", json={"item_ids": ids[:1]}, headers=headers)
    assert other.status_code == 409
    assert other.json()["detail"]["code"] == "payment_not_payable"
    removed = client.delete(f"{f.API}/batches/{batch['id']}/items/{ids[1]}", headers=headers)
    assert removed.json()["item_count"] == 1
    assert removed.json()["total_cents"] == removed.json()["lines"][0]["item"]["amount_cents"]
    own = client.post(
        f"{f.API}/batches/{batch['id']}/approve",
        json={"version": removed.json()["version"]},
        headers=headers,
    )
    assert own.status_code == 403
    assert client.get(f"{f.API}/batches/{batch['id']}/bank-file").status_code == 409
    deleted = client.delete(f"{f.API}/batches/{batch['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get(f"{f.API}/items").json()["count"] == 2
    bad = client.post(f"{f.API}/batches", json={"item_ids": []}, headers=headers)
    assert bad.status_code == 422


def test_bad_input_gets_messages_and_the_page_back(
    client: TestClient, db: Session, store: FileStore, open_year: YearConfiguration
) -> None:
    f.approved_claim(db, store)
    login(client, "staff-payer", staff=True)
    nothing = f.post(client, f"{f.ADMIN}/batches", {})
    assert nothing.status_code == 400
    assert (
        "Choose at least one payment." in client.get(f"{f.ADMIN}/payable", headers=EN).text
        or "Valitse" in nothing.text
    )
    bad_date = client.get(f"{f.ADMIN}/payable?due_until=31.13.2026", headers=EN)
    assert bad_date.status_code == 400
    assert "Enter a date" in bad_date.text
    (item,) = f.items_of(db)
    batch = service.create_batch(db, item_ids=[item.id or 0], actor=f.payer(db))
    db.commit()
    service.approve(db, batch=batch, version=batch.version, actor=f.payer(db, "staff-payer2"))
    service.export(db, batch=batch, actor=f.payer(db), payer=f.PAYER)
    db.commit()
    future = f.post(
        client, f"{f.ADMIN}/batches/{batch.id}/items/{item.id}/paid", {"paid_on": "2999-01-01"}
    )
    assert future.status_code == 400
    no_reason = f.post(client, f"{f.ADMIN}/batches/{batch.id}/items/{item.id}/failed", {})
    assert no_reason.status_code == 400
    garbage = client.post(
        f"{f.ADMIN}/batches/{batch.id}/status-file",
        data={"csrf_token": f.token(client)},
        files={"file": ("x.csv", b"123;maybe\n", "text/csv")},
        headers=EN,
    )
    assert garbage.status_code == 400
    assert "not a bank status report" in garbage.text
    assert f.items_of(db)[0].status == ItemStatus.open


def test_only_payers_reach_payments(client: TestClient) -> None:
    login(client, "staff-handler", staff=True)
    assert client.get(f.ADMIN).status_code == 403
    assert client.get(f"{f.API}/items").status_code == 403
