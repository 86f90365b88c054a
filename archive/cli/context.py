"""What every command shares: domain errors as one line on stderr, the settings and sessions of the home,
the engine options, model loading with a word on stderr, dates, and the progress bar."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archive.config import ENGINES, Settings
from archive.errors import ArchiveError, InvalidInput
from archive.transcribe.glossary import Glossary, fitted, read_glossary


class ArchiveGroup(click.Group):
    """Turns domain errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as error:
            click.echo(f"testimony: error: {error}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("testimony: interrupted; the archive is unchanged by the unfinished step", err=True)
            ctx.exit(130)


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    return Settings.from_env(home=ctx.obj["home"], **overrides)


def sessions_for(ctx: click.Context, settings: Settings, *, create: bool = False) -> Any:
    """The home's sessionmaker (created and migrated when `create`), its engine closed with the command."""
    from archive.home import init_home, open_home

    sessions = init_home(settings) if create else open_home(settings)
    ctx.call_on_close(sessions.kw["bind"].dispose)
    return sessions


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--engine", type=click.Choice(ENGINES), help="Speech engine (default: whisper)."),
            click.option("--model", help="Model name, e.g. tiny.en (default)."),
            click.option("--model-path", help="A local model: .pt checkpoint (whisper) or CTranslate2 folder."),
            click.option(
                "--languages",
                help="The languages spoken, comma-separated ISO 639-1 codes (en,es); each stretch of speech is"
                " transcribed in the one heard (default: TESTIMONY_LANGUAGES). Not English alone: the multilingual"
                " model by default.",
            ),
            click.option("--language", help="One spoken language code (superseded by --languages)."),
            click.option("--threads", type=click.IntRange(min=1), help="CPU threads for the engine (default 1)."),
        ]
    ):
        command = option(command)
    return command


def glossary_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--glossary",
        "glossary_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A file of terms, one a line (names, places, agencies), to guide the model for this run instead of the"
        " body's vocabulary; guided runs use TESTIMONY_GUIDED_MODEL (base) unless --model names one.",
    )(command)


def guided_settings(ctx: click.Context, engine: dict[str, Any], glossary: Glossary | None) -> Settings:
    """The settings of a run: a guided one takes TESTIMONY_GUIDED_MODEL unless --model or TESTIMONY_MODEL names one."""
    settings = settings_from(ctx, **engine)
    named = engine.get("model") or engine.get("model_path") or os.environ.get("TESTIMONY_MODEL")
    if glossary is None or named or not settings.guided_model or settings.model == settings.guided_model:
        return settings
    return settings_from(ctx, **(engine | {"model": settings.guided_model}))


def glossary_for(
    ctx: click.Context, settings: Settings, glossary_file: Path | None, *, body: str = "", slug: str = ""
) -> Glossary | None:
    """A --glossary file's terms, or else the vocabulary of the meeting's body (None: an unguided run)."""
    if glossary_file is not None:
        terms = fitted(read_glossary(glossary_file))
        return Glossary(terms, settings.glossary_mode, dict.fromkeys(terms, "glossary file"))
    if not body and not slug:
        return None
    from archive.curation.vocabulary import body_glossary, meeting_glossary

    with sessions_for(ctx, settings, create=bool(body))() as session:
        if body:
            return body_glossary(session, body, settings.glossary_mode)
        return meeting_glossary(session, slug, settings.glossary_mode)


def load_transcriber(settings: Settings) -> Any:
    from archive.transcribe import make_transcriber

    say(f"loading {settings.engine} model {settings.model} …")
    return make_transcriber(settings)


def load_diarizer(settings: Settings) -> Any:
    from archive.speakers.diarize import Diarizer

    say("loading the speaker models (pyannote segmentation-3.0, CAM++) …")
    return Diarizer(threads=settings.threads)


def parse_date(text: str, option: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date in the form YYYY-MM-DD") from None


def say(message: str) -> None:
    click.echo(message, err=True)


class progress_bar:  # noqa: N801 - used as `with progress_bar() as on_progress`
    """A terminal progress bar (seconds of audio, elapsed, ETA) on stderr, fed by the engines; or bytes copied."""

    def __init__(self, unit: str = "s audio") -> None:
        self.unit = unit

    def __enter__(self) -> Callable[[float, float], None]:
        from tqdm import tqdm

        self.bar: Any = None

        def update(done: float, total: float) -> None:
            if self.bar is not None and self.bar.total != round(total, 1):  # the next recording
                self.bar.close()
                self.bar = None
            if self.bar is None:
                self.bar = tqdm(
                    total=round(total, 1),
                    unit=self.unit,
                    unit_scale=self.unit == "B",
                    file=sys.stderr,
                    dynamic_ncols=True,
                    leave=True,
                )
            self.bar.update(round(done, 1) - self.bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
