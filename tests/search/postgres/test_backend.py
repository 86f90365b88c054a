"""The PostgreSQL backend past its window: it ranks and counts the newest matches only, and says so.

The small archive of conftest.py has three "border patrol" segments: two in the 2024 meeting (at 30 s and 40 s)
and one in the 2023 meeting. A window of two matches leaves the 2023 one out.
"""

from __future__ import annotations

import dataclasses

import pytest

from archive.search import SearchRequest
from archive.search.postgres.backend import PostgresBackend
from tests.factories.search import build_archive, close_archive, settings_for

PHRASE = '"border patrol"'
NEWEST = "2024-02-07-public-comment"


@pytest.fixture
def settings(request, tmp_path):  # type: ignore[no-untyped-def]
    built = build_archive(settings_for(request, tmp_path, "postgres"))
    yield built[0]
    close_archive(built)


def search(settings, window: int, **fields):  # type: ignore[no-untyped-def]
    backend = PostgresBackend(settings.sqlalchemy_url, window=window)
    try:
        return backend.search(SearchRequest(q=PHRASE, **fields))
    finally:
        backend.close()


def test_within_the_window_everything_is_counted(settings) -> None:  # type: ignore[no-untyped-def]
    page = search(settings, window=3)  # exactly as many matches as the window
    assert (page.total, page.total_exact, page.total_text, page.message) == (3, True, "3 results", None)
    assert {f.value: f.count for f in page.facets["year"]} == {"2024": 2, "2023": 1}


def test_past_the_window_the_newest_matches_are_ranked_and_counted(settings) -> None:  # type: ignore[no-untyped-def]
    page = search(settings, window=2)
    assert (page.total, page.total_exact, page.total_text) == (2, False, "more than 2 results")
    assert {hit.meeting_slug for hit in page.hits} == {NEWEST}
    assert len(page.hits) == 2
    # The facets count the same two matches, not the archive's three.
    assert [(f.value, f.count) for f in page.facets["meeting"]] == [(NEWEST, 2)]
    assert [(f.value, f.count) for f in page.facets["year"]] == [("2024", 2)]
    assert page.message == (
        "More than 2 segments match: these are the most relevant of the newest 2, and the counts beside them are"
        " theirs. Add a word or a filter to search all of them."
    )


def test_past_the_window_pages_end_with_it(settings) -> None:  # type: ignore[no-untyped-def]
    first, second, third = (search(settings, window=2, sort="date", per_page=1, page=n) for n in (1, 2, 3))
    assert first.pages == 2 and "these are the newest 2," in (first.message or "")
    assert [hit.start for hit in first.hits + second.hits] == [30.0, 40.0]  # newest meeting, in order
    assert third.hits == []


def test_a_filter_that_narrows_below_the_window_counts_exactly(settings) -> None:  # type: ignore[no-untyped-def]
    page = search(settings, window=2, meeting="2023-05-10-regular-meeting")
    assert (page.total, page.total_exact, page.message) == (1, True, None)


def test_the_api_and_the_page_say_the_total_is_a_lower_bound(settings, app_for) -> None:  # type: ignore[no-untyped-def]
    client = app_for(dataclasses.replace(settings, search_window=2)).test_client()
    answer = client.get("/api/search", query_string={"q": PHRASE}).get_json()
    assert (answer["total"], answer["total_exact"]) == (2, False)
    assert answer["message"].startswith("More than 2 segments match")
    body = client.get("/search", query_string={"q": PHRASE}).get_data(as_text=True)
    assert '<p class="total">More than 2 results ·' in body
    assert "these are the most relevant of the newest 2" in body
    exact = app_for(settings).test_client().get("/api/search", query_string={"q": PHRASE}).get_json()
    assert (exact["total"], exact["total_exact"]) == (3, True)
