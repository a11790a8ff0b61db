"""The employer's home (/employer): one dashboard for the chosen organisation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth.dependencies import EmployerAuth, require_employer
from app.companies import service as companies
from app.deps import SessionDep
from app.templating import render

router = APIRouter(dependencies=[Depends(require_employer)], include_in_schema=False)


@router.get("/employer", name="employer_home")
def employer_home(request: Request, auth: EmployerAuth, db: SessionDep) -> Response:
    """Applications, claims and postings of the organisation, and its register details.
    Every representative of the same business id sees the same page."""
    # require_employer guarantees a chosen organisation.
    company = companies.get_company(db, business_id=auth.session.business_id or "")
    return render(request, "employer/home.html", {"company": company})
