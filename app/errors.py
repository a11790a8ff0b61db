"""The AppError family: services raise these; one handler answers JSON under /api, a page elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.i18n import N_


class AppError(Exception):
    """A failure with an HTTP status and a user-facing message id (translated when shown)."""

    status_code = 500
    code = "error"
    message = N_("Something went wrong.")

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class AppRedirect(AppError):
    """Pages answer with a 303 to `location`; the API with this status and code."""

    status_code = 409
    location = "/"


class LoginRequired(AppRedirect):
    """Pages send the user to log in and back; the API answers 401."""

    status_code = 401
    code = "login_required"
    message = N_("Log in to continue.")
    location = "/login"


class StaffLoginRequired(LoginRequired):
    location = "/admin/login"


class OrganisationNotChosen(AppRedirect):
    code = "organisation_not_chosen"
    message = N_("Choose the organisation you act for.")
    location = "/employer/organisations"


class PermissionDenied(AppError):
    status_code = 403
    code = "forbidden"
    message = N_("You do not have permission to do this.")


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    message = N_(
        "The form had expired or did not come from this service. Open the page again and retry."
    )


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = N_("The page was not found.")


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = N_("Someone else changed this at the same time. Open the page again and retry.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = N_("This action is not possible in the current state.")


class ValidationFailed(AppError):
    """Field errors in Pydantic's error shape, so the API answers like request validation."""

    status_code = 422
    code = "validation_failed"
    message = N_("Check the information you entered.")

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__()
        self.errors = list(errors)


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"
    message = N_("The service is temporarily unavailable. Try again in a moment.")
