"""Kesäseteli's refusals: each says what the youth can do next."""

from __future__ import annotations

from app.errors import AppError, ServiceUnavailable
from app.i18n import N_


class ApplicationNotOpen(AppError):
    status_code = 409
    code = "not_open"
    message = N_("Applications for summer job vouchers are not open right now.")


class AlreadyAssigned(AppError):
    status_code = 409
    code = "already_assigned"
    message = N_(
        "You have already sent an application this year. Check your e-mail for the voucher or the activation link."
    )


class EmailInUse(AppError):
    status_code = 409
    code = "email_in_use"
    message = N_(
        "An application with this e-mail address is already waiting for activation. Open the link in your e-mail, or wait 12 hours and try again."
    )


class InadmissibleData(AppError):
    status_code = 422
    code = "inadmissible_data"
    message = N_(
        "Unfortunately it is not possible to get a summer job voucher with this information."
    )


class PleaseRecheck(AppError):
    status_code = 422
    code = "please_recheck_data"
    message = N_(
        "Some information does not match the population register. Check that your name and personal identity code are written as on your Kela card."
    )


class SendAnywayNeedless(AppError):
    status_code = 422
    code = "send_anyway_needless"
    message = N_("Your information matches the population register: send the application normally.")


class RegisterDown(ServiceUnavailable):
    code = "register_unavailable"
    message = N_(
        "The population register is temporarily unavailable, so nothing was saved. Try again in a moment."
    )
