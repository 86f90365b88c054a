"""Search behaviour, the same on every backend: phrases, fields, dates, facets, highlights, paging."""

from __future__ import annotations

import datetime as dt

from archive.search import SearchRequest
from archive.search.index import index_meeting
from tests.factories.search import ANONYMOUS_NAME, XSS_NAME

COMMENT = "2024-02-07-public-comment"


def find(backend, q: str = "", **filters):  # type: ignore[no-untyped-def]
    return backend.search(SearchRequest(q=q, **filters))


def texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.text for hit in page.hits]


def test_a_phrase_finds_the_hot_mic_remark_at_its_second(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    page = find(backend, '"here illegally"')
    assert page.total == 1
    hit = page.hits[0]
    assert (hit.meeting_slug, hit.start, hit.end, hit.speaker_name, hit.kind) == (
        COMMENT,
        3721.4,
        3726.0,
        "Deputy Dan",
        "remark",
    )
    assert hit.url == f"/meetings/{COMMENT}?t=3721#s{hit.segment_id}"  # the line itself
    assert "<mark>here</mark> <mark>illegally</mark>" in hit.highlight
    # The words in another order are not the phrase.
    assert find(backend, '"illegally here"').total == 0


def test_words_must_all_match_and_stems_match(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    assert texts(find(backend, "grocery driving")) == [
        "I want to feel safe driving to the grocery store with my children."
    ]
    assert find(backend, "drive").total == 1  # "driving", stemmed
    assert find(backend, "grocery zebra").total == 0


def test_or_exclusion_and_prefix(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    assert find(backend, "grocery OR adjourned").total == 2
    assert find(backend, '"border patrol"').total == 3
    assert find(backend, '"border patrol" -checkpoint').total == 2
    assert find(backend, '"border patrol" NOT checkpoint').total == 2
    assert find(backend, "groc*").total == 1
    assert find(backend, "tag:hot-mic").total == 1


def test_field_filters_in_the_query_string(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    assert {h.start for h in find(backend, '"border patrol" speaker:deputy').hits} == {61.0}
    assert find(backend, "safe kind:remark").hits[0].start == 3721.4
    assert find(backend, f"policy meeting:{COMMENT}").total == 2
    assert {h.meeting_slug for h in find(backend, '"border patrol" date:2023').hits} == {"2023-05-10-regular-meeting"}


def test_filters_from_parameters(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    by_speaker = find(backend, "border", speaker="Deputy Dan")
    assert {h.start for h in by_speaker.hits} == {61.0} and by_speaker.total == 1
    by_kind = find(backend, "border", kind="testimony")
    assert {h.start for h in by_kind.hits} == {30.0} and by_kind.total == 1
    assert find(backend, "border", meeting="2023-05-10-regular-meeting").total == 1
    recent = find(backend, '"border patrol"', date_from=dt.date(2024, 1, 1))
    assert {h.meeting_slug for h in recent.hits} == {COMMENT} and recent.total == 2
    older = find(backend, "", date_to=dt.date(2023, 12, 31))  # filters alone browse, newest first
    assert [h.meeting_slug for h in older.hits] == ["2023-05-10-regular-meeting"] * 2 + ["2022-11-01-annual-meeting"]
    # A filter value is a value, never query syntax.
    assert find(backend, "border", speaker='Deputy Dan" OR "x').total == 0


def test_accents_fold(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    assert find(backend, "jose cafe").total == 1
    assert find(backend, "José café").total == 1


def test_facets_count_every_match_not_just_the_page(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    page = find(backend, "border", per_page=1)
    assert page.total == 3 and len(page.hits) == 1
    facets = {name: {f.value: f.count for f in counts} for name, counts in page.facets.items()}
    assert facets["speaker"] == {"Deputy Dan": 1, "Rosa": 1, XSS_NAME: 1}
    assert facets["kind"] == {"deliberation": 2, "testimony": 1}
    assert facets["meeting"] == {COMMENT: 2, "2023-05-10-regular-meeting": 1}
    assert facets["year"] == {"2024": 2, "2023": 1}


def test_pages_and_date_order(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    first = find(backend, "comment OR border OR council", per_page=2, sort="date")
    second = find(backend, "comment OR border OR council", per_page=2, page=2, sort="date")
    third = find(backend, "comment OR border OR council", per_page=2, page=3, sort="date")
    assert first.total == 6 and first.pages == 3
    dates = [h.meeting_date for h in first.hits + second.hits + third.hits]
    assert dates == sorted(dates, reverse=True)
    assert len({h.segment_id for h in first.hits + second.hits + third.hits}) == 6
    beyond = find(backend, "border", page=50)
    assert beyond.total == 3 and beyond.hits == []


def test_transcript_html_comes_back_escaped(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    hit = find(backend, "alert").hits[0]
    assert "<script>" not in hit.highlight
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in hit.highlight.replace(" ", "")
    assert hit.text.startswith("<script>")  # the raw text is data; templates and clients escape it
    assert hit.speaker_name == XSS_NAME
    assert "&amp;" in hit.highlight


def test_incremental_update_after_an_edit(archive) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    from sqlalchemy import select

    from archive.db.models import Segment

    with sessions() as session, session.begin():
        segment = session.scalar(select(Segment).where(Segment.start == 20.0))
        segment.text = "I want to feel safe driving to the supermarket."
    with sessions() as session:
        index_meeting(backend, session, COMMENT)
    assert find(backend, "supermarket").total == 1
    assert find(backend, "grocery").total == 0
    assert find(backend, "border").total == 3  # the rest of the meeting is still there


def test_an_empty_query_without_filters_asks_for_words(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    page = find(backend, "   ")
    assert page.total == 0 and page.hits == []
    assert page.message and "Type a word" in page.message


def test_no_results_suggest_what_to_try(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    page = find(backend, "zebra")
    assert page.total == 0
    assert "fewer words" in page.message


# --- speakers are people ----------------------------------------------------------------------------------


def person_id(sessions, name: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from archive.db.models import Person

    with sessions() as session:
        return session.scalar(select(Person.id).where(Person.name == name))


def test_a_speaker_is_the_person_across_meetings(archive) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    page = find(backend, "comment")  # the chair opens public comment in 2024 and closes it in 2023
    assert page.total == 2
    chair = person_id(sessions, "Chair Anne")
    assert {(h.meeting_slug, h.speaker_id, h.speaker_name, h.speaker_role) for h in page.hits} == {
        (COMMENT, chair, "Chair Anne", "chair"),
        ("2023-05-10-regular-meeting", chair, "Chair Anne", "chair"),
    }
    # Two voices (one per meeting), one person: one facet value counting both.
    facets = {f.value: f.count for f in page.facets["speaker"]}
    assert facets == {"Chair Anne": 2}
    assert {f.value: f.count for f in find(backend, '"border patrol" OR comment').facets["speaker"]} == {
        "Chair Anne": 2,
        "Deputy Dan": 1,
        "Rosa": 1,
        XSS_NAME: 1,
    }


def test_the_speaker_filter_and_fields_match_the_person(archive) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    chair = find(backend, "", speaker="Chair Anne")  # a filter alone: everything the person said, newest first
    assert [h.start for h in chair.hits] == [10.0, 3800.0, 70.0] and chair.total == 3
    assert {h.speaker_id for h in chair.hits} == {person_id(sessions, "Chair Anne")}
    assert find(backend, "comment", speaker="Chair Anne").total == 2
    assert find(backend, "comment", speaker="Rosa").total == 0
    assert find(backend, "speaker:anne").total == 3
    assert find(backend, 'speaker:"chair anne" closed').total == 1
    assert {h.start for h in find(backend, "role:chair").hits} == {10.0, 3800.0, 70.0}
    assert find(backend, "border", speaker="Dan").total == 0  # the filter is the exact name


def test_an_anonymous_person_is_found_only_by_role(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    hit = find(backend, "apples").hits[0]
    assert (hit.speaker_name, hit.speaker_role, hit.kind) == ("farmworker", "farmworker", "testimony")
    assert hit.speaker_id is not None  # their page exists, under the role
    assert find(backend, "speaker:farmworker").total == 1
    assert find(backend, "", speaker="farmworker").total == 1
    assert {f.value: f.count for f in find(backend, "apples").facets["speaker"]} == {"farmworker": 1}
    for query in ("quintanilla", "maria", "speaker:quintanilla", "speaker:maria", '"Maria Quintanilla"'):
        assert find(backend, query).total == 0, query
    assert find(backend, "", speaker=ANONYMOUS_NAME).total == 0
    assert find(backend, "apples", speaker=ANONYMOUS_NAME).total == 0


def test_a_voice_nobody_identified_keeps_its_label(archive) -> None:  # type: ignore[no-untyped-def]
    _, _, backend = archive
    page = find(backend, "minutes approved")
    hit = page.hits[0]
    assert (hit.speaker_id, hit.speaker_name, hit.speaker_role) == (None, None, None)
    assert hit.speaker_label is not None and hit.speaker_label.startswith("SPEAKER_")
    assert page.facets["speaker"] == []  # facets name people only
    assert find(backend, "apples").hits[0].speaker_label.startswith("SPEAKER_")
    # A segment without any diarized voice has no label either.
    assert find(backend, "adjourned").hits[0].speaker_label is None


def test_postgres_searches_without_jit(request, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """JIT compiled the search statement for ~1 s (its cost estimate is inflated by rarely-run subqueries)."""
    from sqlalchemy import text

    from tests.factories.search import build_archive, close_archive, settings_for

    built = build_archive(settings_for(request, tmp_path, "postgres"))
    try:
        backend = built[2]
        assert backend.search(SearchRequest(q="grocery")).total >= 1
        with backend.engine.connect() as connection:
            assert connection.scalar(text("SHOW jit")) == "off"
    finally:
        close_archive(built)
