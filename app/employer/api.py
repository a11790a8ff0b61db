"""JSON API of the employer's home."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.dependencies import EmployerAuth
from app.companies import service as companies
from app.deps import SessionDep
from app.errors import NotFound

router = APIRouter(prefix="/api/v1/employer", tags=["employer"])


class OrganisationOut(BaseModel):
    business_id: str
    name: str
    company_form: str | None
    industry: str | None
    street_address: str | None
    postcode: str | None
    city: str | None
    is_association: bool


@router.get("/organisation", response_model=OrganisationOut)
def current_organisation(auth: EmployerAuth, db: SessionDep) -> OrganisationOut:
    """The organisation the logged-in employer acts for, with its trade-register details."""
    company = companies.get_company(db, business_id=auth.session.business_id or "")
    if company is None:
        raise NotFound()
    return OrganisationOut.model_validate(company, from_attributes=True)
