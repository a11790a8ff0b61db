"""Building blocks for claim tests: an accepted youth with a voucher, employer and staff actors,
small real files, and a claim filled in and sent through the service (not by hand)."""

from __future__ import annotations

import io
import secrets
from datetime import date
from decimal import Decimal

from PIL import Image
from sqlmodel import Session, select

from app.auth.models import User
from app.companies.models import Company
from app.crypto import blind_index
from app.db import utcnow
from app.documents.storage import FileStore
from app.documents.uploads import check_upload
from app.security import Actor
from app.summer_voucher import claims, service
from app.summer_voucher.models import (
    AttachmentKind,
    Claim,
    TargetGroup,
    Voucher,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.schemas import ClaimDraftIn, ClaimLookupIn, ClaimSubmitIn
from app.summer_voucher.serials import format_serial, new_serial_number

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def this_year() -> int:
    return utcnow().astimezone(service.HELSINKI).year


def accepted_youth(
    db: Session,
    *,
    first_name: str = "Aino",
    last_name: str = "Virtanen",
    status: YouthStatus = YouthStatus.accepted,
    year: int | None = None,
) -> tuple[YouthApplication, Voucher | None]:
    """A youth application (accepted by default) and its voucher, as handling leaves them."""
    email = f"{secrets.token_hex(4)}@example.com"
    youth = YouthApplication(
        year=year or this_year(),
        first_name=first_name,
        last_name=last_name,
        hetu=None,
        email=email,
        email_index=blind_index(email, purpose="email"),
        phone="+358401234567",
        postcode="00100",
        school="Kalliolan yläkoulu",
        target_group=TargetGroup.primary,
        non_vtj_birthdate=date((year or this_year()) - 16, 5, 4),
        status=status,
        activated_at=utcnow(),
    )
    db.add(youth)
    db.flush()
    voucher = None
    if status == YouthStatus.accepted:
        voucher = Voucher(youth_application_id=youth.id or 0, serial_number=new_serial_number())
        db.add(voucher)
        db.flush()
    return youth, voucher


def serial(voucher: Voucher | None) -> str:
    assert voucher is not None
    return format_serial(voucher.serial_number)


def user(db: Session, *, kind: str, subject: str, name: str = "Testi Käyttäjä") -> User:
    found = db.exec(select(User).where(User.kind == kind, User.subject == subject)).first()
    if found:
        return found
    row = User(kind=kind, issuer="http://test-issuer", subject=subject, name=name)
    db.add(row)
    db.flush()
    return row


def company(
    db: Session, business_id: str = "2956285-9", name: str = "Kahvila Esimerkki Oy"
) -> Company:
    found = db.exec(select(Company).where(Company.business_id == business_id)).first()
    if found:
        return found
    row = Company(
        business_id=business_id,
        name=name,
        street_address="Mannerheimintie 1",
        postcode="00100",
        city="Helsinki",
    )
    db.add(row)
    db.flush()
    return row


def employer(
    db: Session, *, subject: str = "claim-employer", business_id: str = "2956285-9"
) -> Actor:
    company(db, business_id)
    person = user(db, kind="employer", subject=subject, name="Essi Esimerkki")
    return Actor(kind="employer", user_id=str(person.id), provider="test", business_id=business_id)


def staff(
    db: Session, *, subject: str = "claim-handler", roles: frozenset[str] = frozenset({"handler"})
) -> Actor:
    person = user(db, kind="staff", subject=subject, name="Kaisa Käsittelijä")
    return Actor(kind="staff", user_id=str(person.id), provider="test", roles=roles)


def complete_fields(year: int | None = None, **changes: object) -> ClaimDraftIn:
    year = year or this_year()
    values: dict[str, object] = {
        "employee_phone": "040 123 4567",
        "employment_postcode": "00100",
        "employment_start": date(year, 6, 3),
        "employment_end": date(year, 7, 26),
        "work_hours": Decimal("80"),
        "salary_paid": Decimal("920.50"),
        "job_description": "Kahvilan asiakaspalvelu",
        "hired_without_voucher": "no",
        "contact_name": "Essi Esimerkki",
        "contact_email": "essi@example.com",
        "contact_phone": "040 765 4321",
        "street_address": "Mannerheimintie 1, 00100 Helsinki",
        "iban": "FI21 1234 5600 0007 85",
    }
    values.update(changes)
    return ClaimDraftIn.model_validate(values)


def filled_claim(
    db: Session,
    store: FileStore,
    *,
    actor: Actor | None = None,
    voucher: Voucher | None = None,
    youth: YouthApplication | None = None,
) -> Claim:
    """A draft with the youth found, every field filled and one file of each kind."""
    actor = actor or employer(db)
    if voucher is None or youth is None:
        youth, voucher = accepted_youth(db)
    claim = claims.open_draft(db, actor=actor, language="fi")
    claims.lookup(
        db,
        claim=claim,
        data=ClaimLookupIn(
            employee_name=f"{youth.first_name} {youth.last_name}", serial=serial(voucher)
        ),
        actor=actor,
    )
    claims.save_draft(db, claim=claim, data=complete_fields(youth.year), actor=actor)
    for kind, data, name in (
        (AttachmentKind.employment_contract, PDF, "sopimus.pdf"),
        (AttachmentKind.payslip, png_bytes(), "palkka.png"),
    ):
        claims.add_attachment(
            db, claim=claim, kind=kind, upload=check_upload(data, name), store=store, actor=actor
        )
    return claim


def submitted_claim(db: Session, store: FileStore, **kwargs: object) -> Claim:
    actor = kwargs.get("actor") or employer(db)
    claim = filled_claim(db, store, **{**kwargs, "actor": actor})  # type: ignore[arg-type]
    claims.submit(db, claim=claim, data=ClaimSubmitIn(terms_accepted=True), actor=actor)  # type: ignore[arg-type]
    return claim
