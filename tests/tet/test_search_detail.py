"""The pupils' posting page and its image through HTTP (#6 part 3, T34): what, when, where and
whom to contact; only published postings that have not ended; the link back to the same
results (and nowhere else); stored markup escaped; PRAO in Swedish."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from app.tet import service
from app.tet.models import TetPosting
from tests.tet.factories import COMPANY, actor_for, editor, make_posting
from tests.tet.test_search_page import get, links, titles

TODAY = service.today()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6)).save(out, format="PNG")
    return out.getvalue()


def with_image(db: Session, app: FastAPI, posting: TetPosting, photographer: str = "Kim") -> None:
    user = editor(db)
    service.set_image(
        db,
        actor=actor_for(user, COMPANY),
        user_id=user.id or 0,
        posting=posting,
        data=png_bytes(),
        filename="kuva.png",
        photographer=photographer,
        store=app.state.file_store,
    )
    db.flush()


def back_link(page: str) -> tuple[str, str]:
    found = links(page, "tet-back__link")
    assert len(found) == 1
    return found[0]


def test_the_page_has_everything_to_get_in_touch(client: TestClient, db: Session) -> None:
    posting = make_posting(
        db,
        title="Kassatyö",
        description="Ensimmäinen rivi.\nToinen rivi.",
        languages=["fi", "sv"],
        spots=4,
        end_date=None,
        keywords=["kassa", "kauppa"],
        features=["customers", "teamwork"],
    )
    status, page = get(client, f"/tet/postings/{posting.id}")
    assert status == 200
    assert page.count("<h1") == 1
    assert '<h1 class="tet-posting__title">Kassatyö</h1>' in page
    assert "Kahvila Esimerkki Oy" in page
    assert "Kallion myymälä" in page
    assert "ongoing" in page
    assert "<dd>4</dd>" in page
    assert "Fleminginkatu 1<br>00530 Helsinki<br>Central Helsinki" in page
    assert "Finnish, Swedish" in page
    assert "Ensimmäinen rivi.\nToinen rivi." in page  # kept, shown with white-space: pre-line
    assert "Eija Esimerkki" in page
    assert 'href="tel:+358401234567"' in page
    assert 'href="mailto:eija@example.com"' in page
    assert re.search(
        r'href="https://www.example.com" rel="noopener[^"]*"[^>]*>www.example.com', page
    )
    for heading in ("Field of work", "What kind of TET?", "Work features", "Keywords"):
        assert f'<h3 class="tet-posting__group">{heading}</h3>' in page
    assert "tet-tag--field" in page
    assert "Retail and sales" in page
    assert "With customers" in page
    assert "Teamwork" in page
    assert "tet-tag--keyword" in page
    assert ">kassa<" in page


@pytest.mark.parametrize("kind", ["draft", "ended", "missing"])
def test_only_published_current_postings_have_a_page(
    client: TestClient, db: Session, kind: str
) -> None:
    if kind == "draft":
        posting_id = make_posting(db, publish=False).id
    elif kind == "ended":
        posting_id = make_posting(
            db, start_date=TODAY - timedelta(days=10), end_date=TODAY - timedelta(days=1)
        ).id
    else:
        posting_id = 999_999
    for url in (f"/tet/postings/{posting_id}", f"/tet/postings/{posting_id}/image"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("path", ["abc", "0", "-1", "99999999999999999999", "1.5", "%F0%9F%98%80"])
def test_a_bad_id_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(f"/tet/postings/{path}").status_code == 404
    assert client.get(f"/tet/postings/{path}/image").status_code == 404


def test_the_back_link_returns_to_the_same_results(client: TestClient, db: Session) -> None:
    for day in range(25):
        make_posting(db, title=f"p{day:02}", start_date=TODAY + timedelta(days=day))
    _, first = get(client, "/tet?q=myym&field=retail")
    nxt = html.unescape(re.findall(r'href="([^"]*)" rel="next"', first)[0]).split("#")[0]
    _, second = get(client, nxt)
    card_href = links(second, "tet-card__link")[0][0]
    status, detail = get(client, card_href)
    assert status == 200
    href, text = back_link(detail)
    assert text.endswith("Back to search results")
    assert href == nxt
    _, again = get(client, href)
    assert titles(again) == titles(second)


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example/tet?q=x",
        "https://evil.example/tet",
        "/admin",
        "/tetx?q=1",
        "/tet/../admin",
        "/\\evil.example",
        "/tet?q=x\nLocation: y",
        "javascript:alert(1)",
        "/tet?" + "x" * 3000,
    ],
)
def test_the_back_link_goes_nowhere_else(client: TestClient, db: Session, back: str) -> None:
    posting = make_posting(db)
    answer = client.get(
        f"/tet/postings/{posting.id}", params={"back": back}, headers={"Accept-Language": "en"}
    )
    status, page = answer.status_code, answer.text
    assert status == 200
    assert back_link(page) == ("/tet", "← Search for TET places")
    assert "evil.example" not in page.split("<main", 1)[1]


def test_the_image_of_a_published_posting(client: TestClient, db: Session, app: FastAPI) -> None:
    posting = make_posting(db, title="Kuvallinen")
    with_image(db, app, posting, photographer="Kim <Kuvaaja>")
    _, page = get(client, f"/tet/postings/{posting.id}")
    src = f"/tet/postings/{posting.id}/image"
    assert f'src="{src}" alt="Picture of the TET place: Kuvallinen" width="8" height="6"' in page
    assert "Photo: Kim &lt;Kuvaaja&gt;" in page
    answer = client.get(src)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.content == png_bytes()
    without = make_posting(db, title="Kuvaton")
    assert client.get(f"/tet/postings/{without.id}/image").status_code == 404
    assert "<img" not in get(client, f"/tet/postings/{without.id}")[1]


def test_the_image_of_a_draft_is_not_public(client: TestClient, db: Session, app: FastAPI) -> None:
    draft = make_posting(db, publish=False)
    with_image(db, app, draft)
    assert client.get(f"/tet/postings/{draft.id}/image").status_code == 404


def test_stored_markup_is_escaped(client: TestClient, db: Session) -> None:
    posting = make_posting(
        db,
        title="<script>alert(1)</script>",
        description="<script>alert(2)</script>\n<a href=javascript:x>link</a>",
        keywords=["<script>alert(3)</script>"],
        contact_name="<b>Eija</b>",
        org_unit="<i>unit</i>",
    )
    _, page = get(client, f"/tet/postings/{posting.id}")
    for number in (1, 2, 3):
        assert f"&lt;script&gt;alert({number})&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "<a href=javascript" not in page
    assert "&lt;b&gt;Eija&lt;/b&gt;" in page
    assert "&lt;i&gt;unit&lt;/i&gt;" in page


def test_the_swedish_page_says_prao(client: TestClient, db: Session) -> None:
    posting = make_posting(db)
    _, page = get(client, f"/tet/postings/{posting.id}?back=/tet", language="sv")
    assert "Antal PRAO-platser" in page
    assert "Tillbaka till sökresultaten" in page
    assert "Handel och försäljning" in page
    assert "TET" not in re.sub(r"<[^>]+>", "", page.split("<main", 1)[1])
