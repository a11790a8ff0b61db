"""The files of a payment batch (issue #7 §4–§5).

- The bank file: ISO 20022 pain.001.001.03 credit transfers made with sepaxml, one transaction
  per item (payee name, IBAN, BIC when known, amount in cents, the application number and any RF
  creditor reference as remittance information, the end-to-end id `<number>-<instalment>`),
  Finnish letters kept (sepaxml's `clean` would turn Ä into A). Validated against the XSD that
  sepaxml ships, with lxml (xmlschema, sepaxml's own validator, takes seconds for 10 000
  payments), before anything moves and before every download.
- The finance CSV the city's financial system reads: `;`-separated UTF-8 with BOM, one row per
  item, the columns in FINANCE_COLUMNS.
- The bank's status report back: pain.002 (any version; elements by local name), or a simple CSV
  of application numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import sepaxml
from lxml import etree
from sepaxml import SepaTransfer

from app.errors import ValidationFailed
from app.payments.models import Outcome, PaymentBatch, PaymentItem, Programme

SCHEMA = "pain.001.001.03"
HELSINKI = ZoneInfo("Europe/Helsinki")
PROGRAMME_NAMES = {Programme.helsinki_lisa: "Helsinki-lisä", Programme.summer_voucher: "Kesäseteli"}

# The finance CSV's columns, in order (documented in README "Payments").
FINANCE_COLUMNS = (
    "Hakemusnumero",
    "Maksuerä",
    "Ohjelma",
    "Y-tunnus",
    "Maksunsaaja",
    "Tilinumero (IBAN)",
    "BIC",
    "Summa (EUR)",
    "Päätöspäivä",
    "Eräpäivä",
    "Kustannuspaikka",
    "Viite",
    "Maksun tunniste",
    "Maksuaineisto",
)


@dataclass(frozen=True)
class PayerAccount:
    """The city's side of the bank file, from settings."""

    name: str
    iban: str
    bic: str | None
    cost_centre: str


class BankFileInvalid(ValidationFailed):
    code = "bank_file_invalid"


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    path = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def validate(xml: bytes) -> list[str]:
    """The XSD's complaints about `xml` (empty when valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    schema = _schema()
    if schema.validate(etree.fromstring(xml, parser)):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def end_to_end_id(item: PaymentItem) -> str:
    return f"{item.application_number}-{item.instalment}"


def remittance(item: PaymentItem) -> str:
    programme = PROGRAMME_NAMES.get(Programme(item.programme), item.programme)
    text = f"{programme} {item.application_number}"
    if item.instalments > 1:
        text += f" erä {item.instalment}/{item.instalments}"
    if item.creditor_reference:
        text += f" {item.creditor_reference}"
    return text[:140]


def bank_file(batch: PaymentBatch, items: Sequence[PaymentItem], payer: PayerAccount) -> bytes:
    """The pain.001 of an exported batch: the same bytes on every download (its message id,
    time and execution date are the batch's)."""
    if not items:
        raise BankFileInvalid([_problem("items", "bank_file_empty")])
    config = {
        "name": payer.name[:70],
        "IBAN": payer.iban.replace(" ", ""),
        "batch": True,
        "currency": "EUR",
    }
    if payer.bic:
        config["BIC"] = payer.bic
    transfer = SepaTransfer(config, schema=SCHEMA, clean=False)
    transfer.msg_id = batch.message_id
    execution = batch.execution_date or datetime.now(HELSINKI).date()
    for item in items:
        payment = {
            "name": item.payee_name[:70],
            "IBAN": item.iban.replace(" ", ""),
            "amount": int(item.amount_cents),
            "execution_date": execution,
            "description": remittance(item),
            "endtoend_id": end_to_end_id(item)[:35],
        }
        if item.bic:
            payment["BIC"] = item.bic
        transfer.add_payment(payment)
    created = (batch.exported_at or batch.approved_at or batch.created_at).astimezone(HELSINKI)
    xml: bytes = transfer.export(validate=False, pretty_print=False)
    xml = _fix_header(xml, batch.message_id, created)
    problems = validate(xml)
    if problems:
        raise BankFileInvalid(
            [_problem("bank_file", "bank_file_invalid", detail=p) for p in problems[:20]]
        )
    return xml


def _fix_header(xml: bytes, message_id: str, created: datetime) -> bytes:
    """sepaxml stamps its own message id, creation time and payment-information ids; ours make
    every download of a batch the same file."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(xml, parser)
    for element in root.iter():
        tag = etree.QName(element).localname
        parent = element.getparent()
        parent_tag = etree.QName(parent).localname if parent is not None else ""
        if tag == "MsgId":
            element.text = message_id
        elif tag == "CreDtTm":
            element.text = created.replace(microsecond=0, tzinfo=None).isoformat()
        elif tag == "PmtInfId" and parent_tag == "PmtInf":
            element.text = f"{message_id}-1"[:35]
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def _problem(field: str, kind: str, detail: str = "") -> dict[str, object]:
    return {
        "type": kind,
        "loc": (field,),
        "msg": detail or kind,
        "input": None,
        "ctx": {"detail": detail},
    }


def _money(amount_cents: int) -> str:
    sign = "-" if amount_cents < 0 else ""
    whole, fraction = divmod(abs(amount_cents), 100)
    return f"{sign}{whole},{fraction:02d}"


def finance_csv(batch: PaymentBatch, items: Sequence[PaymentItem], payer: PayerAccount) -> bytes:
    """One row per item for the city's financial system: `;`, UTF-8 with BOM, decimal comma."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(FINANCE_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.application_number,
                f"{item.instalment}/{item.instalments}",
                PROGRAMME_NAMES.get(Programme(item.programme), item.programme),
                item.business_id or "",
                item.payee_name,
                item.iban.replace(" ", ""),
                item.bic or "",
                _money(item.amount_cents),
                item.decision_date.isoformat(),
                item.due_date.isoformat(),
                payer.cost_centre,
                item.creditor_reference or "",
                end_to_end_id(item),
                batch.message_id,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- The bank's answer ------------------------------------------------------------------------------

PAID_STATUSES = frozenset({"ACSC", "ACCC", "ACCP", "ACSP", "ACWC"})
FAILED_STATUSES = frozenset({"RJCT", "CANC"})


@dataclass(frozen=True)
class StatusRow:
    key: str  # an end-to-end id (`<number>-<instalment>`) or an application number
    outcome: Outcome
    paid_on: date | None
    reason: str | None


class StatusFileInvalid(ValidationFailed):
    code = "status_file_invalid"


def parse_status_file(content: bytes, *, default_paid_on: date) -> list[StatusRow]:
    text = content.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise StatusFileInvalid([_problem("file", "status_file_empty")])
    if text.startswith(b"<"):
        return _parse_pain002(text, default_paid_on)
    return _parse_csv(text, default_paid_on)


def _local(element: etree._Element, name: str) -> etree._Element | None:
    for child in element.iter():
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return child
    return None


def _parse_pain002(content: bytes, default_paid_on: date) -> list[StatusRow]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise StatusFileInvalid([_problem("file", "status_file_invalid")]) from exc
    rows: list[StatusRow] = []
    for tx in root.iter():
        if not isinstance(tx.tag, str) or etree.QName(tx).localname != "TxInfAndSts":
            continue
        id_element = _local(tx, "OrgnlEndToEndId")
        status_element = _local(tx, "TxSts")
        if id_element is None or status_element is None or not id_element.text:
            continue
        status = (status_element.text or "").strip()
        key = id_element.text.strip()
        if status in PAID_STATUSES:
            date_element = _local(tx, "AccptncDtTm")
            paid_on = default_paid_on
            if date_element is not None and date_element.text:
                try:
                    paid_on = date.fromisoformat(date_element.text.strip()[:10])
                except ValueError:
                    paid_on = default_paid_on
            rows.append(StatusRow(key=key, outcome=Outcome.paid, paid_on=paid_on, reason=None))
        elif status in FAILED_STATUSES:
            code = _local(tx, "Cd")
            info = _local(tx, "AddtlInf")
            reason = " ".join(
                part
                for part in (
                    status,
                    code.text if code is not None and code.text else "",
                    info.text if info is not None and info.text else "",
                )
                if part
            )
            rows.append(
                StatusRow(key=key, outcome=Outcome.failed, paid_on=None, reason=reason[:512])
            )
    if not rows:
        raise StatusFileInvalid([_problem("file", "status_file_no_rows")])
    return rows


def _parse_csv(content: bytes, default_paid_on: date) -> list[StatusRow]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StatusFileInvalid([_problem("file", "status_file_invalid")]) from exc
    rows: list[StatusRow] = []
    dialect = ";" if ";" in text else ","
    for cells in csv.reader(io.StringIO(text), delimiter=dialect):
        cells = [cell.strip() for cell in cells]
        if not cells or not cells[0] or cells[0].lower() in ("hakemusnumero", "application number"):
            continue
        key = cells[0]
        state = cells[1].lower() if len(cells) > 1 and cells[1] else "paid"
        extra = cells[2] if len(cells) > 2 else ""
        if state in ("paid", "maksettu"):
            try:
                paid_on = date.fromisoformat(extra) if extra else default_paid_on
            except ValueError as exc:
                raise StatusFileInvalid([_problem("file", "status_file_invalid")]) from exc
            rows.append(StatusRow(key=key, outcome=Outcome.paid, paid_on=paid_on, reason=None))
        elif state in ("failed", "epäonnistui", "hylätty"):
            rows.append(
                StatusRow(
                    key=key, outcome=Outcome.failed, paid_on=None, reason=extra[:512] or state
                )
            )
        else:
            raise StatusFileInvalid([_problem("file", "status_file_invalid")])
    if not rows:
        raise StatusFileInvalid([_problem("file", "status_file_no_rows")])
    return rows
