"""The TET posting editor through HTTP with real logins (#6, T3–T19): the supervisor
confirmation, drafts, publishing and its validation, publish now, unpublish, copy, delete, the
preview, ended postings, stored XSS, the terms page and the employer home's TET section."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.security import SYSTEM
from app.tet import service
from app.tet.models import TetClassification, TetPosting
from app.tet.schemas import SearchIn
from tests.conftest import login
from tests.tet.factories import COMPANY, make_posting, posting_data

MANAGE = "/tet/manage"
CONFIRM_FI = "Olen esihenkilöasemassa tai keskustellut esihenkilön kanssa ilmoituksen teosta."

# --- Helpers (also used by test_manage_access.py) -------------------------------------------------


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/csrf").json()["csrf_token"])


def sign_in(
    client: TestClient,
    sub: str = "employer-one",
    *,
    business_id: str | None = None,
    staff: bool = False,
    language: str = "en",
) -> TestClient:
    """Log in as a demo user; an employer with several organisations chooses `business_id`."""
    client.headers["Accept-Language"] = language
    answer = login(client, sub, staff=staff)
    assert answer.status_code == 303, answer.text
    if answer.headers["location"].startswith("/employer/organisations"):
        chosen = client.post(
            "/employer/organisations",
            data={"business_id": business_id or "3045112-8", "csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert chosen.status_code == 303, chosen.text
    return client


def confirm(client: TestClient) -> None:
    answer = client.post(
        f"{MANAGE}/confirm",
        data={"csrf_token": csrf(client), "confirm": "true", "next": f"{MANAGE}/new"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def form_data(**overrides: Any) -> dict[str, Any]:
    """A complete editor form (strings and lists, as a browser sends them)."""
    data = posting_data()
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "keywords":
            values[name] = ", ".join(value)
        elif isinstance(value, list):
            values[name] = value
        elif value is None:
            values[name] = ""
        else:
            values[name] = str(value)
    values.update(overrides)
    return values


def post(client: TestClient, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf(client), **(data or {})}, follow_redirects=False
    )
    return response


def create(client: TestClient, action: str = "draft", **overrides: Any) -> httpx.Response:
    return post(client, f"{MANAGE}/new", {"action": action, **form_data(**overrides)})


def created_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    found = re.match(rf"{MANAGE}/(\d+)/edit", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def posting(db: Session, posting_id: int) -> TetPosting:
    db.expire_all()
    row = db.get(TetPosting, posting_id)
    assert row is not None
    return row


def found_titles(db: Session, **query: object) -> list[str]:
    search = SearchIn.model_validate(query)
    criteria = service.criteria_for(db, search)
    page = service.search(db, criteria=criteria, query=search, today=service.today())
    return [p.title for p in page.results.items]


def section(html: str, key: str) -> str:
    """One section of the list page."""
    found = re.search(rf'<section[^>]*aria-labelledby="h-{key}".*?</section>', html, re.S)
    assert found, key
    return found.group(0)


MINIMAL = {
    "title": "Kokki",
    "org_unit": "Keittiö",
    "street": "Keittiötie 1",
    "postcode": "00100",
    "city": "Helsinki",
}


@pytest.fixture
def employer(client: TestClient) -> TestClient:
    sign_in(client)
    confirm(client)
    return client


# --- The supervisor confirmation (T3) ------------------------------------------------------------


def test_the_first_posting_needs_the_supervisor_confirmation(client: TestClient) -> None:
    sign_in(client, language="fi")
    gate = client.get(f"{MANAGE}/new", follow_redirects=False)
    assert gate.status_code == 303
    assert gate.headers["location"] == f"{MANAGE}/confirm?next={MANAGE}/new"
    refused = create(client)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith(f"{MANAGE}/confirm")
    page = client.get(f"{MANAGE}/confirm")
    assert page.status_code == 200
    assert CONFIRM_FI in page.text
    assert page.text.count("<h1") == 1
    unticked = post(client, f"{MANAGE}/confirm", {"next": f"{MANAGE}/new"})
    assert unticked.status_code == 422
    assert 'aria-describedby="f-confirm-error"' in unticked.text
    confirm(client)
    editor = client.get(f"{MANAGE}/new")
    assert editor.status_code == 200
    assert "Uusi TET-ilmoitus" in editor.text
    # Confirmed once: the confirmation page goes straight on.
    again = client.get(f"{MANAGE}/confirm", follow_redirects=False)
    assert again.status_code == 303


def test_the_confirmation_in_english(client: TestClient) -> None:
    sign_in(client)
    page = client.get(f"{MANAGE}/confirm")
    assert "I am a supervisor or have discussed the posting with my supervisor" in page.text


# --- Drafts and publishing (T4–T6) ------------------------------------------------------------


def test_a_draft_needs_only_title_unit_and_address(employer: TestClient, db: Session) -> None:
    answer = post(employer, f"{MANAGE}/new", {"action": "draft", **MINIMAL})
    posting_id = created_id(answer)
    assert answer.headers["location"].endswith("?done=created")
    saved = posting(db, posting_id)
    assert saved.status == "draft"
    assert (saved.title, saved.org_unit, saved.street) == ("Kokki", "Keittiö", "Keittiötie 1")
    assert saved.organisation_name == "Kahvila Esimerkki Oy"
    page = employer.get(answer.headers["location"])
    assert "The draft was saved. You can now add an image below." in page.text
    assert 'enctype="multipart/form-data"' in page.text
    listing = employer.get(MANAGE)
    assert "Kokki – Keittiö" in section(listing.text, "drafts")
    assert "(1)" in section(listing.text, "drafts")
    assert "(0)" in section(listing.text, "published")


def test_a_draft_without_the_address_says_what_a_draft_needs(
    employer: TestClient, db: Session
) -> None:
    answer = post(employer, f"{MANAGE}/new", {"action": "draft", "title": "Kokki"})
    assert answer.status_code == 422
    assert "To save a draft, fill in at least the job title, the unit and the address" in (
        answer.text
    )
    assert 'href="#f-org_unit"' in answer.text
    assert 'href="#f-street"' in answer.text
    assert 'value="Kokki"' in answer.text
    assert db.exec(select(TetPosting)).first() is None


def test_a_new_posting_form_says_the_image_comes_after_saving(employer: TestClient) -> None:
    page = employer.get(f"{MANAGE}/new")
    assert "You can add an image once the draft is saved." in page.text
    assert 'type="file"' not in page.text
    assert 'type="date"' in page.text
    assert 'type="number"' in page.text
    assert 'min="1"' in page.text
    for language in ("Suomi", "Svenska", "English"):
        assert language in page.text
    assert "Kauppa ja myynti" not in page.text  # English page: English names
    assert "Retail and sales" in page.text


def test_publishing_shows_every_problem_and_keeps_the_typed_values(
    employer: TestClient, db: Session
) -> None:
    answer = create(
        employer,
        "publish",
        description="",
        contact_email="not-an-email",
        methods=[],
        contact_name="Eija <Esimerkki>",
    )
    assert answer.status_code == 422
    text = answer.text
    assert "Fill in the missing information before publishing." in text
    assert 'href="#f-description"' in text
    assert 'href="#f-contact_email"' in text
    assert 'href="#f-methods"' in text
    assert 'href="#f-accept_terms"' in text
    assert "Enter an e-mail address, for example name@example.com." in text
    assert "Choose at least one." in text
    assert "Accept the terms of use to publish the posting." in text
    assert 'aria-describedby="f-contact_email-error"' in text
    assert 'aria-invalid="true"' in text
    # What was typed stays, escaped.
    assert 'value="not-an-email"' in text
    assert 'value="Eija &lt;Esimerkki&gt;"' in text
    assert 'value="retail" checked' in text
    assert db.exec(select(TetPosting)).first() is None


def test_publishing_needs_the_terms(employer: TestClient, db: Session) -> None:
    refused = create(employer, "publish")
    assert refused.status_code == 422
    assert "Accept the terms of use to publish the posting." in refused.text
    assert db.exec(select(TetPosting)).first() is None
    answer = create(employer, "publish", accept_terms="true")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}?done=published"
    saved = db.exec(select(TetPosting)).one()
    assert saved.status == "published"
    assert saved.keyword_list == ["kauppa", "kassa"]
    assert saved.language_list == ["fi"]
    assert found_titles(db) == ["Myyjä"]
    listing = employer.get(answer.headers["location"])
    assert "The TET posting was published." in listing.text
    assert "Myyjä – Kallion myymälä" in section(listing.text, "published")


def test_editing_a_published_posting_keeps_it_published(employer: TestClient, db: Session) -> None:
    published = make_posting(db)
    db.commit()
    edit = employer.get(f"{MANAGE}/{published.id}/edit")
    assert edit.status_code == 200
    assert "Save and publish" in edit.text
    assert "Save draft" not in edit.text
    assert 'name="accept_terms"' not in edit.text
    assert 'value="Myyjä"' in edit.text
    assert 'value="kauppa, kassa"' in edit.text
    answer = post(
        employer,
        f"{MANAGE}/{published.id}/edit",
        {"action": "publish", **form_data(title="Kassatyöntekijä")},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}?done=updated"
    saved = posting(db, published.id or 0)
    assert (saved.status, saved.title) == ("published", "Kassatyöntekijä")
    assert found_titles(db) == ["Kassatyöntekijä"]
    # A published posting is validated like one: a blank description is refused.
    refused = post(
        employer,
        f"{MANAGE}/{published.id}/edit",
        {"action": "publish", **form_data(description="")},
    )
    assert refused.status_code == 422
    assert 'href="#f-description"' in refused.text
    assert posting(db, published.id or 0).description


def test_publish_now_validates_the_saved_draft(employer: TestClient, db: Session) -> None:
    incomplete = created_id(post(employer, f"{MANAGE}/new", {"action": "draft", **MINIMAL}))
    answer = post(employer, f"{MANAGE}/{incomplete}/publish")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}/{incomplete}/edit?problems=publish"
    page = employer.get(answer.headers["location"])
    assert "Fill in the missing information before publishing." in page.text
    assert 'href="#f-description"' in page.text
    assert 'href="#f-methods"' in page.text
    # Even with the confirmation given, an incomplete draft is not published.
    forced = post(employer, f"{MANAGE}/{incomplete}/publish", {"confirm": "1", "accept_terms": "1"})
    assert forced.status_code == 303
    assert posting(db, incomplete).status == "draft"

    complete = created_id(create(employer))
    confirmation = post(employer, f"{MANAGE}/{complete}/publish")
    assert confirmation.status_code == 200
    assert "Publish the TET posting?" in confirmation.text
    assert 'name="accept_terms"' in confirmation.text
    no_terms = post(employer, f"{MANAGE}/{complete}/publish", {"confirm": "1"})
    assert no_terms.status_code == 422
    assert "Accept the terms of use to publish the posting." in no_terms.text
    assert posting(db, complete).status == "draft"
    done = post(employer, f"{MANAGE}/{complete}/publish", {"confirm": "1", "accept_terms": "true"})
    assert done.status_code == 303
    assert done.headers["location"] == f"{MANAGE}?done=published"
    assert posting(db, complete).status == "published"


def test_unpublish_takes_the_posting_from_the_search_at_once(
    employer: TestClient, db: Session
) -> None:
    published = make_posting(db, title="Leipuri")
    db.commit()
    assert found_titles(db) == ["Leipuri"]
    listing = employer.get(MANAGE)
    assert "Unpublish" in section(listing.text, "published")
    answer = post(employer, f"{MANAGE}/{published.id}/unpublish")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}?done=unpublished"
    assert found_titles(db) == []
    assert posting(db, published.id or 0).status == "draft"
    listing = employer.get(answer.headers["location"])
    assert "Leipuri – Kallion myymälä" in section(listing.text, "drafts")
    assert "Pupils no longer see it." in listing.text
    # Not published any more: a second unpublish is a conflict.
    assert post(employer, f"{MANAGE}/{published.id}/unpublish").status_code == 409


def test_copy_makes_a_new_draft(employer: TestClient, db: Session) -> None:
    original = make_posting(db, title="Siivooja")
    db.commit()
    answer = post(employer, f"{MANAGE}/{original.id}/copy")
    copy_id = created_id(answer)
    assert copy_id != original.id
    assert answer.headers["location"].endswith("?done=copied")
    copied = posting(db, copy_id)
    assert (copied.status, copied.title, copied.owner_id) == ("draft", "Siivooja", COMPANY.id)
    assert posting(db, original.id or 0).status == "published"
    page = employer.get(answer.headers["location"])
    assert "A copy was made as a new draft." in page.text


def test_delete_asks_first(employer: TestClient, db: Session) -> None:
    doomed = make_posting(db, title="Poistettava")
    db.commit()
    page = employer.get(f"{MANAGE}/{doomed.id}/delete")
    assert page.status_code == 200
    assert "Delete the TET posting?" in page.text
    assert "Poistettava" in page.text
    assert posting(db, doomed.id or 0)  # still there
    answer = post(employer, f"{MANAGE}/{doomed.id}/delete")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{MANAGE}?done=deleted"
    db.expire_all()
    assert db.get(TetPosting, doomed.id) is None
    assert found_titles(db) == []
    assert "The TET posting was deleted." in employer.get(answer.headers["location"]).text


# --- Ended postings ----------------------------------------------------------------------------


def test_an_ended_posting_can_be_copied_and_deleted_only(employer: TestClient, db: Session) -> None:
    today = service.today()
    ended = make_posting(
        db,
        title="Mennyt",
        start_date=today - timedelta(days=30),
        end_date=today - timedelta(days=1),
    )
    db.commit()
    listing = employer.get(MANAGE)
    part = section(listing.text, "ended")
    assert "Mennyt – Kallion myymälä" in part
    assert "(1)" in part
    assert f"/tet/manage/{ended.id}/edit" not in part
    assert f"/tet/manage/{ended.id}/copy" in part
    assert f"/tet/manage/{ended.id}/delete" in part
    assert "Mennyt" not in section(listing.text, "published")
    edit = employer.get(f"{MANAGE}/{ended.id}/edit")
    assert edit.status_code == 409
    assert "This TET posting has ended" in edit.text
    assert post(employer, f"{MANAGE}/{ended.id}/edit", form_data()).status_code == 409
    assert post(employer, f"{MANAGE}/{ended.id}/unpublish").status_code == 409
    assert post(employer, f"{MANAGE}/{ended.id}/image/delete").status_code == 409
    assert posting(db, ended.id or 0).title == "Mennyt"
    copy_id = created_id(post(employer, f"{MANAGE}/{ended.id}/copy"))
    assert posting(db, copy_id).status == "draft"
    assert post(employer, f"{MANAGE}/{ended.id}/delete").status_code == 303


# --- Classifications -----------------------------------------------------------------------------


def test_a_retired_value_stays_checked_on_the_posting_that_has_it(
    employer: TestClient, db: Session
) -> None:
    make_posting(db, fields=["retail", "ict"])
    retail = db.exec(select(TetClassification).where(col(TetClassification.code) == "retail")).one()
    service.retire_classification(db, actor=SYSTEM, row=retail, retire=True)
    db.commit()
    has_it = db.exec(select(TetPosting)).one()
    page = employer.get(f"{MANAGE}/{has_it.id}/edit")
    assert 'value="retail" checked' in page.text
    assert "Retail and sales (no longer in use)" in page.text
    # Saving keeps it.
    answer = post(employer, f"{MANAGE}/{has_it.id}/edit", {"action": "publish", **form_data()})
    assert answer.status_code == 303
    # A new posting is not offered it.
    assert 'value="retail"' not in employer.get(f"{MANAGE}/new").text


def test_classification_names_follow_the_language(client: TestClient) -> None:
    sign_in(client, language="sv")
    confirm(client)
    page = client.get(f"{MANAGE}/new")
    assert "Handel och försäljning" in page.text
    assert "Ny PRAO-annons" in page.text


# --- Preview (T15) and stored XSS ---------------------------------------------------------------


def test_the_preview_shows_the_posting_as_pupils_see_it(employer: TestClient, db: Session) -> None:
    complete = created_id(create(employer, title="Kondiittori"))
    page = employer.get(f"{MANAGE}/{complete}/preview")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert '<h1 class="tet-posting__title">Kondiittori</h1>' in page.text
    # The pupils' detail partial: what they do there, contact, classifications.
    assert "Pääset tutustumaan myymälän töihin" in page.text
    assert "eija@example.com" in page.text
    assert "Retail and sales" in page.text
    assert "Central Helsinki" in page.text  # the district of 00530
    assert "Back to the form" in page.text
    assert f'action="{MANAGE}/{complete}/publish"' in page.text
    assert 'name="accept_terms"' in page.text
    incomplete = created_id(post(employer, f"{MANAGE}/new", {"action": "draft", **MINIMAL}))
    page = employer.get(f"{MANAGE}/{incomplete}/preview")
    assert page.status_code == 200
    assert f'action="{MANAGE}/{incomplete}/publish"' not in page.text
    assert "Fill in the missing information on the form before publishing." in page.text


def test_save_and_preview(employer: TestClient) -> None:
    answer = create(employer, "preview")
    assert answer.status_code == 303
    assert re.fullmatch(rf"{MANAGE}/\d+/preview", answer.headers["location"])


def test_text_from_employers_is_escaped(employer: TestClient, db: Session) -> None:
    script = "<script>alert(1)</script>"
    posting_id = created_id(
        create(employer, title=script, org_unit="<b>unit</b>", description=script)
    )
    for path in (MANAGE, f"{MANAGE}/{posting_id}/edit", f"{MANAGE}/{posting_id}/preview"):
        page = employer.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<b>unit</b>" not in page.text, path


# --- Pages around the editor ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading", "word"),
    [
        ("fi", "TET-ilmoitusten käyttöehdot", "TET"),
        ("sv", "Användarvillkor för PRAO-annonser", "PRAO"),
        ("en", "Terms of use of TET postings", "TET"),
    ],
)
def test_the_terms_page(client: TestClient, language: str, heading: str, word: str) -> None:
    sign_in(client, language=language)
    page = client.get(f"{MANAGE}/terms")
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert page.text.count("<h1") == 1
    assert f'lang="{language}"' in page.text
    assert word in page.text


def test_the_list_in_three_languages(client: TestClient, db: Session) -> None:
    make_posting(db)
    db.commit()
    sign_in(client, language="sv")
    page = client.get(MANAGE)
    assert "<h1>PRAO-annonser</h1>" in page.text
    assert "Publicerade" in page.text
    client.headers["Accept-Language"] = "fi"
    page = client.get(MANAGE)
    assert "<h1>TET-ilmoitukset</h1>" in page.text
    assert "Kahvila Esimerkki Oy (2956285-9)" in page.text  # acting for, in the header


def test_the_employer_home_counts_the_postings(client: TestClient, db: Session) -> None:
    make_posting(db)
    make_posting(db, title="Toinen")
    make_posting(db, publish=False, title="Luonnos")
    db.commit()
    sign_in(client)
    home = client.get("/employer")
    assert home.status_code == 200
    part = section(home.text, "tet")
    assert "2 published postings" in part
    assert "1 draft" in part
    assert f'href="{MANAGE}"' in part


def test_a_post_without_the_csrf_token_is_refused(employer: TestClient, db: Session) -> None:
    answer = employer.post(
        f"{MANAGE}/new", data={"action": "draft", **MINIMAL}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert db.exec(select(TetPosting)).first() is None
