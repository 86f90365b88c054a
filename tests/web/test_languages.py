"""The site's language (archive/web/languages.py): Accept-Language by default, the switch remembered in a cookie,
<html lang>, Vary, error pages, and kept pages (archive/web/page_cache.py) never given to a visitor of the other
language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from tests.factories.meetings import Line, add_meeting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SLUG = "2024-02-07-comment"
PAGE = f"/meetings/{SLUG}"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.4"}


@pytest.fixture
def site(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, "Rosa", "public commenter")],
        title="Public comment on policing",
    )
    return app_for(settings)


def html_lang(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))
    assert found, "no <html lang>"
    return found.group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.4", "es"),
        ("es", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,es;q=0.5", "es"),  # French is not offered: Spanish is the browser's next choice
        ("de", "en"),  # neither: English
        ("", "en"),
    ],
)
def test_the_browsers_languages_choose_by_default(site, header: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    response = site.test_client().get("/", headers={"Accept-Language": header} if header else {})
    assert response.status_code == 200
    assert html_lang(response) == expected
    said = response.get_data(as_text=True)
    assert ("Ir al contenido" in said) == (expected == "es")
    assert ("Skip to content" in said) == (expected == "en")
    vary = response.headers["Vary"]
    assert "Accept-Language" in vary and "Cookie" in vary


def test_the_switch_is_on_every_page_and_its_choice_is_remembered(site) -> None:  # type: ignore[no-untyped-def]
    client = site.test_client()
    page = client.get(PAGE).get_data(as_text=True)
    switch = re.search(r'<nav class="languages" aria-label="Language">(.*?)</nav>', page, re.S)
    assert switch, "no language switch"
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)" hreflang="(\w+)"( aria-current="true")?>([^<]+)</a>', switch[1])
    assert [(lang, hreflang, bool(current), name) for _, lang, hreflang, current, name in links] == [
        ("en", "en", True, "English"),
        ("es", "es", False, "Español"),
    ]
    chosen = client.get(links[1][0].replace("&amp;", "&"))
    assert chosen.status_code == 303 and chosen.headers["Location"] == PAGE
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("language=es;") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    # Remembered on every page from now on, whatever the browser says.
    for path in (PAGE, "/", "/search?q=store"):
        response = client.get(path, headers={"Accept-Language": "en-US,en"})
        assert html_lang(response) == "es", path
    back = client.get("/language/en?next=/")
    assert back.headers["Location"] == "/"
    assert html_lang(client.get("/", headers=SPANISH)) == "en"


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example", ""])
def test_the_switch_goes_back_only_to_this_site(site, target: str) -> None:  # type: ignore[no-untyped-def]
    response = site.test_client().get("/language/es", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_language_is_a_404_in_the_visitors_language(site) -> None:  # type: ignore[no-untyped-def]
    response = site.test_client().get("/language/fr", headers=SPANISH)
    assert response.status_code == 404 and "Set-Cookie" not in response.headers
    assert "Este idioma no está disponible aquí." in response.get_data(as_text=True)


def test_a_404_page_in_spanish(site) -> None:  # type: ignore[no-untyped-def]
    client = site.test_client()
    for path in ("/no-such-page", "/meetings/no-such-meeting"):
        response = client.get(path, headers=SPANISH)
        said = response.get_data(as_text=True)
        assert response.status_code == 404 and html_lang(response) == "es", path
        assert "<h1>No encontrado</h1>" in said and "Not found" not in said, path
    assert "No hay nada en esta dirección" in client.get("/no-such-page", headers=SPANISH).get_data(as_text=True)
    # The API answers programs, in English.
    answer = client.get("/api/no-such-thing", headers=SPANISH).get_json()["error"]
    assert answer.startswith("There is nothing at this address"), answer


def write_unseen(settings, sql: str) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(settings.sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


def test_kept_pages_are_kept_per_language(site, settings) -> None:  # type: ignore[no-untyped-def]
    assert "page_cache" in site.extensions
    spanish, english, chosen = site.test_client(), site.test_client(), site.test_client()
    first_es = spanish.get(PAGE, headers=SPANISH)
    first_en = english.get(PAGE, headers={"Accept-Language": "en"})
    assert html_lang(first_es) == "es" and html_lang(first_en) == "en"
    # Both are kept now: a change made behind the archive's back shows in neither, so each came from the store.
    write_unseen(settings, "UPDATE segments SET text = 'Rewritten behind our back'")
    for client, headers, first in ((spanish, SPANISH, first_es), (english, {"Accept-Language": "en"}, first_en)):
        again = client.get(PAGE, headers=headers)
        assert again.get_data() == first.get_data()
        assert "Accept-Language" in again.headers["Vary"] and "Cookie" in again.headers["Vary"]
    # A visitor whose browser asks for English but who chose Spanish gets the Spanish page, and the other way round.
    chosen.get("/language/es?next=/")
    assert chosen.get(PAGE, headers={"Accept-Language": "en"}).get_data() == first_es.get_data()
    chosen.get("/language/en?next=/")
    assert chosen.get(PAGE, headers=SPANISH).get_data() == first_en.get_data()


def test_notices_and_form_errors_from_below_the_web_are_in_spanish(site, settings, sessions) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from archive.locales import long_date
    from archive.privacy.ledger import redact_phrase
    from archive.search.index import index_meeting, open_backend

    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)

    with sessions() as session, session.begin():
        redact_phrase(session, SLUG, "grocery store", reason="asked", requested_by="Rosa", approved_by="Ana", user=None)
    client = site.test_client()
    page = client.get(PAGE, headers=SPANISH).get_data(as_text=True)
    today = long_date(dt.datetime.now(dt.UTC).date(), "es")  # "8 de diciembre de 2026"
    assert f"Una parte se suprimió a petición de quien habló el {today}." in page
    assert "grocery store" not in page
    refused = client.get("/search?q=store&from=yesterday", headers=SPANISH)
    assert refused.status_code == 400
    assert "from debe ser una fecha con el formato AAAA-MM-DD" in refused.get_data(as_text=True)
    nothing = client.get("/search?q=zebra", headers=SPANISH).get_data(as_text=True)
    assert "Ningún testimonio coincide. Pruebe con menos palabras" in nothing and "0 resultados" in nothing
    english = client.get("/search?q=store&from=yesterday", headers={"Accept-Language": "en"})
    assert "from must be a date in the form YYYY-MM-DD" in english.get_data(as_text=True)
    # What the search says about a query, each of its sentences in Spanish.
    notes = client.get('/search?q=colour:red "grocery', headers=SPANISH).get_data(as_text=True)
    assert "Campo desconocido colour: se buscó como palabras" in notes
    assert "Unknown field" not in notes
