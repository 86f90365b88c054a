"""Speech to text: two engines behind one Transcriber protocol, models resolved offline first."""

from __future__ import annotations

from archive.config import Settings
from archive.transcribe.transcript import Transcriber


def make_transcriber(settings: Settings) -> Transcriber:
    """Load the configured engine and model (once per process; see models.py)."""
    common = dict(
        model_path=settings.model_path or None,
        cache_dir=settings.cache_dir,
        languages=settings.languages,
        threads=settings.threads,
        beam_size=settings.beam_size,
        window_seconds=settings.window_seconds,
    )
    if settings.engine == "faster-whisper":
        from archive.transcribe.faster_whisper import FasterWhisperTranscriber

        return FasterWhisperTranscriber(settings.model, **common)  # type: ignore[arg-type]
    from archive.transcribe.whisper import WhisperTranscriber

    return WhisperTranscriber(settings.model, **common)  # type: ignore[arg-type]
