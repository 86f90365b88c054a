"""Glossaries: terms read and fitted to the prompt, a hash that keys the transcript, hotwords on faster-whisper."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import Settings
from archive.errors import InvalidInput
from archive.transcribe import make_transcriber
from archive.transcribe.evaluate import normalize
from archive.transcribe.glossary import (
    HOTWORDS,
    PROMPT,
    TERM_TOKENS,
    Glossary,
    count_tokens,
    fitted,
    parse_terms,
    read_glossary,
)
from tests.factories.media import speech

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def test_terms_one_a_line_without_comments_blanks_or_repeats() -> None:
    text = "# Addison County Board\nAddison  County\n\n  Border Patrol \naddison county\n"
    assert parse_terms(text) == ["Addison County", "Border Patrol"]
    with pytest.raises(InvalidInput, match="terms.txt, line 2: a term is at most 100 characters"):
        parse_terms("ok\n" + "x" * 101, "terms.txt")


def test_the_terms_that_fit_the_prompt_in_order() -> None:
    terms = [f"Townsend Brook Number {i}" for i in range(100)]
    chosen = fitted(terms)
    assert chosen == tuple(terms[: len(chosen)]) and 10 < len(chosen) < 100
    assert count_tokens(Glossary(chosen).text) <= TERM_TOKENS < count_tokens(Glossary(terms).text)
    assert fitted(["x " * 300, "Vergennes"]) == ("Vergennes",)  # a term too long for the prompt is skipped


def test_the_hash_changes_with_the_terms_and_the_mode_only() -> None:
    a = Glossary(("Addison County", "Vergennes"), PROMPT, {"Vergennes": "body's list"})
    assert a.sha256 == Glossary(("Addison County", "Vergennes")).sha256
    assert a.sha256 != Glossary(("Vergennes", "Addison County")).sha256
    assert a.sha256 != Glossary(a.terms, HOTWORDS).sha256
    assert a.record()["sources"] == {"Vergennes": "body's list"} and a.record()["tokens"] == count_tokens(a.text)


def test_a_glossary_file_that_is_too_big_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Vergennes\n" * 7000, encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"glossary {big}: larger than 64 KB"):
        read_glossary(big)


def test_hotwords_need_faster_whisper() -> None:
    with pytest.raises(InvalidInput, match="glossary_mode hotwords needs the faster-whisper engine"):
        Settings.from_env({}, engine="whisper", glossary_mode="hotwords")
    with pytest.raises(InvalidInput, match="glossary_mode 'list' is not one of: prompt, hotwords"):
        Settings.from_env({}, glossary_mode="list")


@pytest.mark.slow
def test_faster_whisper_takes_the_glossary_as_hotwords_and_records_them() -> None:
    transcriber = make_transcriber(Settings(engine="faster-whisper", model="tiny.en", threads=1))
    transcript = transcriber.transcribe(speech("jfk.flac"), glossary=Glossary(("Americans",), HOTWORDS))
    assert normalize(transcript.text) == normalize(JFK)
    assert transcript.guidance["windows"] == [{"start": 0.0, "prompts": {}, "hotwords": "Americans."}]
    assert transcript.guidance["mode"] == "hotwords" and transcript.checks == ()
