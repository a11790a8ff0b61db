"""The Helsinki-lisä status table (helsinkilisa.md §2, H21–H22, H26, H47–H49).

One table keyed by (from, to) -> the roles that may make the move; the editable sets, the queue
tabs and the buttons a page shows are derived from it.
"""

from __future__ import annotations

from app.state_machine import TransitionTable
from app.subsidies.models import ApplicationStatus

S = ApplicationStatus

APPLICANT = "employer"
HANDLER = "handler"
DECIDER = "decider"
ADMIN = "admin"

HANDLING = frozenset({HANDLER, DECIDER, ADMIN})
DECIDING = frozenset({DECIDER, ADMIN})

TRANSITIONS: TransitionTable[ApplicationStatus] = TransitionTable(
    {
        # The employer submits a draft; staff "submit" a paper application they entered (H31).
        (S.draft, S.received): frozenset({APPLICANT, HANDLER, ADMIN}),
        # Taking into handling assigns the handler (H29).
        (S.received, S.handling): HANDLING,
        (S.handling, S.additional_information_needed): HANDLING,
        # The applicant's resubmission, or staff locking it again (H26).
        (S.additional_information_needed, S.handling): frozenset({APPLICANT, *HANDLING}),
        # The decision (issue #5 §8): only a decider.
        (S.handling, S.accepted): DECIDING,
        (S.handling, S.rejected): DECIDING,
        # Return to handling (H49).
        (S.accepted, S.handling): DECIDING,
        (S.rejected, S.handling): DECIDING,
        # Cancel with a reason (H48); cancelled is terminal.
        (S.received, S.cancelled): HANDLING,
        (S.handling, S.cancelled): HANDLING,
        (S.additional_information_needed, S.cancelled): HANDLING,
    }
)

# The applicant changes fields only in these (H22); staff while it is being handled.
APPLICANT_EDITABLE = frozenset({S.draft, S.additional_information_needed})
STAFF_EDITABLE = frozenset({S.received, S.handling, S.additional_information_needed})
DECIDED = frozenset({S.accepted, S.rejected})
# Statuses in which staff see the application at all (employers' drafts are theirs alone).
STAFF_VISIBLE = frozenset(TRANSITIONS.statuses - {S.draft})
