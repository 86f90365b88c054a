"""Spanish testimony searched as Spanish on every backend: stems, folded accents, a language facet and filter."""

from __future__ import annotations

import datetime as dt

from archive.search import SearchRequest
from archive.search.index import index_meeting
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-03-06-interpreted-testimony"
LINES = [
    Line("Trabajo doce horas en la granja.", 10.0, 14.0, "Rosa", "public commenter", "testimony", language="es"),
    Line(
        "Los trabajadores tienen miedo de la policía.",
        15.0,
        19.0,
        "Rosa",
        "public commenter",
        "testimony",
        language="es",
    ),
    Line("The workers are afraid of the police.", 20.0, 24.0, "Ana", "interpreter", "testimony"),
    Line(
        "Cuidamos las vacas a las tres de la mañana.",
        25.0,
        29.0,
        "Rosa",
        "public commenter",
        "testimony",
        language="es",
    ),
]


def spanish_archive(archive):  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    add_meeting(sessions, SLUG, LINES, title="Testimony in Spanish", date=dt.date(2024, 3, 6))
    with sessions() as session:
        index_meeting(backend, session, SLUG)
    return backend


def find(backend, q: str, **filters):  # type: ignore[no-untyped-def]
    return backend.search(SearchRequest(q=q, **filters))


def test_spanish_words_match_their_spanish_stems_and_folded_accents(archive) -> None:  # type: ignore[no-untyped-def]
    backend = spanish_archive(archive)
    found = find(backend, "trabajar")  # the infinitive finds "trabajo" and "trabajadores"
    assert sorted(hit.start for hit in found.hits) == [10.0, 15.0]
    assert all(hit.language == "es" for hit in found.hits)
    assert "<mark>Trabajo</mark>" in next(h.highlight for h in found.hits if h.start == 10.0)
    policia = find(backend, "policia")  # without its accent
    assert [(hit.start, hit.language) for hit in policia.hits] == [(15.0, "es")]
    assert "<mark>policía</mark>" in policia.hits[0].highlight
    assert find(backend, '"doce horas"').total == 1  # a Spanish phrase
    english = find(backend, "police")  # English as before: the interpreter's line and the older meeting's two
    assert english.total == 3 and {hit.language for hit in english.hits} == {"en"}


def test_a_language_facet_and_filter(archive) -> None:  # type: ignore[no-untyped-def]
    backend = spanish_archive(archive)
    page = find(backend, "", meeting=SLUG)
    assert {f.value: f.count for f in page.facets["language"]} == {"es": 3, "en": 1}
    assert [hit.start for hit in find(backend, "lang:en", meeting=SLUG).hits] == [20.0]
    assert find(backend, "lang:es miedo").total == 1
    assert find(backend, "miedo OR afraid", language="en").total == 1
    assert find(backend, "-lang:es", meeting=SLUG).total == 1
    json_hit = find(backend, "vacas").to_json()["results"][0]
    assert (json_hit["language"], json_hit["start"]) == ("es", 25.0)
