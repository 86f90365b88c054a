"""Citations: every format names the timestamped URL, the access date and the recording's SHA-256, and parses."""

from __future__ import annotations

import datetime as dt
import json

import bibtexparser
import pytest

from archive.excerpts.citations import FORMATS, citations

SHA = "ab" * 32
ACCESSED = dt.date(2025, 3, 14)


def document(**changes: object) -> dict:  # type: ignore[type-arg]
    base = {
        "slug": "k7m2p9qx",
        "title": "Hot mic {100%} & more_",
        "note": None,
        "start": 3721.4,
        "end": 3726.0,
        "quote": "You're here illegally and you're worried about being safe?",
        "parts": [],
        "speakers": [{"label": "SPEAKER_01", "name": "Deputy Dan", "role": "member", "person_id": 5}],
        "meeting": {
            "slug": "2024-02-07-council",
            "title": "Regular meeting",
            "date": "2024-02-07",
            "body": "Vermont Criminal Justice Council",
            "source_url": None,
        },
        "recording": {"sha256": SHA, "offset": 0.0, "has_video": False},
        "verified": None,
        "created_at": None,
        "url": "/excerpts/k7m2p9qx",
        "context_url": "/meetings/2024-02-07-council?t=3721",
    }
    base.update(changes)
    return base


def cite(doc: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return citations(doc, base_url="https://archive.example.org/", site_name="Testimony Archive", accessed=ACCESSED)


def test_every_format_has_the_timestamped_url_the_access_date_and_the_hash() -> None:
    made = cite(document())
    assert set(made) == set(FORMATS)
    for name, text in made.items():
        assert "https://archive.example.org/meetings/2024-02-07-council?t=3721" in text
        assert SHA in text
        if name != "csl-json":  # there as date-parts, below
            assert "2025-03-14" in text or "March 14, 2025" in text
        assert "Machine transcript, not yet verified" in text
    assert made["plain"].startswith("Deputy Dan, “You're here illegally")
    assert "1:02:01–1:02:06" in made["plain"]
    assert made["chicago"].startswith("Deputy Dan. “Hot mic {100%} & more_.” Remarks at Regular meeting")
    assert "February 7, 2024" in made["chicago"] and "Accessed March 14, 2025." in made["chicago"]


def test_a_verified_excerpt_says_who_verified_it_and_when() -> None:
    made = cite(document(verified={"by": "Curator Kim", "at": "2025-01-02T10:00:00+00:00"}))
    for text in made.values():
        assert "Verified against the recording by Curator Kim on January 2, 2025" in text
        assert "not yet verified" not in text


def test_csl_json_parses_as_one_speech() -> None:
    (item,) = json.loads(cite(document())["csl-json"])
    assert item["type"] == "speech"
    assert item["id"] == "excerpt-k7m2p9qx"
    assert item["author"] == [{"literal": "Deputy Dan"}]
    assert item["issued"] == {"date-parts": [[2024, 2, 7]]}
    assert item["accessed"] == {"date-parts": [[2025, 3, 14]]}
    assert item["URL"] == "https://archive.example.org/meetings/2024-02-07-council?t=3721"
    assert SHA in item["note"]


def _balanced(text: str) -> bool:
    depth = 0
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


@pytest.mark.parametrize("title", ["Hot mic {100%} & more_", "Unbalanced } brace { and \\ backslash", "$5 # ~ ^ caret"])
def test_bibtex_parses_with_special_characters_escaped(title: str) -> None:
    text = cite(document(title=title))["bibtex"]
    assert _balanced(text)
    entries = bibtexparser.loads(text).entries
    assert len(entries) == 1
    entry = entries[0]
    assert entry["ENTRYTYPE"] == "misc" and entry["ID"] == "excerpt-k7m2p9qx"
    assert entry["author"] == "{Deputy Dan}"
    assert entry["url"] == "https://archive.example.org/meetings/2024-02-07-council?t=3721"
    assert entry["urldate"] == "2025-03-14" and entry["year"] == "2024"
    assert SHA in entry["note"]
    for field in ("title", "howpublished", "note"):
        assert _balanced(entry[field])


def test_unidentified_voices_are_not_named_by_their_label() -> None:
    made = cite(document(speakers=[{"label": "SPEAKER_03", "name": None, "role": None, "person_id": None}]))
    assert all("SPEAKER_03" not in text for text in made.values())
    assert made["plain"].startswith("Unidentified speaker, “")
    assert made["chicago"].startswith("“Hot mic")
    assert "author" not in json.loads(made["csl-json"])[0]
    assert "author =" not in made["bibtex"]


def test_several_speakers_are_all_named() -> None:
    speakers = [
        {"label": f"SPEAKER_0{i}", "name": name, "role": None, "person_id": i}
        for i, name in enumerate(["Rosa", "Deputy Dan", "Chair Lee"])
    ]
    made = cite(document(speakers=speakers))
    assert made["plain"].startswith("Rosa, Deputy Dan, and Chair Lee, “")
    assert "author = {{Rosa} and {Deputy Dan} and {Chair Lee}}" in made["bibtex"]
