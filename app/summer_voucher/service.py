"""Kesäseteli use cases. Session first, keyword arguments; never commits."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, i18n, rules
from app.crypto import blind_index
from app.db import utcnow
from app.errors import Conflict
from app.notifications.service import Attachment, queue_email, render_email
from app.security import ANONYMOUS, SYSTEM, Actor
from app.summer_voucher import serials
from app.summer_voucher import timeline as timeline_events
from app.summer_voucher.errors import (
    AlreadyAssigned,
    EmailInUse,
    InadmissibleData,
    PleaseRecheck,
    RegisterDown,
    SendAnywayNeedless,
)
from app.summer_voucher.models import (
    TARGET_GROUP_AGE,
    School,
    TargetGroup,
    Voucher,
    YearConfiguration,
    YouthApplication,
    YouthStatus,
)
from app.summer_voucher.pdf import voucher_pdf
from app.summer_voucher.population import (
    Person,
    PopulationRegister,
    RegisterUnavailable,
    age_in_year,
    is_helsinki_resident,
    last_name_matches,
)
from app.summer_voucher.schemas import (
    AdditionalInfoIn,
    SchoolImportIn,
    YearConfigurationIn,
    YouthApplicationIn,
)
from app.templating import format_day, format_euros

HELSINKI = ZoneInfo("Europe/Helsinki")
SERIAL_ATTEMPTS = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def configuration_for(session: Session, *, year: int) -> YearConfiguration | None:
    return session.exec(select(YearConfiguration).where(YearConfiguration.year == year)).first()


def open_configuration(session: Session, *, today: date) -> YearConfiguration | None:
    """The configuration whose application period includes today, or None: the form is closed."""
    config = configuration_for(session, year=today.year)
    if config is None or not (config.opens_on <= today <= config.closes_on):
        return None
    return config


def configurations(session: Session) -> list[YearConfiguration]:
    return list(
        session.exec(select(YearConfiguration).order_by(col(YearConfiguration.year).desc())).all()
    )


def save_configuration(
    session: Session, *, data: YearConfigurationIn, actor: Actor
) -> YearConfiguration:
    """Create or update the configuration of `data.year`."""
    config = configuration_for(session, year=data.year)
    values = data.model_dump()
    values["target_groups"] = [str(g) for g in data.target_groups]
    if config is None:
        config = YearConfiguration(**values)
        action = "summer_voucher.configuration.create"
    else:
        for key, value in values.items():
            setattr(config, key, value)
        action = "summer_voucher.configuration.update"
    session.add(config)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="summer_voucher_year",
        target_id=config.year,
        fields=list(values),
    )
    return config


def schools(session: Session) -> list[School]:
    """The school list in Finnish alphabetical order (å, ä, ö after z)."""
    rows = list(session.exec(select(School)).all())
    return sorted(rows, key=lambda s: finnish_sort_key(s.name))


def finnish_sort_key(text: str) -> tuple[int, ...]:
    alphabet = "abcdefghijklmnopqrstuvwxyzåäö"
    return tuple(alphabet.index(ch) if ch in alphabet else 100 + ord(ch) for ch in text.casefold())


def import_schools(session: Session, *, data: SchoolImportIn, actor: Actor) -> int:
    """Add the names not yet on the list; return how many were added."""
    existing = set(session.exec(select(School.name)).all())
    added = 0
    for name in data.lines():
        if name not in existing:
            session.add(School(name=name))
            existing.add(name)
            added += 1
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher.schools.import",
        target_type="summer_voucher_school",
        detail=f"added={added}",
    )
    return added


def delete_school(session: Session, *, school_id: int, actor: Actor) -> bool:
    """Remove a school from the list; applications keep the name they were sent with."""
    school = session.get(School, school_id)
    if school is None:
        return False
    session.delete(school)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="summer_voucher.schools.delete",
        target_type="summer_voucher_school",
        target_id=school_id,
    )
    return True


def default_configuration(*, year: int) -> dict[str, object]:
    """Form values for a new year: the amounts in force on 1 June of that year (rules files),
    the default target groups, and the application period of the city's current practice."""
    on = date(year, 6, 1)
    return {
        "year": year,
        "voucher_value": f"{rules.value('summer_voucher.voucher_value', on)}",
        "min_work_hours": rules.value("summer_voucher.min_work_hours", on),
        "min_work_compensation": f"{rules.value('summer_voucher.min_work_compensation', on)}",
        "target_groups": [TargetGroup.primary.value, TargetGroup.secondary.value],
        "opens_on": date(year, 1, 1).isoformat(),
        "closes_on": date(year, 8, 15).isoformat(),
    }


# --- Youth applications ----------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    application: YouthApplication
    activation_token: str  # goes only into the e-mail; the database keeps its hash


def _year_of(moment: datetime) -> int:
    return moment.astimezone(HELSINKI).year


def _live(session: Session, *, year: int, column: Any, value: str) -> list[YouthApplication]:
    return list(
        session.exec(
            select(YouthApplication).where(
                YouthApplication.year == year,
                column == value,
                col(YouthApplication.status).not_in([YouthStatus.rejected, YouthStatus.expired]),
            )
        ).all()
    )


def _expire_stale(
    session: Session, *, rows: list[YouthApplication], now: datetime, validity: timedelta
) -> list[YouthApplication]:
    """Never-activated applications whose link has expired stop blocking a new one (K8)."""
    still_live = []
    for row in rows:
        if (
            row.activated_at is None
            and row.status == YouthStatus.submitted
            and now - row.created_at > validity
        ):
            row.status = YouthStatus.expired
            row.activation_token_hash = None
            session.add(row)
        else:
            still_live.append(row)
    session.flush()
    return still_live


def activation_validity(now: datetime) -> timedelta:
    """How long an activation link is valid (the rules in force)."""
    return timedelta(
        hours=int(rules.value("summer_voucher.activation_link_validity_hours", now.date()))
    )


def register_check(
    person: Person | None, data: YouthApplicationIn, config: YearConfiguration, year: int
) -> bool:
    """Whether the application needs a handler (K18): else activation accepts it automatically."""
    if person is None or not person.is_alive or person.non_disclosure:
        return True
    if not last_name_matches(data.last_name, person):
        return True
    if data.target_group.value not in config.target_groups:
        return True
    return not (
        is_helsinki_resident(person)
        and age_in_year(person, year) == TARGET_GROUP_AGE[data.target_group]
    )


def apply(
    session: Session,
    *,
    data: YouthApplicationIn,
    config: YearConfiguration,
    register: PopulationRegister,
    language: str,
    now: datetime,
) -> Submitted:
    """Store a youth's application and queue the activation e-mail, or refuse with the reason.

    Nothing is stored when the register cannot confirm the person (unless "send anyway" was
    used for a name mismatch) or when the register cannot be reached.
    """
    year = _year_of(now)
    validity = activation_validity(now)
    hetu_index = blind_index(data.hetu, purpose="hetu")
    email_index = blind_index(data.email, purpose="email")
    for column, value, refusal in (
        (YouthApplication.hetu_index, hetu_index, AlreadyAssigned),
        (YouthApplication.email_index, email_index, EmailInUse),
    ):
        live = _expire_stale(
            session,
            rows=_live(session, year=year, column=column, value=value),
            now=now,
            validity=validity,
        )
        if live:
            raise AlreadyAssigned() if any(r.activated_at for r in live) else refusal()
    try:
        person = register.find(data.hetu)
    except RegisterUnavailable as exc:
        raise RegisterDown() from exc
    if not data.send_anyway:
        if person is None or not person.is_alive:
            raise InadmissibleData()
        if not last_name_matches(data.last_name, person):
            raise PleaseRecheck()
    needs_info = register_check(person, data, config, year)
    if data.send_anyway and not needs_info:
        raise SendAnywayNeedless()
    token = secrets.token_urlsafe(32)
    application = YouthApplication(
        year=year,
        language=language,
        first_name=data.first_name,
        last_name=data.last_name,
        hetu=data.hetu,
        hetu_index=hetu_index,
        email=data.email,
        email_index=email_index,
        phone=data.phone,
        postcode=data.postcode,
        school=data.school_name,
        is_unlisted_school=data.is_unlisted_school,
        target_group=data.target_group.value,
        activation_token_hash=token_hash(token),
        needs_additional_info=needs_info,
        register_snapshot=json.dumps(person.snapshot()) if person else None,
        register_restricted=bool(person and person.non_disclosure),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(application)
    except IntegrityError as exc:
        # A parallel submission of the same person or e-mail won the race.
        raise AlreadyAssigned() from exc
    audit.record(
        session,
        actor=ANONYMOUS,
        action="youth_application.create",
        target_type="youth_application",
        target_id=application.id,
        fields=["first_name", "last_name", "hetu", "email", "phone", "postcode", "school"],
    )
    return Submitted(application=application, activation_token=token)


class ActivationOutcome(StrEnum):
    accepted = "accepted"  # voucher on its way
    additional_info = "additional_info"  # the youth tells more; a handler decides
    already = "already"  # activated before (or another application of the person is)
    expired = "expired"
    invalid = "invalid"


@dataclass(frozen=True)
class Activation:
    outcome: ActivationOutcome
    application: YouthApplication | None = None


def find_by_token(session: Session, *, token: str) -> YouthApplication | None:
    return session.exec(
        select(YouthApplication).where(YouthApplication.activation_token_hash == token_hash(token))
    ).first()


def activate(
    session: Session,
    *,
    token: str,
    now: datetime,
    config: YearConfiguration | None,
    handler_email: str | None,
) -> Activation:
    """The youth opened the link in the e-mail: confirm the address, then accept automatically
    when the register check passed, else ask for more information (K14-K18)."""
    application = find_by_token(session, token=token)
    if application is None:
        return Activation(ActivationOutcome.invalid)
    if application.status == YouthStatus.additional_information_requested:
        return Activation(ActivationOutcome.additional_info, application)
    if application.activated_at is not None or application.status != YouthStatus.submitted:
        return Activation(ActivationOutcome.already, application)
    validity = activation_validity(now)
    if now - application.created_at > validity:
        application.status = YouthStatus.expired
        application.activation_token_hash = None
        session.add(application)
        session.flush()
        return Activation(ActivationOutcome.expired, application)
    application.activated_at = now
    audit.record(
        session,
        actor=ANONYMOUS,
        action="youth_application.activate",
        target_type="youth_application",
        target_id=application.id,
    )
    if application.needs_additional_info or config is None:
        application.status = YouthStatus.additional_information_requested
        session.add(application)
        session.flush()
        timeline_events.add_status_event(
            session,
            youth_application_id=application.id,
            old=YouthStatus.submitted,
            new=YouthStatus.additional_information_requested,
            actor=ANONYMOUS,
        )
        return Activation(ActivationOutcome.additional_info, application)
    accept(session, application=application, actor=SYSTEM, now=now, handler_email=handler_email)
    timeline_events.add_status_event(
        session,
        youth_application_id=application.id,
        old=YouthStatus.submitted,
        new=YouthStatus.accepted,
        actor=SYSTEM,
    )
    return Activation(ActivationOutcome.accepted, application)


def accept(
    session: Session,
    *,
    application: YouthApplication,
    actor: Actor,
    now: datetime,
    handler_email: str | None,
) -> Voucher:
    """Accept the application: exactly one voucher with a new random serial, e-mailed to the youth."""
    if session.exec(select(Voucher).where(Voucher.youth_application_id == application.id)).first():
        raise Conflict()
    application.status = YouthStatus.accepted
    application.handled_at = now
    if actor.kind == "staff" and actor.user_id:
        application.handler_id = int(actor.user_id)
    session.add(application)
    session.flush()
    assert application.id is not None  # noqa: S101 - flushed just above
    for _attempt in range(SERIAL_ATTEMPTS):
        voucher = Voucher(
            youth_application_id=application.id,
            serial_number=serials.new_serial_number(),
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(voucher)
            break
        except IntegrityError:
            continue  # the serial was taken (1 in 10^15); draw another
    else:
        raise Conflict()
    audit.record(
        session,
        actor=actor,
        action="youth_application.accept",
        target_type="youth_application",
        target_id=application.id,
        fields=["status"],
    )
    queue_voucher_email(
        session, application=application, voucher=voucher, handler_email=handler_email
    )
    return voucher


def _month_day(parameter: str, year: int) -> date:
    month, day = str(rules.value(parameter, date(year, 1, 1))).split("-")
    return date(year, int(month), int(day))


def voucher_terms(session: Session, *, year: int) -> dict[str, Any]:
    """The year's voucher value, minimums, work period and claim deadline, for e-mails and PDFs."""
    config = configuration_for(session, year=year)
    on = date(year, 6, 1)
    return {
        "year": year,
        "value": config.voucher_value
        if config
        else rules.value("summer_voucher.voucher_value", on),
        "min_hours": config.min_work_hours
        if config
        else rules.value("summer_voucher.min_work_hours", on),
        "min_pay": config.min_work_compensation
        if config
        else rules.value("summer_voucher.min_work_compensation", on),
        "work_start": _month_day("summer_voucher.work_period_start", year),
        "work_end": _month_day("summer_voucher.work_period_end", year),
        "deadline": _month_day("summer_voucher.claim_deadline", year),
    }


def queue_activation_email(session: Session, *, application: YouthApplication, link: str) -> None:
    hours = rules.value(
        "summer_voucher.activation_link_validity_hours", application.created_at.date()
    )
    subject, text, html = render_email(
        "summer_voucher_activation",
        {
            "first_name": application.first_name,
            "link": link,
            "hours": hours,
            "lang": application.language,
        },
        language=application.language,
        session=session,
    )
    queue_email(
        session,
        to=application.email,
        subject=subject,
        body_text=text,
        body_html=html,
        kind="summer_voucher.activation",
        language=application.language,
    )


def queue_voucher_email(
    session: Session, *, application: YouthApplication, voucher: Voucher, handler_email: str | None
) -> None:
    """The voucher to the youth in their language, the PDF attached, a copy to the handler mailbox."""
    terms = voucher_terms(session, year=application.year)
    with i18n.language(application.language):
        shown = {
            **terms,
            "name": f"{application.first_name} {application.last_name}",
            "serial": serials.format_serial(voucher.serial_number),
            "value": format_euros(terms["value"]),
            "min_pay": format_euros(terms["min_pay"]),
            "work_start": format_day(terms["work_start"]),
            "work_end": format_day(terms["work_end"]),
            "deadline": format_day(terms["deadline"]),
            "lang": application.language,
        }
    subject, text, html = render_email(
        "summer_voucher_voucher", shown, language=application.language, session=session
    )
    pdf = voucher_pdf(shown, language=application.language)
    queue_email(
        session,
        to=application.email,
        bcc=handler_email,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=[
            Attachment(
                filename=f"kesaseteli-{shown['serial']}.pdf",
                content_type="application/pdf",
                content=pdf,
            )
        ],
        kind="summer_voucher.voucher",
        language=application.language,
    )
    voucher.sent_at = utcnow()
    session.add(voucher)
    session.flush()


def provide_additional_info(
    session: Session,
    *,
    token: str,
    data: AdditionalInfoIn,
    now: datetime,
    handler_email: str | None,
    link_for: Callable[[int], str],
) -> YouthApplication | None:
    """The youth's reasons and description, once; the handlers' mailbox is told (K19).
    Returns None when the link does not lead to an application waiting for this information."""
    application = find_by_token(session, token=token)
    if application is None or application.status != YouthStatus.additional_information_requested:
        return None
    application.additional_info_reasons = [r.value for r in data.reasons]
    application.additional_info_description = data.description
    application.additional_info_provided_at = now
    application.status = YouthStatus.additional_information_provided
    session.add(application)
    session.flush()
    timeline_events.add_status_event(
        session,
        youth_application_id=application.id,
        old=YouthStatus.additional_information_requested,
        new=YouthStatus.additional_information_provided,
        actor=ANONYMOUS,
    )
    audit.record(
        session,
        actor=ANONYMOUS,
        action="youth_application.additional_info",
        target_type="youth_application",
        target_id=application.id,
        fields=["additional_info_reasons", "additional_info_description"],
    )
    if handler_email:
        queue_processing_email(
            session, handler_email=handler_email, link=link_for(application.id or 0)
        )
    return application


def queue_processing_email(session: Session, *, handler_email: str, link: str) -> None:
    """Tell the handlers' mailbox (in Finnish) that an application waits for manual handling:
    the youth sent additional information (K19), or a handler made one without a personal
    identity code (K31). No personal data in the message: the link leads to the back office."""
    subject, text, html = render_email(
        "summer_voucher_processing", {"link": link, "lang": "fi"}, language="fi", session=session
    )
    queue_email(
        session,
        to=handler_email,
        subject=subject,
        body_text=text,
        body_html=html,
        kind="summer_voucher.processing",
        language="fi",
    )
