"""TET use cases: who owns postings, the supervisor confirmation, saving, publishing,
unpublishing, copying and deleting postings and their image, staff-maintained classifications,
and the pupils' search. Services never commit; every write leaves an audit row."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from app import audit
from app.auth.models import UserKind, UserSession
from app.db import utcnow
from app.documents.storage import FileStore
from app.documents.uploads import UploadRejected, check_upload
from app.errors import AppError, Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_
from app.security import Actor
from app.tet import repository
from app.tet.districts import district_of
from app.tet.models import (
    ClassificationKind,
    OwnerKind,
    PostingStatus,
    TetClassification,
    TetPosting,
    TetPostingClassification,
    TetSupervisorConfirmation,
)
from app.tet.repository import Criteria, Key, Owner, Results
from app.tet.schemas import PostingIn, SearchIn, publish_problems

HELSINKI = ZoneInfo("Europe/Helsinki")
CITY_NAME = "Helsingin kaupunki"
IMAGE_MAX_BYTES = 4 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
TET_ROLE = "tet"

# The posting fields an editor sets; the rest the service keeps.
EDITABLE = (
    "title",
    "org_unit",
    "street",
    "postcode",
    "city",
    "latitude",
    "longitude",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
    "start_date",
    "end_date",
    "spots",
    "website",
    "photographer",
)
PERSONAL = ("contact_name", "contact_phone", "contact_email")


class NoUnit(PermissionDenied):
    code = "no_city_unit"
    message = N_(
        "Your account has no city unit, so you cannot publish TET postings. Ask your supervisor "
        "to have your unit added to your account."
    )


class SupervisorConfirmationNeeded(AppError):
    status_code = 409
    code = "supervisor_confirmation_needed"
    message = N_("Confirm first that you are a supervisor or have discussed the posting with one.")


class PostingEnded(Conflict):
    code = "posting_ended"
    message = N_(
        "This TET posting has ended and can no longer be changed. Copy it to make a new posting."
    )


class ImageRejected(UploadRejected):
    pass


class ImageTooLarge(ImageRejected):
    status_code = 413
    code = "file_too_large"
    message = N_("The image is too large. The largest allowed size is 4 MB.")


class ImageTypeNotAllowed(ImageRejected):
    status_code = 415
    code = "file_type_not_allowed"
    message = N_("The image must be a PNG or JPEG file.")


class ImageDamaged(ImageRejected):
    code = "file_damaged"
    message = N_("The image is damaged or is not really a PNG or JPEG file.")


class ImageTooBig(ImageRejected):
    code = "image_too_big"
    message = N_("The image is too big. Use at most 6000 × 6000 pixels.")


def today() -> date:
    """The calendar date in Helsinki: a posting ends when its end date has passed there."""
    return datetime.now(HELSINKI).date()


# --- Who owns postings ------------------------------------------------------------------------


def owner_of(user_session: UserSession) -> Owner:
    """An employer acts for the chosen company; staff with the TET role for their city unit."""
    if user_session.kind == UserKind.employer and user_session.business_id:
        return Owner(
            kind=OwnerKind.company.value,
            id=user_session.business_id,
            name=user_session.business_name or user_session.business_id,
        )
    if user_session.kind == UserKind.staff and TET_ROLE in user_session.role_set:
        if not user_session.unit:
            raise NoUnit()
        return Owner(kind=OwnerKind.city_unit.value, id=user_session.unit, name=CITY_NAME)
    raise PermissionDenied()


def has_confirmed(session: Session, *, user_id: int, owner: Owner) -> bool:
    return (
        session.exec(
            select(TetSupervisorConfirmation.id).where(  # type: ignore[call-overload]
                col(TetSupervisorConfirmation.user_id) == user_id,
                col(TetSupervisorConfirmation.owner_kind) == owner.kind,
                col(TetSupervisorConfirmation.owner_id) == owner.id,
            )
        ).first()
        is not None
    )


def confirm_supervisor(session: Session, *, user_id: int, owner: Owner, actor: Actor) -> None:
    """T3, once per person and owner; confirming again changes nothing."""
    if has_confirmed(session, user_id=user_id, owner=owner):
        return
    row = TetSupervisorConfirmation(user_id=user_id, owner_kind=owner.kind, owner_id=owner.id)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tet.supervisor_confirmed",
        target_type="tet_owner",
        target_id=f"{owner.kind}:{owner.id}",
    )


# --- Postings -----------------------------------------------------------------------------------


def is_ended(posting: TetPosting, on: date | None = None) -> bool:
    """A published posting whose end date has passed: its owner may copy or delete it only."""
    return posting.status == PostingStatus.published and posting.ended(on or today())


def check_editable(posting: TetPosting) -> None:
    if is_ended(posting):
        raise PostingEnded()


def get_posting(session: Session, *, owner: Owner, posting_id: int) -> TetPosting:
    """The owner's posting; anyone else's answers 404 (T20-T22)."""
    posting = repository.get_for_owner(session, owner, posting_id)
    if posting is None:
        raise NotFound()
    return posting


def _resolve(
    session: Session, data: PostingIn, current: list[TetClassification]
) -> list[TetClassification]:
    """The chosen classifications. Retired values may stay on a posting that has them, but are
    not offered for new ones; a code of the wrong kind is refused."""
    had = {c.code for c in current}
    found = repository.classifications_by_code(
        session, [*data.fields, *data.methods, *data.features]
    )
    errors: list[dict[str, Any]] = []
    chosen: list[TetClassification] = []
    for name, kind, codes in (
        ("fields", ClassificationKind.field, data.fields),
        ("methods", ClassificationKind.method, data.methods),
        ("features", ClassificationKind.feature, data.features),
    ):
        for code in codes:
            row = found.get(code)
            if row is None or row.kind != kind or (row.retired_at is not None and code not in had):
                errors.append({"loc": [name], "type": "classification", "msg": "", "input": code})
                break
            chosen.append(row)
    if errors:
        raise ValidationFailed(errors)
    return chosen


def search_text(posting: TetPosting) -> str:
    return "\n".join(
        part
        for part in (
            posting.title,
            posting.org_unit,
            posting.organisation_name,
            posting.description or "",
            " ".join(posting.keyword_list),
            posting.city,
        )
        if part
    )


def tags_of(posting: TetPosting, chosen: list[TetClassification]) -> str:
    tags = [repository.tag_for(c) for c in chosen]
    tags += [f"l{code}" for code in posting.language_list]
    return " " + " ".join(tags) + " " if tags else ""


def _apply(
    session: Session, posting: TetPosting, data: PostingIn, chosen: list[TetClassification]
) -> list[str]:
    """Copy the editor's values onto the posting; returns the names of the changed fields."""
    changed = []
    for name in EDITABLE:
        value = getattr(data, name)
        if getattr(posting, name) != value:
            setattr(posting, name, value)
            changed.append(name)
    languages = ",".join(code for code in ("fi", "sv", "en") if code in data.languages) or None
    if posting.languages != languages:
        posting.languages = languages
        changed.append("languages")
    keywords = ", ".join(data.keywords) or None
    if posting.keywords != keywords:
        posting.keywords = keywords
        changed.append("keywords")
    is_new = posting.id is None
    current = (
        set()
        if posting.id is None
        else {c.id for c in repository.classifications_of(session, [posting.id])[posting.id]}
    )
    wanted = {c.id for c in chosen}
    posting.search_text = search_text(posting)
    posting.tags = tags_of(posting, chosen)
    session.add(posting)
    session.flush()
    if current != wanted:
        changed.append("classifications")
        if not is_new:
            session.execute(
                delete(TetPostingClassification).where(
                    col(TetPostingClassification.posting_id) == posting.id
                )
            )
        for classification in chosen:
            session.add(
                TetPostingClassification(
                    posting_id=posting.id or 0, classification_id=classification.id or 0
                )
            )
    return changed


def _check_publishable(data: PostingIn, *, accept_terms: bool) -> None:
    problems = publish_problems(data)
    if not accept_terms:
        problems.append(
            {"loc": ["accept_terms"], "type": "must_be_true", "msg": "", "input": None, "ctx": {}}
        )
    if problems:
        raise ValidationFailed(problems)


def save(
    session: Session,
    *,
    owner: Owner,
    actor: Actor,
    user_id: int | None,
    data: PostingIn,
    posting: TetPosting | None = None,
    publish: bool = False,
    accept_terms: bool = False,
) -> TetPosting:
    """Create or update a posting. A draft needs only title, unit and address (T5); publishing
    needs everything and the terms (T6); a published posting stays published and so is
    validated like one (T19)."""
    if user_id is None:
        if actor.kind != "system":  # only the system (demo data, imports) saves without a user
            raise PermissionDenied()
    elif posting is None and not has_confirmed(session, user_id=user_id, owner=owner):
        raise SupervisorConfirmationNeeded()
    if posting is not None:
        check_editable(posting)
    current = (
        repository.classifications_of(session, [posting.id])[posting.id]
        if posting and posting.id
        else []
    )
    chosen = _resolve(session, data, current)
    stays_published = posting is not None and posting.status == PostingStatus.published
    if publish or stays_published:
        # Editing a published posting: its terms were accepted when it was published.
        _check_publishable(data, accept_terms=accept_terms or stays_published)
    now = utcnow()
    created = posting is None
    if posting is None:
        posting = TetPosting(
            owner_kind=owner.kind,
            owner_id=owner.id,
            organisation_name=owner.name,
            created_by=user_id,
            title=data.title,
            org_unit=data.org_unit,
            street=data.street,
            postcode=data.postcode,
            city=data.city,
        )
    changed = _apply(session, posting, data, chosen)
    posting.organisation_name = owner.name
    if publish and posting.status != PostingStatus.published:
        posting.status = PostingStatus.published.value
        posting.published_at = now
        changed.append("status")
    posting.updated_by = user_id
    posting.updated_at = now
    session.add(posting)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tet.posting_created" if created else "tet.posting_updated",
        target_type="tet_posting",
        target_id=posting.id,
        fields=changed,
    )
    if publish and "status" in changed:
        audit.record(
            session,
            actor=actor,
            action="tet.posting_published",
            target_type="tet_posting",
            target_id=posting.id,
        )
    return posting


def as_input(session: Session, posting: TetPosting) -> dict[str, Any]:
    """The posting's values in the editor's shape (for the form, the preview and copies)."""
    chosen = repository.classifications_of(session, [posting.id or 0])[posting.id or 0]
    values: dict[str, Any] = {name: getattr(posting, name) for name in EDITABLE}
    values.update(
        title=posting.title,
        org_unit=posting.org_unit,
        street=posting.street,
        postcode=posting.postcode,
        city=posting.city,
        languages=posting.language_list,
        keywords=posting.keyword_list,
        fields=[c.code for c in chosen if c.kind == ClassificationKind.field],
        methods=[c.code for c in chosen if c.kind == ClassificationKind.method],
        features=[c.code for c in chosen if c.kind == ClassificationKind.feature],
    )
    return values


def stored_input(session: Session, posting: TetPosting) -> PostingIn:
    values = {k: v for k, v in as_input(session, posting).items() if v is not None}
    return PostingIn.model_validate(values)


def publish(
    session: Session,
    *,
    owner: Owner,
    actor: Actor,
    user_id: int,
    posting: TetPosting,
    accept_terms: bool,
) -> TetPosting:
    """ "Publish now" from the list: the stored posting is validated like the editor's."""
    if posting.status == PostingStatus.published:
        raise Conflict(N_("The posting is already published."), code="already_published")
    data = stored_input(session, posting)
    return save(
        session,
        owner=owner,
        actor=actor,
        user_id=user_id,
        data=data,
        posting=posting,
        publish=True,
        accept_terms=accept_terms,
    )


def unpublish(session: Session, *, actor: Actor, user_id: int, posting: TetPosting) -> None:
    """Back to a draft: gone from the pupils' search at once."""
    check_editable(posting)
    if posting.status != PostingStatus.published:
        raise Conflict(N_("The posting is not published."), code="not_published")
    posting.status = PostingStatus.draft.value
    posting.updated_by = user_id
    posting.updated_at = utcnow()
    session.add(posting)
    audit.record(
        session,
        actor=actor,
        action="tet.posting_unpublished",
        target_type="tet_posting",
        target_id=posting.id,
    )


def copy(
    session: Session, *, owner: Owner, actor: Actor, user_id: int, posting: TetPosting
) -> TetPosting:
    """A new draft with the same content and image (T18)."""
    data = stored_input(session, posting)
    chosen = _resolve(
        session, data, repository.classifications_of(session, [posting.id or 0])[posting.id or 0]
    )
    # Retired values are not copied onto a new posting.
    active = [c for c in chosen if c.retired_at is None]
    data = data.model_copy(
        update={
            "fields": [c.code for c in active if c.kind == ClassificationKind.field],
            "methods": [c.code for c in active if c.kind == ClassificationKind.method],
            "features": [c.code for c in active if c.kind == ClassificationKind.feature],
        }
    )
    new = save(session, owner=owner, actor=actor, user_id=user_id, data=data)
    new.image_name = posting.image_name
    new.image_type = posting.image_type
    new.image_width = posting.image_width
    new.image_height = posting.image_height
    session.add(new)
    audit.record(
        session,
        actor=actor,
        action="tet.posting_copied",
        target_type="tet_posting",
        target_id=new.id,
        detail=f"from {posting.id}",
    )
    return new


def delete_posting(session: Session, *, actor: Actor, posting: TetPosting) -> None:
    """Deleted at once; its image file is swept later if nothing else names it."""
    audit.record(
        session,
        actor=actor,
        action="tet.posting_deleted",
        target_type="tet_posting",
        target_id=posting.id,
    )
    session.delete(posting)
    session.flush()


def set_image(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    posting: TetPosting,
    data: bytes,
    filename: str | None,
    photographer: str | None,
    store: FileStore,
) -> None:
    """PNG or JPEG by content, at most 4 MB, decodable by Pillow and not a decompression bomb;
    stored under a generated name."""
    check_editable(posting)
    try:
        checked = check_upload(data, filename, allowed=IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES)
    except UploadRejected as exc:
        image_error = {
            "file_too_large": ImageTooLarge,
            "file_type_not_allowed": ImageTypeNotAllowed,
            "file_damaged": ImageDamaged,
        }.get(exc.code)
        if image_error is None:
            raise  # no file chosen: its own message ("Choose a file to upload.")
        raise image_error() from exc
    try:
        with Image.open(io.BytesIO(checked.data)) as image:
            width, height = image.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise ImageDamaged() from exc
    if width > 6000 or height > 6000:
        raise ImageTooBig()
    posting.image_name = store.save(checked.data)
    posting.image_type = checked.content_type
    posting.image_width = width
    posting.image_height = height
    posting.photographer = (photographer or "").strip()[:128] or None
    posting.updated_by = user_id
    posting.updated_at = utcnow()
    session.add(posting)
    audit.record(
        session,
        actor=actor,
        action="tet.image_set",
        target_type="tet_posting",
        target_id=posting.id,
        fields=["image"],
    )


def image_bytes(posting: TetPosting, *, store: FileStore) -> tuple[bytes, str]:
    """The posting's image and its type; NotFound when it has none or the file is gone."""
    if not posting.image_name or posting.image_type not in IMAGE_TYPES:
        raise NotFound()
    try:
        return store.read(posting.image_name), str(posting.image_type)
    except (FileNotFoundError, ValueError):
        raise NotFound() from None


def remove_image(session: Session, *, actor: Actor, user_id: int, posting: TetPosting) -> None:
    check_editable(posting)
    posting.image_name = posting.image_type = None
    posting.image_width = posting.image_height = None
    posting.photographer = None
    posting.updated_by = user_id
    posting.updated_at = utcnow()
    session.add(posting)
    audit.record(
        session,
        actor=actor,
        action="tet.image_removed",
        target_type="tet_posting",
        target_id=posting.id,
        fields=["image"],
    )


# --- Owner's list --------------------------------------------------------------------------------


@dataclass
class OwnerList:
    published: list[TetPosting]
    drafts: list[TetPosting]
    ended: list[TetPosting]


def owner_list(session: Session, *, owner: Owner, today: date) -> OwnerList:
    """T16: published, drafts and ended (published with an end date before today)."""
    result = OwnerList(published=[], drafts=[], ended=[])
    for posting in repository.owner_postings(session, owner):
        if posting.status == PostingStatus.draft:
            result.drafts.append(posting)
        elif posting.ended(today):
            result.ended.append(posting)
        else:
            result.published.append(posting)
    return result


# --- Classifications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationIn:
    kind: ClassificationKind
    name_fi: str
    name_sv: str
    name_en: str


def _names_problems(data: ClassificationIn) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for lang in ("fi", "sv", "en"):
        value = getattr(data, f"name_{lang}").strip()
        if not value:
            problems.append({"loc": [f"name_{lang}"], "type": "missing", "msg": "", "input": None})
        elif len(value) > 100:
            problems.append(
                {
                    "loc": [f"name_{lang}"],
                    "type": "string_too_long",
                    "msg": "",
                    "input": value,
                    "ctx": {"max_length": 100},
                }
            )
    return problems


def add_classification(
    session: Session, *, actor: Actor, data: ClassificationIn
) -> TetClassification:
    problems = _names_problems(data)
    if problems:
        raise ValidationFailed(problems)
    base = "".join(ch if ch.isalnum() else "_" for ch in data.name_en.strip().lower())
    base = "_".join(part for part in base.split("_") if part)[:30] or "value"
    base = base.encode("ascii", "ignore").decode() or "value"
    code = base
    existing = set(
        session.execute(
            select(col(TetClassification.code)).where(col(TetClassification.code).like(f"{base}%"))
        ).scalars()
    )
    number = 2
    while code in existing:
        code = f"{base}_{number}"
        number += 1
    ordering = session.execute(
        select(func.coalesce(func.max(TetClassification.ordering), 0)).where(
            col(TetClassification.kind) == data.kind.value
        )
    ).scalar_one()
    row = TetClassification(
        kind=data.kind.value,
        code=code,
        name_fi=data.name_fi.strip(),
        name_sv=data.name_sv.strip(),
        name_en=data.name_en.strip(),
        ordering=int(ordering) + 1,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tet.classification_added",
        target_type="tet_classification",
        target_id=row.id,
    )
    return row


def rename_classification(
    session: Session, *, actor: Actor, row: TetClassification, data: ClassificationIn
) -> None:
    """Renaming keeps the code and the id: postings and pupils' saved searches keep working."""
    problems = _names_problems(data)
    if problems:
        raise ValidationFailed(problems)
    row.name_fi, row.name_sv, row.name_en = (
        data.name_fi.strip(),
        data.name_sv.strip(),
        data.name_en.strip(),
    )
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="tet.classification_renamed",
        target_type="tet_classification",
        target_id=row.id,
        fields=["name_fi", "name_sv", "name_en"],
    )


def retire_classification(
    session: Session, *, actor: Actor, row: TetClassification, retire: bool
) -> None:
    """A retired value stays on the postings that have it; it is no longer offered or a filter."""
    row.retired_at = utcnow() if retire else None
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="tet.classification_retired" if retire else "tet.classification_restored",
        target_type="tet_classification",
        target_id=row.id,
    )


def classifications_with_usage(
    session: Session,
) -> tuple[list[TetClassification], dict[int, int]]:
    """Every classification, retired ones too, and how many postings have each (staff)."""
    return repository.classifications(session, include_retired=True), repository.usage_counts(
        session
    )


def get_classification(session: Session, classification_id: int) -> TetClassification:
    row = session.get(TetClassification, classification_id)
    if row is None:
        raise NotFound()
    return row


# --- Pupils' search ------------------------------------------------------------------------------


class UnknownFilter(ValidationFailed):
    code = "unknown_filter"


def criteria_for(
    session: Session, query: SearchIn, *, active: list[TetClassification] | None = None
) -> Criteria:
    """Resolve the codes of a search to tags; an unknown or retired code, or an unknown area, is
    refused with the field it came in."""
    active = active if active is not None else repository.classifications(session)
    by_code = {c.code: c for c in active}
    errors: list[dict[str, Any]] = []
    tags: dict[str, list[str]] = {"field": [], "method": [], "feature": []}
    for name in ("field", "method", "feature"):
        for code in getattr(query, name):
            row = by_code.get(code)
            if row is None or row.kind != name:
                errors.append({"loc": [name], "type": "classification", "msg": "", "input": code})
                break
            tags[name].append(repository.tag_for(row))
    postcodes = repository.area_postcodes(query.area)
    if query.area and postcodes is None:
        errors.append({"loc": ["area"], "type": "area", "msg": "", "input": query.area})
    if errors:
        raise UnknownFilter(errors)
    return Criteria(
        words=repository.words_of(query.q),
        fields=tags["field"],
        methods=tags["method"],
        features=tags["feature"],
        start=query.start,
        end=query.end,
        language=query.language,
        postcodes=postcodes,
        # Only chosen interests can match: without them "match" is the start-date order (and its
        # page keys have no score, so paging by them must not expect one).
        by_match=bool(query.interests) and (query.sort or "match") == "match",
    )


@dataclass
class SearchPage:
    results: Results
    total: int  # up to COUNT_CAP + 1
    classifications: dict[int, list[TetClassification]]

    @property
    def over_cap(self) -> bool:
        """More than COUNT_CAP postings match: say "over 1 000", not a number."""
        return self.total > repository.COUNT_CAP


def search(
    session: Session,
    *,
    criteria: Criteria,
    query: SearchIn,
    today: date,
    all_classes: list[TetClassification] | None = None,
) -> SearchPage:
    """A page of results, how many match, and each result's classifications (read from its
    tags, so no query per page: pass `all_classes`, retired ones included, if already loaded).
    A first page that is not full is the whole result: no count query."""
    after = Key.decode(query.after, by_match=criteria.by_match)
    before = Key.decode(query.before, by_match=criteria.by_match) if after is None else None
    results = repository.search(session, criteria, today, after=after, before=before)
    first_and_only = after is None and before is None and results.next_key is None
    total = len(results.items) if first_and_only else repository.count(session, criteria, today)
    if all_classes is None:
        all_classes = repository.classifications(session, include_retired=True)
    by_tag = {repository.tag_for(c): c for c in all_classes}
    classes = {
        posting.id or 0: [by_tag[tag] for tag in posting.tags.split() if tag in by_tag]
        for posting in results.items
    }
    return SearchPage(results=results, total=total, classifications=classes)


def count(session: Session, criteria: Criteria, today: date) -> int:
    return repository.count(session, criteria, today)


def published_posting(session: Session, posting_id: int, today: date) -> TetPosting:
    posting = repository.published_posting(session, posting_id, today)
    if posting is None:
        raise NotFound()
    return posting


def district_name(postcode: str | None) -> str | None:
    district = district_of(postcode)
    return district.name if district else None
