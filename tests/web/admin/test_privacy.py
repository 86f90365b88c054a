"""The privacy admin pages on both databases: forms with CSRF, clear errors that keep what was typed, the ledger
page, lifting, purging with a typed slug, and the tombstone the public then sees."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from archive.db.models import AuditEvent, Redaction
from archive.search.index import index_meeting, open_backend
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.meetings import Line, add_meeting

SLUG = "2026-11-03-hearing"
WHO = {"reason": "asked by email", "requested_by": "the testifier", "approved_by": "editor@example.org"}
PAGE = f"/admin/meetings/{SLUG}/privacy"


@pytest.fixture
def app(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("The chair calls the hearing to order.", 0.0, 4.0, speaker="Ruth Amsel", role="chair"),
            Line("My neighbour Zyxwhistle Quorran was detained.", 4.0, 9.0, speaker="Marisol Vantablack"),
        ],
    )
    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)
    return app_for(settings)


@pytest.fixture
def curator(app, sessions):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, sessions, "curator")
    return client


def post(client, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, PAGE)})


def test_only_curators_open_the_pages(app, sessions) -> None:  # type: ignore[no-untyped-def]
    anonymous = app.test_client()
    assert anonymous.get("/admin/privacy").status_code == 302
    organizer = app.test_client()
    sign_in(organizer, sessions, "organizer")
    assert organizer.get(PAGE).status_code == 403
    assert organizer.post(f"{PAGE}/phrase", data={"phrase": "x", **WHO}).status_code in (400, 403)


def test_a_consent_change_by_form_shows_at_once_and_is_in_the_ledger(app, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    html = curator.get(PAGE).get_data(as_text=True)
    assert "Marisol Vantablack" in html and 'name="csrf_token"' in html  # curators see who the voice is
    response = post(curator, f"{PAGE}/consent", {"label": "SPEAKER_01", "consent": "name-withheld", **WHO})
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    public = app.test_client().get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "Public commenter 1" in public and "Vantablack" not in public
    assert "name is withheld at the speaker&#39;s request on" in public
    ledger = curator.get("/admin/privacy?scope=consent").get_data(as_text=True)
    assert "Privacy: consent and redactions" in ledger
    assert "consent: name-withheld" in ledger and "the testifier" in ledger and "editor@example.org" in ledger
    with sessions() as session:
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "consent-change")) == 1


def test_without_the_csrf_token_nothing_changes(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    response = curator.post(f"{PAGE}/phrase", data={"phrase": "Quorran", **WHO})
    assert response.status_code == 400
    with sessions() as session:
        assert session.scalar(select(func.count(Redaction.id))) == 0


@pytest.mark.parametrize(
    ("form", "data", "message"),
    [
        ("range", {"start": "0:09", "end": "0:04", **WHO}, "start, end: the range must end after it starts"),
        ("range", {"start": "soon", "end": "0:04", **WHO}, "start: "),
        ("phrase", {"phrase": "Zyxwhistle", **WHO, "requested_by": ""}, "requested by: say who"),
        ("consent", {"label": "SPEAKER_01", "consent": "hidden", **WHO}, "consent must be one of"),
    ],
)
def test_a_bad_form_names_the_field_and_keeps_what_was_typed(curator, sessions, form, data, message) -> None:  # type: ignore[no-untyped-def]
    response = post(curator, f"{PAGE}/{form}", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html.replace("&#39;", "'")
    assert 'value="asked by email"' in html  # the reason as typed, not lost
    with sessions() as session:
        assert session.scalar(select(func.count(Redaction.id))) == 0


def test_a_phrase_redaction_is_lifted_by_form(app, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    assert post(curator, f"{PAGE}/phrase", {"phrase": "zyxwhistle quorran", **WHO}).status_code == 303
    public = app.test_client()
    assert "[redacted]" in public.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert public.get("/api/search?q=zyxwhistle").get_json()["total"] == 0
    with sessions() as session:
        redaction = session.scalars(select(Redaction)).one().id
    response = post(curator, f"/admin/privacy/{redaction}/lift", {"meeting": SLUG, "reason": "withdrawn"})
    assert response.status_code == 303
    assert "Zyxwhistle Quorran" in public.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert public.get("/api/search?q=zyxwhistle").get_json()["total"] == 1
    html = curator.get("/admin/privacy").get_data(as_text=True)
    assert re.search(rf"lift of #{redaction}", html) and "lifted" in html
    again = post(curator, f"/admin/privacy/{redaction}/lift", {"meeting": SLUG, "reason": "again"})
    assert again.status_code == 400 and "already lifted" in again.get_data(as_text=True)


def test_a_purge_needs_the_typed_slug_and_leaves_a_tombstone(app, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    wrong = post(curator, f"{PAGE}/purge", {"confirm": "yes", **WHO})
    assert wrong.status_code == 400
    assert f"confirm: type the meeting&#39;s slug ({SLUG})" in wrong.get_data(as_text=True)
    assert post(curator, f"{PAGE}/purge", {"confirm": SLUG, **WHO}).status_code == 303
    public = app.test_client()
    page = public.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "Removed at a speaker&#39;s request" in page and "removed at a speaker&#39;s request on" in page
    assert "detained" not in page and "Vantablack" not in page and "Ruth Amsel" not in page
    assert public.get(f"/api/meetings/{SLUG}").get_json()["segments"] == []
    assert public.get("/api/search?q=detained").get_json()["total"] == 0
    with sessions() as session:
        assert session.scalars(select(AuditEvent.action)).all()[-1] == "meeting-purge"


def test_a_withheld_name_said_aloud_is_redacted_with_one_click(app, curator, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    slug = "2026-11-04-comment"
    add_meeting(
        sessions,
        slug,
        [
            Line("My name is Carlos Mendez and I milk cows in Addison.", 0.0, 5.0, speaker="Carlos Mendez"),
            Line("Thank you, Carlos.", 5.0, 7.0, speaker="Ruth Amsel", role="chair"),
        ],
    )
    page = f"/admin/meetings/{slug}/privacy"
    token = csrf_token(curator, page)
    consent = {"label": "SPEAKER_00", "consent": "name-withheld", **WHO, "csrf_token": token}
    assert curator.post(f"{page}/consent", data=consent).status_code == 303
    html = curator.get(page).get_data(as_text=True)
    offers = re.findall(r'name="phrase" value="([^"]+)"', html.split('id="spoken"', 1)[1].split("</section>")[0])
    assert offers == ["Carlos Mendez", "Carlos", "Mendez"]
    # One click: the offer's own form, as the page wrote it (its hidden reason, requester and approver).
    form = html.split('id="spoken"', 1)[1].split("</form>")[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields["approved_by"] and fields["reason"].startswith("the name of SPEAKER_00 is withheld")
    assert curator.post(f"{page}/phrase", data=fields).status_code == 303
    left = re.findall(
        r'name="phrase" value="([^"]+)"', curator.get(page).get_data(as_text=True).split('id="phrase"')[0]
    )
    assert left == ["Carlos"]  # "Thank you, Carlos." still says it: offered next
    public = app.test_client().get(f"/meetings/{slug}").get_data(as_text=True)
    assert "Mendez" not in public and "My name is [redacted]" in public
    with sessions() as session:
        assert session.scalars(select(Redaction.phrase).where(Redaction.scope == "phrase")).all() == ["Carlos Mendez"]
