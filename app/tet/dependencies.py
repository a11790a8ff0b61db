"""Who may edit TET postings, and the path loader of their postings.

`require_tet_editor` is the access policy of every posting editor route: an employer acting for
a chosen organisation (business id), or staff holding the portal role `tet` with a city unit.
Anonymous visitors go to the employer login and back; an employer who has not chosen an
organisation goes to the choice; staff without a unit see why they cannot continue (403);
anyone else is refused (403, recorded). A posting of another owner answers 404 (T20–T22).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.auth.dependencies import Auth, current_auth, deny
from app.auth.models import UserKind
from app.deps import SessionDep
from app.errors import LoginRequired, OrganisationNotChosen
from app.security import Actor, access_policy
from app.tet import service
from app.tet.models import TetPosting
from app.tet.repository import Owner


@dataclass(frozen=True)
class Editor:
    """The logged-in editor and the owner they edit postings for."""

    auth: Auth
    owner: Owner

    @property
    def actor(self) -> Actor:
        return self.auth.actor

    @property
    def user_id(self) -> int:
        return self.auth.user.id or 0

    @property
    def is_staff(self) -> bool:
        return self.auth.session.kind == UserKind.staff


@access_policy("tet-editor")
def require_tet_editor(request: Request, db: SessionDep) -> Editor:
    """An employer with a chosen organisation, or staff with the TET role and a city unit."""
    auth = current_auth(request, db)
    if auth is None:
        raise LoginRequired()
    kind = auth.session.kind
    if kind == UserKind.employer:
        if not auth.session.business_id:
            raise OrganisationNotChosen()
        return Editor(auth=auth, owner=service.owner_of(auth.session))
    if kind == UserKind.staff and service.TET_ROLE in auth.session.role_set:
        try:
            return Editor(auth=auth, owner=service.owner_of(auth.session))
        except service.NoUnit as exc:
            deny(request, db, auth)  # records the refused attempt
            raise exc from None
    raise deny(request, db, auth)


EditorDep = Annotated[Editor, Depends(require_tet_editor)]


def posting_of(db: Session, editor: Editor, posting_id: int) -> TetPosting:
    """The path's posting when it belongs to the editor's owner; any other answers 404."""
    return service.get_posting(db, owner=editor.owner, posting_id=posting_id)
