"""The employer's home (/employer): one dashboard for the chosen organisation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth.dependencies import EmployerAuth, require_employer
from app.companies import service as companies
from app.deps import SessionDep
from app.i18n import gettext
from app.subsidies import service as subsidies
from app.subsidies import terms as subsidy_terms
from app.subsidies import timeline as subsidy_timeline
from app.templating import render
from app.tet import service as tet

router = APIRouter(dependencies=[Depends(require_employer)], include_in_schema=False)


@router.get("/employer", name="employer_home")
def employer_home(request: Request, auth: EmployerAuth, db: SessionDep) -> Response:
    """Applications, claims and postings of the organisation, and its register details.
    Every representative of the same business id sees the same page."""
    # require_employer guarantees a chosen organisation.
    company = companies.get_company(db, business_id=auth.session.business_id or "")
    context: dict[str, Any] = {"company": company, "subsidies": None}
    # TET: how many of the organisation's postings are published and how many are drafts.
    postings = tet.owner_list(db, owner=tet.owner_of(auth.session), today=tet.today())
    context["tet"] = {"published": len(postings.published), "drafts": len(postings.drafts)}
    if company is not None and subsidy_terms.has_accepted_terms_of_service(db, actor=auth.actor):
        # Helsinki-lisä: drafts to continue, questions to answer by their deadline, sent ones.
        applications = subsidies.company_applications(db, actor=auth.actor)
        db.commit()  # the audit row of the read
        context["subsidies"] = subsidies.grouped(applications)
        context["subsidy_status_names"] = {
            k: gettext(v) for k, v in subsidy_timeline.STATUS_NAMES.items()
        }
        context["employee_name"] = subsidies.employee_name
    return render(request, "employer/home.html", context)
