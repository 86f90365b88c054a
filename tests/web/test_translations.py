"""The Spanish catalog is complete and current: every string of the public pages, their Python (flash messages,
errors, emails) and their scripts has a Spanish translation that is not fuzzy, the committed catalog holds exactly
what an extraction finds now (`make translations`), and the compiled .mo the site loads is the .po's."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from archive.locales import CATALOGS, LOCALES, Text

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in LOCALES if code != "en"]


def extracted() -> set[str]:
    """The message ids an extraction finds now, as the Makefile's target runs it (babel.cfg, keyword Text)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "Text": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords, directory_filter=_ours
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _ours(path: str) -> bool:
    return not Path(path).name.startswith(".")  # never the virtual environment (.venv) or .git


def catalog(code: str) -> Catalog:
    with open(CATALOGS / code / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=code)


@pytest.fixture(scope="module")
def found() -> set[str]:
    return extracted()


def test_the_public_pages_strings_are_extracted(found) -> None:  # type: ignore[no-untyped-def]
    # A sample from each source: the layout, a public page, a view, a domain error, an email.
    for message in (
        "Skip to content",
        "Send my letter",
        "There is nothing at this address. Check it, or search the archive.",
        "This campaign is closed: it no longer sends letters.",
        "Please confirm your letter: %(title)s",
    ):
        assert message in found


# Words a public template may show as they are, in any language: names, formats and the switch's own languages.
AS_THEY_ARE = {"English", "Español", "JSON", "M4A", "Ogg", "MP3", "×"}


def public_templates() -> list[Path]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, _options = parse_mapping_cfg(config)
    return sorted(
        path
        for pattern, method in method_map
        if method == "jinja2"
        for path in ROOT.glob(pattern.replace("**.html", "**/*.html"))
    )


def untranslated_words(template: str) -> list[str]:
    """Text and readable attributes a template writes without gettext: what would stay English on a Spanish page."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", template, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    found = re.findall(r'\b(?:aria-label|title|placeholder|alt|label)="([^"]*)"', text)
    found += re.findall(r">([^<]+)<", text)
    words = [" ".join(item.split()) for item in found]
    return [word for word in words if re.search(r"[A-Za-z]{2}", word) and word not in AS_THEY_ARE]


def test_no_public_template_writes_words_without_a_translation() -> None:
    templates = public_templates()
    assert len(templates) > 15
    left = {str(path.relative_to(ROOT)): untranslated_words(path.read_text(encoding="utf-8")) for path in templates}
    assert {path: words for path, words in left.items() if words} == {}, "wrap these in _() (docs/translations.md)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_has_a_translation_that_is_not_fuzzy(code: str) -> None:
    untranslated = [message.id for message in catalog(code) if message.id and (message.fuzzy or not _said(message))]
    assert untranslated == [], f"{code}: translate these in messages.po (docs/translations.md)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalog_holds_exactly_what_the_sources_say(code: str, found) -> None:  # type: ignore[no-untyped-def]
    held = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog(code) if message.id}
    assert sorted(found - held) == [], "new strings: run `make translations`, then translate them"
    assert sorted(held - found) == [], "strings no source uses any more: run `make translations`"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalog_is_the_current_one(code: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(code))
    committed = (CATALOGS / code / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert committed == compiled.getvalue(), "messages.mo is older than messages.po: run `make translations`"


def test_placeholders_survive_translation() -> None:
    # A translation that dropped or renamed a %(name)s would fail only when that message is shown.
    for code in TRANSLATED:
        for message in catalog(code):
            if not message.id or message.id == message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            names = set().union(*(set(_placeholders(text)) for text in ids))
            for text in strings:
                assert set(_placeholders(text)) == names, f"{code}: {message.id!r} → {text!r}"


def _said(message) -> bool:  # type: ignore[no-untyped-def]
    """Every form of the message is translated (one string, or each plural form)."""
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def _placeholders(text: str) -> list[str]:
    return re.findall(r"%\((\w+)\)s|\{(\w+)\}", text)


def test_a_text_from_below_the_web_is_english_until_translated() -> None:
    said = Text("There is no such language here.")
    assert said == "There is no such language here."
    assert said.translated("es") == "Este idioma no está disponible aquí."
    assert said.translated("en") == said
