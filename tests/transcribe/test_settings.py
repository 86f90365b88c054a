"""TESTIMONY_LANGUAGES and the default model it implies."""

from __future__ import annotations

import dataclasses

import pytest
from whisper.tokenizer import LANGUAGES

from archive.config import WHISPER_LANGUAGE_NAMES, WHISPER_LANGUAGES, Settings, language_name
from archive.errors import InvalidInput


def test_an_english_archive_keeps_the_fast_english_model() -> None:
    settings = Settings.from_env({})
    assert settings.languages == ("en",) and settings.model == "tiny.en"


def test_another_language_makes_the_multilingual_model_the_default() -> None:
    settings = Settings.from_env({"TESTIMONY_LANGUAGES": " en, ES ,es"})
    assert settings.languages == ("en", "es") and settings.model == "base"
    assert Settings.from_env({"TESTIMONY_LANGUAGES": "es"}).model == "base"
    # a model chosen explicitly wins
    assert Settings.from_env({"TESTIMONY_LANGUAGES": "en,es", "TESTIMONY_MODEL": "small"}).model == "small"
    # and the derived default survives a copy with other changes (as background jobs make)
    assert dataclasses.replace(settings, engine="faster-whisper").model == "base"
    assert ("TESTIMONY_LANGUAGES", "en,es") in [(name, value) for name, value, _ in settings.describe()]


def test_the_old_single_language_setting_still_counts() -> None:
    assert Settings.from_env({"TESTIMONY_LANGUAGE": "es"}).languages == ("es",)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TESTIMONY_LANGUAGES": "en,xx"}, "TESTIMONY_LANGUAGES: 'xx' is not a language code Whisper knows"),
        ({"TESTIMONY_LANGUAGES": "english"}, "TESTIMONY_LANGUAGES: 'english' is not a language code Whisper knows"),
        ({"TESTIMONY_LANGUAGES": " , "}, "TESTIMONY_LANGUAGES is empty"),
        (
            {"TESTIMONY_LANGUAGES": "en,es", "TESTIMONY_MODEL": "tiny.en"},
            "TESTIMONY_MODEL tiny.en is English-only but TESTIMONY_LANGUAGES includes es",
        ),
    ],
)
def test_bad_languages_are_refused_by_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Settings.from_env(environ)


def test_the_language_codes_are_whispers() -> None:
    assert tuple(code for code in LANGUAGES if len(code) == 2) == WHISPER_LANGUAGES
    names = tuple(name.title() for code, name in LANGUAGES.items() if len(code) == 2)
    assert names == WHISPER_LANGUAGE_NAMES
    assert (language_name("es"), language_name("xx")) == ("Spanish", "xx")
