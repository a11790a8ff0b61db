"""The application's status as the applicant sees it, and the applicant's timeline (issue #5 §3,
an improvement on the city's service, whose timeline is staff-only).

Made from the status history (StatusEvent): each status with its date, who acts next and what
the applicant must do. Honest but not internal: "received" is "waiting for handling"; a
decision is shown only once it is the application's current status (a decision returned to
handling was never final, so neither it nor the return is shown); staff comments never are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from app.i18n import N_
from app.subsidies.models import Application, ApplicationStatus, StatusEvent
from app.subsidies.transitions import DECIDED

S = ApplicationStatus

APPLICANT = "applicant"
CITY = "city"

# The status in the applicant's words.
STATUS_NAMES: dict[str, str] = {
    S.draft: N_("Draft"),
    S.received: N_("Waiting for handling"),
    S.handling: N_("In handling"),
    S.additional_information_needed: N_("More information needed"),
    S.accepted: N_("Accepted"),
    S.rejected: N_("Rejected"),
    S.cancelled: N_("Cancelled"),
}
# Who acts next in each status, and what the applicant must do (None: nothing).
NEXT_ACTOR: dict[str, str | None] = {
    S.draft: APPLICANT,
    S.received: CITY,
    S.handling: CITY,
    S.additional_information_needed: APPLICANT,
    S.accepted: CITY,
    S.rejected: None,
    S.cancelled: None,
}
NEXT_ACTOR_NAMES: dict[str | None, str] = {
    APPLICANT: N_("You"),
    CITY: N_("The City of Helsinki"),
    None: N_("Nobody: the application is closed"),
}
WHAT_NEXT: dict[str, str] = {
    S.draft: N_("Fill in every part of the application and send it."),
    S.received: N_(
        "Nothing for now. A handler takes the application into handling; you will hear from "
        "us through the messages of this application."
    ),
    S.handling: N_(
        "Nothing for now. The handler checks the application and calculates the benefit. Answer "
        "if the handler sends you a message."
    ),
    S.additional_information_needed: N_(
        "Add the information the handler asked for and send the application again."
    ),
    S.accepted: N_(
        "Nothing. The City pays the benefit to the bank account given in the application."
    ),
    S.rejected: N_(
        "Nothing. The reason is in the decision. You may send a new application if the "
        "situation changes."
    ),
    S.cancelled: N_("Nothing. The application was cancelled and will not be handled."),
}
EVENT_TITLES: dict[str, str] = {
    "created": N_("Draft created"),
    "sent": N_("Application sent: waiting for handling"),
    "handling": N_("Taken into handling"),
    "information_requested": N_("The handler asked for more information"),
    "resent": N_("Sent again with more information: in handling"),
    "locked": N_("Back in handling"),
    "accepted": N_("Decision: accepted"),
    "rejected": N_("Decision: rejected"),
    "cancelled": N_("Application cancelled"),
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    event: str  # a key of EVENT_TITLES
    status: str  # the application's status after the event
    next_actor: str | None  # applicant | city | None
    current: bool  # the latest entry: where the application is now


def deadline(application: Application) -> date | None:
    """The date by which the applicant should answer, while more information is needed."""
    if application.status == S.additional_information_needed:
        return application.information_deadline
    return None


def _event_of(row: StatusEvent) -> str:
    if row.to_status == S.received:
        return "sent"
    if row.to_status == S.handling:
        if row.from_status == S.additional_information_needed:
            return "locked" if row.actor_is_staff else "resent"
        return "handling"
    if row.to_status == S.additional_information_needed:
        return "information_requested"
    return str(row.to_status)


def applicant_timeline(session: Session, *, application: Application) -> list[Entry]:
    """Oldest first; the last entry is the current state."""
    rows = list(
        session.exec(
            select(StatusEvent)
            .where(StatusEvent.application_id == application.id)
            .order_by(col(StatusEvent.created_at), col(StatusEvent.id))
        ).all()
    )
    visible: list[StatusEvent] = []
    for index, row in enumerate(rows):
        is_last = index == len(rows) - 1
        if row.to_status in DECIDED and not (is_last and application.status in DECIDED):
            continue  # a decision returned to handling was not final
        if row.from_status in DECIDED:
            continue  # ... nor is the return to handling news to the applicant
        visible.append(row)
    entries = [
        Entry(
            at=application.created_at,
            event="created",
            status=S.draft,
            next_actor=APPLICANT,
            current=not visible,
        )
    ]
    for index, row in enumerate(visible):
        entries.append(
            Entry(
                at=row.created_at,
                event=_event_of(row),
                status=row.to_status,
                next_actor=NEXT_ACTOR.get(row.to_status),
                current=index == len(visible) - 1,
            )
        )
    return entries
