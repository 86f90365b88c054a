"""Guidance: the names and places a body's meetings are likely to hold, given to Whisper before it listens.

A glossary is a list of terms ("Addison County", "Border Patrol"). Whisper reads it as the text said before the
audio (its initial prompt, both engines) or, with faster-whisper, as hotwords put before every 30 s it decodes.
Whisper's prompt holds 223 tokens and the end of the earlier text takes up to PROMPT_CHARACTERS of it, so the
terms are chosen in order until TERM_TOKENS are used: whoever builds the list puts the likeliest first.

A prompt can also lead a small model to skip speech (issue 24: tiny.en with a 9-term prompt dropped a whole
testimony); archive.transcribe.guard checks every guided window for that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from archive.errors import InvalidInput, ModelUnavailable

PROMPT = "prompt"
HOTWORDS = "hotwords"
MODES = (PROMPT, HOTWORDS)
PROMPT_TOKENS = 223  # Whisper keeps the last n_text_ctx // 2 - 1 tokens of a prompt
TERM_TOKENS = 160  # the rest is left to the earlier text (archive.transcribe.windows.PROMPT_CHARACTERS)
MAX_TERM_CHARACTERS = 100
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Glossary:
    """The terms given to the model, how, and where they came from (for the transcript's record)."""

    terms: tuple[str, ...]
    mode: str = PROMPT
    sources: dict[str, str] = field(default_factory=dict)  # term → "glossary file", "body list", "person" …

    @property
    def text(self) -> str:
        """The exact text given to the model: the terms, comma-separated, as a sentence."""
        return ", ".join(self.terms) + "." if self.terms else ""

    @property
    def sha256(self) -> str:
        """What a transcript made with this guidance is keyed by (with the recording, engine and model)."""
        data = json.dumps({"mode": self.mode, "text": self.text}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def record(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "terms": list(self.terms),
            "text": self.text,
            "tokens": count_tokens(self.text),
            "sha256": self.sha256,
            "sources": {term: self.sources[term] for term in self.terms if term in self.sources},
        }


def parse_terms(text: str, source: str = "glossary") -> list[str]:
    """Terms from text, one a line; blank lines and lines starting with # are skipped, repeats dropped."""
    terms: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        term = " ".join(line.split())
        if not term or term.startswith("#"):
            continue
        if len(term) > MAX_TERM_CHARACTERS:
            raise InvalidInput(f"{source}, line {number}: a term is at most {MAX_TERM_CHARACTERS} characters")
        if term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    return terms


def read_glossary(path: Path) -> list[str]:
    """The terms of a glossary file (UTF-8, one term a line)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"glossary {path}: larger than {MAX_FILE_BYTES // 1024} KB; keep one term a line")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"glossary {path}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"glossary {path}: not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"glossary {path}: cannot be read ({error.strerror})") from None
    terms = parse_terms(text, f"glossary {path}")
    if not terms:
        raise InvalidInput(f"glossary {path}: no terms (one term a line)")
    return terms


def fitted(terms: list[str] | tuple[str, ...], budget: int = TERM_TOKENS) -> tuple[str, ...]:
    """The terms, in order, that fit in `budget` tokens as the prompt's text; a term that does not fit is
    skipped and shorter ones after it may still go in."""
    chosen: list[str] = []
    for term in terms:
        if count_tokens(", ".join([*chosen, term]) + ".") <= budget:
            chosen.append(term)
    return tuple(chosen)


def count_tokens(text: str) -> int:
    """Whisper's tokens for the text as a prompt (the English and multilingual tokenizers agree within a few)."""
    return len(_tokenizer().encode(" " + text.strip())) if text.strip() else 0


@cache
def _tokenizer() -> Any:
    """Whisper's multilingual tokenizer, built with tiktoken from the vocabulary openai-whisper ships, without
    importing whisper (and PyTorch) into a web process that only shows a vocabulary page."""
    import base64
    import importlib.util

    import tiktoken

    spec = importlib.util.find_spec("whisper")
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        raise ModelUnavailable("openai-whisper is not installed: its tokenizer counts a prompt's tokens")
    lines = (Path(folders[0]) / "assets" / "multilingual.tiktoken").read_text().splitlines()
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in lines if line)}
    return tiktoken.Encoding(name="whisper-multilingual", pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens={})


_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""  # whisper.tokenizer
