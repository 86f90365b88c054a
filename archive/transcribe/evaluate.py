"""Word error rate after Whisper's English normaliser, as the quality targets are stated."""

from __future__ import annotations

from pathlib import Path


def normalize(text: str) -> str:
    from whisper.normalizers import EnglishTextNormalizer

    return " ".join(EnglishTextNormalizer()(text).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    truth, guess = normalize(reference), normalize(hypothesis)
    if not truth:
        return 0.0 if not guess else 1.0
    return float(jiwer.wer(truth, guess or "<empty>"))


def reference_text(stm: Path) -> str:
    """The words of an STM file (`uri channel speaker start end text…`), in time order."""
    rows = []
    for line in stm.read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and not line.startswith(";;"):
            rows.append((float(parts[3]), parts[5]))
    return " ".join(text for _, text in sorted(rows))
