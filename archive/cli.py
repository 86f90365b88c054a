"""The `testimony` command: each subcommand a thin call into the layers below."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archive import __version__
from archive.config import ENGINES, Settings
from archive.db.models import ATTRIBUTION_METHODS, CONSENT_LEVELS, SEGMENT_KINDS
from archive.errors import ArchiveError, InvalidInput
from archive.timecodes import format_clock, parse_clock

DEMO_DIR = Path(__file__).resolve().parents[1] / "media" / "demo"


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


@click.group(cls=ArchiveGroup)
@click.version_option(__version__, prog_name="testimony")
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), help="Archive home (default: TESTIMONY_HOME or .)."
)
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Testimony Archive: transcribe, index and publish public-meeting testimony."""
    ctx.obj = {"home": home}


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    return Settings.from_env(home=ctx.obj["home"], **overrides)


def sessions_for(ctx: click.Context, settings: Settings, *, create: bool = False) -> Any:
    """The home's sessionmaker (created and migrated when `create`), its engine closed with the command."""
    from archive.home import init_home, open_home

    sessions = init_home(settings) if create else open_home(settings)
    ctx.call_on_close(sessions.kw["bind"].dispose)
    return sessions


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the home's folders and database (runs migrations)."""
    settings = settings_from(ctx)
    sessions_for(ctx, settings, create=True)
    click.echo(f"archive ready in {settings.home.resolve()}")


@main.command()
@click.pass_context
def config(ctx: click.Context) -> None:
    """Print every setting, its value (secrets masked) and what it does."""
    for variable, value, help_text in settings_from(ctx).describe():
        click.echo(f"{variable}={value}\n    {help_text}")


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--engine", type=click.Choice(ENGINES), help="Speech engine (default: whisper)."),
            click.option("--model", help="Model name, e.g. tiny.en (default)."),
            click.option("--model-path", help="A local model: .pt checkpoint (whisper) or CTranslate2 folder."),
            click.option("--language", help="Spoken language code; default: detect (English-only models: en)."),
            click.option("--threads", type=click.IntRange(min=1), help="CPU threads for the engine (default 1)."),
        ]
    ):
        command = option(command)
    return command


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--body", required=True, help="The public body, e.g. 'Vermont Criminal Justice Council'.")
@click.option("--title", required=True, help="The meeting's title.")
@click.option("--date", "date_text", required=True, help="The meeting's date, YYYY-MM-DD.")
@click.option("--source-url", help="Where the recording was published.")
@click.option("--no-transcribe", is_flag=True, help="Store the recordings only.")
@click.option("--no-diarize", is_flag=True, help="Transcribe without finding the speakers.")
@click.option(
    "--background", is_flag=True, help="Store now; queue the transcription for `testimony worker` (prints the job)."
)
@engine_options
@click.pass_context
def ingest(
    ctx: click.Context,
    files: tuple[Path, ...],
    body: str,
    title: str,
    date_text: str,
    source_url: str | None,
    no_transcribe: bool,
    no_diarize: bool,
    background: bool,
    **engine: Any,
) -> None:
    """Store recordings as one meeting (idempotent by hash), transcribe them and find who speaks when;
    prints the meeting's slug last."""
    from archive.ingest.pipeline import MeetingInfo
    from archive.ingest.pipeline import ingest as run_ingest

    settings = settings_from(ctx, **engine)
    info = MeetingInfo(body=body, title=title, date=_parse_date(date_text), source_url=source_url)
    if background and no_transcribe:
        raise InvalidInput("--background queues the transcription: it cannot go with --no-transcribe")
    load = None if (no_transcribe or background) else (lambda: _load_transcriber(settings))
    load_diarizer = None if no_diarize else (lambda: _load_diarizer(settings))
    sessions = sessions_for(ctx, settings, create=True)
    with _progress_bar() as on_progress:
        result = run_ingest(
            sessions,
            settings,
            list(files),
            info,
            load_transcriber=load,
            load_diarizer=load_diarizer,
            report=_say,
            on_progress=on_progress,
        )
    if background:
        from archive.worker.jobs import submit_transcription

        job, _ = submit_transcription(sessions, settings, result.slug, diarize=not no_diarize, created_by="cli")
        _say(f"queued job {job.id}: `testimony worker` transcribes it; `testimony jobs list` shows its progress")
    click.echo(result.slug)


@main.command()
@click.argument("slug")
@engine_options
@click.pass_context
def transcribe(ctx: click.Context, slug: str, **engine: Any) -> None:
    """(Re)transcribe a meeting's recordings with the given engine and model."""
    from archive.ingest.pipeline import transcribe_meeting

    settings = settings_from(ctx, **engine)
    sessions = sessions_for(ctx, settings)
    transcriber = _load_transcriber(settings)
    with _progress_bar() as on_progress:
        transcribe_meeting(sessions, settings, slug, transcriber, report=_say, on_progress=on_progress)
    click.echo(slug)


@main.command()
@click.argument("slug")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: TESTIMONY_THREADS).")
@click.pass_context
def diarize(ctx: click.Context, slug: str, threads: int | None) -> None:
    """Find who speaks when in a meeting (again), attribute its segments and match known voices.

    Refused when a person has already identified one of the meeting's speakers: use `testimony speakers`.
    """
    from archive.ingest.pipeline import diarize_meeting

    settings = settings_from(ctx, threads=threads)
    sessions = sessions_for(ctx, settings)
    diarize_meeting(sessions, settings, slug, _load_diarizer(settings), report=_say)
    click.echo(slug)


@main.command()
@click.argument("slug")
@click.option("--by", "reviewer", help="Who checked the whole transcript against the recording.")
@click.option("--undo", is_flag=True, help="Mark the transcript unreviewed again (the machine's).")
@click.pass_context
def review(ctx: click.Context, slug: str, reviewer: str | None, undo: bool) -> None:
    """Mark a meeting's transcript reviewed by a person now (--by NAME), or unreviewed again (--undo).

    The meeting page and the JSON say so; a later re-transcription makes it unreviewed again.
    """
    from archive.curation.review import mark_reviewed, mark_unreviewed

    if undo == (reviewer is not None):
        raise InvalidInput("give either --by NAME (reviewed) or --undo (unreviewed)")
    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        if undo:
            mark_unreviewed(session, slug)
            message = f"{slug}: the transcript is marked unreviewed (the machine's)"
        else:
            meeting = mark_reviewed(session, slug, by=reviewer or "")
            message = f"{slug}: the transcript is marked reviewed by {meeting.reviewed_by}"
    click.echo(message)


@main.command()
@click.argument("slug")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "txt", "vtt", "srt", "csv", "rttm"]), default="txt", show_default=True
)
@click.pass_context
def export(ctx: click.Context, slug: str, fmt: str) -> None:
    """Write one meeting's transcript to stdout."""
    from archive.publish.documents import meeting_document
    from archive.publish.formats import render

    sessions = sessions_for(ctx, settings_from(ctx))
    with sessions() as session:
        click.echo(render(meeting_document(session, slug), fmt), nl=False)


@main.command()
@click.argument("query")
@click.option("--speaker", help="Only this speaker (exact name).")
@click.option("--kind", type=click.Choice(SEGMENT_KINDS), help="Only this kind of segment.")
@click.option("--meeting", help="Only this meeting (slug).")
@click.option("--from", "date_from", help="Meetings on or after this date, YYYY-MM-DD.")
@click.option("--to", "date_to", help="Meetings on or before this date, YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, limit: int, **filters: Any) -> None:
    """Search the testimony: words, "phrases", OR, -exclusion, prefix*, speaker:, kind:, date:."""
    from archive.search import SearchRequest
    from archive.search.index import open_backend

    settings = settings_from(ctx)
    request = SearchRequest(
        q=query,
        speaker=filters["speaker"],
        kind=filters["kind"],
        meeting=filters["meeting"],
        date_from=_parse_date(filters["date_from"], "--from") if filters["date_from"] else None,
        date_to=_parse_date(filters["date_to"], "--to") if filters["date_to"] else None,
        sort=filters["sort"],
        page=filters["page"],
        per_page=limit,
    )
    sessions_for(ctx, settings)  # a clear error when there is no archive here
    page = open_backend(settings).search(request)
    if as_json:
        click.echo(json.dumps(page.to_json(), ensure_ascii=False, indent=1))
        return
    if page.message:
        _say(page.message)
    click.echo(f"{page.total_text.capitalize()}; page {page.page} of {page.pages}")
    for hit in page.hits:
        who = hit.speaker_name or "unnamed speaker"
        click.echo(
            f"{format_clock(hit.start):>8}  {hit.meeting_date}  {hit.meeting_slug}  {who}\n"
            f"          {_terminal_snippet(hit.highlight)}"
        )


@main.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database; the old index serves until the new one is complete."""
    from archive.search.index import open_backend, rebuild

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        count = rebuild(open_backend(settings), session)
    click.echo(f"indexed {count} segments")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option(
    "--processes", type=click.IntRange(1, 64), default=None, help="Server processes  [default: one per CPU core]"
)
@click.option("--threads", "web_threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, processes: int | None, web_threads: int) -> None:
    """Serve the site and the API with a production WSGI server (gunicorn: processes × threads)."""
    serve_home(settings_from(ctx), host, port, processes, web_threads)


SERVER_GC_THRESHOLDS = (50_000, 20, 20)


def server_app(settings: Settings, pages_folder: Path):  # type: ignore[no-untyped-def]
    """The application as one server process runs it: ready before its first request."""
    from archive import create_app

    app = create_app(settings, pages_folder)
    app.extensions["search"].warm()  # before the first request, not during it
    # Python's cycle collector, tuned for a server: what the app loaded is set aside for good (gc.freeze), and
    # collections come every 50,000 allocations, not 700. A 2,000-line meeting page allocates some 100,000
    # objects; with the defaults, collecting took 60% of its rendering (265 ms against 106).
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    return app


# Addresses that listen on every interface: visitors reach the server by a name it cannot know.
EVERY_INTERFACE = ("0.0.0.0", "::", "")


def keep_pages_at_start(settings: Settings, pages: Path, host: str, port: int) -> None:
    """The newest meetings' pages, kept before the processes start (archive.web.page_cache.keep_meeting_pages).
    Here, in the server's own process: its application and connections are closed before the processes fork."""
    if settings.warm_seconds <= 0 or settings.page_cache_mb <= 0:
        return
    own = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"  # an IPv6 address in brackets
    base_url = settings.public_url or ("" if host in EVERY_INTERFACE else own)
    if not base_url:
        _say(f"no meeting pages kept at start: set TESTIMONY_PUBLIC_URL, the address visitors use for {host}")
        return
    from archive import create_app
    from archive.web.page_cache import keep_meeting_pages

    began = time.monotonic()
    app = create_app(settings, pages)
    try:
        kept, meetings = keep_meeting_pages(app, base_url, settings.warm_seconds)
    finally:
        app.extensions["sessions"].kw["bind"].dispose()
        getattr(app.extensions["search"], "close", lambda: None)()
    _say(f"kept the pages of {kept} of {meetings} meetings in {time.monotonic() - began:.1f} s, newest first")


def serve_home(settings: Settings, host: str, port: int, processes: int | None, threads: int) -> None:
    """gunicorn's threaded workers, each process with its own application (made after the fork: database
    connections and index files are never shared between processes). Python runs one thread at a time per
    process, so more processes, not more threads, is what uses more cores."""
    from gunicorn.app.base import BaseApplication

    workers = processes or len(os.sched_getaffinity(0))
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "accesslog": None,
        "errorlog": "-",
        "keepalive": 5,
        "timeout": 120,  # seconds a worker may go silent (an upload streaming to disk keeps it busy, not silent)
        # The request line of a 2,000-character search in a non-Latin script is ~18 KB, over gunicorn's largest
        # limit (8 KB): no limit on it; each header field stays limited to 8 KB.
        "limit_request_line": 0,
    }

    # One folder of kept pages for all the processes, new at each start: pages a process renders, all serve.
    from archive.web.page_cache import new_pages_folder

    pages = new_pages_folder()
    master = os.getpid()
    keep_pages_at_start(settings, pages, host, port)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):  # type: ignore[no-untyped-def]
            return server_app(settings, pages)

    _say(
        f"serving {settings.home.resolve()} at http://{host}:{port}/ with {workers} processes × {threads} threads"
        " (Ctrl-C stops)"
    )
    try:
        Server().run()
    finally:
        if os.getpid() == master:  # a worker leaves through here too when it stops; only the server removes it
            shutil.rmtree(pages, ignore_errors=True)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Integrity: every row's files exist with the right hash, nothing orphaned; exit 1 with a list when not."""
    from archive.operations.check import check_archive

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        problems = check_archive(session, settings)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        ctx.exit(1)
    click.echo("archive is consistent")


@main.command()
@click.option(
    "--home",
    "demo_home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-home"),
    show_default=True,
)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after printing the transcript.")
@engine_options
@click.pass_context
def demo(ctx: click.Context, demo_home: Path, port: int, no_serve: bool, **engine: Any) -> None:
    """The main job on embedded defaults: the bundled demo meeting ingested, transcribed, indexed and served."""
    from archive.ingest.pipeline import MeetingInfo
    from archive.ingest.pipeline import ingest as run_ingest
    from archive.publish.documents import meeting_document
    from archive.publish.formats import render

    recording = DEMO_DIR / "demo-meeting.ogg"
    if not recording.exists():
        raise ArchiveError(f"{recording}: the demo recording is missing (rebuild it: python media/demo/make_demo.py)")
    meta = json.loads((DEMO_DIR / "meeting.json").read_text(encoding="utf-8"))
    settings = Settings.from_env(home=demo_home, **{"database_url": "", **engine})
    sessions = sessions_for(ctx, settings, create=True)
    info = MeetingInfo(
        body=meta["body"], title=meta["title"], date=_parse_date(meta["date"]), source_url=meta.get("source_url")
    )
    _say(f"demo home: {demo_home.resolve()} (a synthetic re-enactment, made with espeak-ng voices)")
    with _progress_bar() as on_progress:
        result = run_ingest(
            sessions,
            settings,
            [recording],
            info,
            load_transcriber=lambda: _load_transcriber(settings),
            load_diarizer=lambda: _load_diarizer(settings),
            report=_say,
            on_progress=on_progress,
        )
    _name_demo_voices(settings, sessions, result.slug)
    with sessions() as session:
        click.echo(render(meeting_document(session, result.slug), "txt"), nl=False)
    click.echo(result.slug)
    if not no_serve:
        _say(f"open http://127.0.0.1:{port}/meetings/{result.slug}")
        serve_home(settings, "127.0.0.1", port, processes=None, threads=4)


# --- speakers and people --------------------------------------------------------------------------------------

# How a person can name a voice (voice matches are made by ingest, not by hand).
HUMAN_METHODS = tuple(method for method in ATTRIBUTION_METHODS if method != "voice-match")


@main.group(cls=ArchiveGroup)
def speakers() -> None:
    """A meeting's voices (SPEAKER_00…): who they are, and corrections to the diarization."""


@speakers.command("list")
@click.argument("slug")
@click.pass_context
def speakers_list(ctx: click.Context, slug: str) -> None:
    """Each voice of a meeting: talk time, the person, how the attribution was made, a suggestion."""
    from sqlalchemy import select

    from archive.db.models import Speaker
    from archive.speakers.people import describe_person, find_meeting, talk_times

    with sessions_for(ctx, settings_from(ctx))() as session:
        meeting = find_meeting(session, slug)
        talk = talk_times(session, meeting.id)
        voices = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id).order_by(Speaker.label)).all()
        if not voices:
            click.echo(f"{slug}: no speakers (the meeting has not been diarized)")
            return
        for voice in voices:
            who = f"{describe_person(voice.person)} #{voice.person.id}" if voice.person else "(unnamed)"
            how = ""
            if voice.attribution:
                how = voice.attribution
                if voice.attribution_score is not None:
                    how += f" {voice.attribution_score:.2f}"
            line = f"{voice.label}  {format_clock(talk.get(voice.id) or 0.0):>8}  {who}"
            if how:
                line += f"  [{how}]"
            if voice.suggested_person is not None:
                line += f"  suggested: {describe_person(voice.suggested_person)} #{voice.suggested_person.id}"
                line += f" ({voice.suggestion_score:.2f})" if voice.suggestion_score is not None else ""
            click.echo(line)


@speakers.command("name")
@click.argument("slug")
@click.argument("label")
@click.argument("name")
@click.option("--role", help="The person's role: chair, member, public commenter…")
@click.option("--affiliation", help="The seat or organisation the person speaks for.")
@click.option(
    "--how",
    "method",
    type=click.Choice(HUMAN_METHODS),
    default="curator",
    show_default=True,
    help="How we know: the speaker said so, the chair named them, or a curator's judgement.",
)
@click.option("--note", help="Why: kept in the attribution ledger.")
@click.option("--person", "person_id", type=int, help="The person's id, when several people share the name.")
@click.pass_context
def speakers_name(ctx: click.Context, slug: str, label: str, name: str, **details: Any) -> None:
    """Attribute a meeting's voice to a person (every segment of the voice follows)."""
    from archive.speakers.people import describe_person, name_speaker

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        speaker = name_speaker(session, slug, label, name, made_by="cli", **details)
        message = f"{speaker.label} is {describe_person(speaker.person)} (person {speaker.person_id})"
    click.echo(message)


@speakers.command("merge")
@click.argument("slug")
@click.argument("keep")
@click.argument("other")
@click.pass_context
def speakers_merge(ctx: click.Context, slug: str, keep: str, other: str) -> None:
    """Two labels that are one voice: OTHER's segments join KEEP, and OTHER goes."""
    from archive.speakers.people import find_speaker, merge_speakers

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        merged = find_speaker(session, slug, other).label
        kept = merge_speakers(session, slug, keep, other, made_by="cli")
        message = f"merged {merged} into {kept.label}"
    click.echo(message)


@speakers.command("split")
@click.argument("slug")
@click.argument("label")
@click.option("--from", "start", required=True, help="Start of the span: seconds or h:mm:ss.")
@click.option("--to", "end", required=True, help="End of the span: seconds or h:mm:ss.")
@click.option("--into", "into_label", help="An existing label to move them to (default: a new label).")
@click.pass_context
def speakers_split(ctx: click.Context, slug: str, label: str, start: str, end: str, into_label: str | None) -> None:
    """Segments of LABEL whose middle lies in the span are another voice: move them."""
    from archive.speakers.people import split_speaker

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        result = split_speaker(
            session, slug, label, parse_clock(start), parse_clock(end), into_label=into_label, made_by="cli"
        )
    new = " (new)" if result.created else ""
    click.echo(f"moved {result.moved} segment(s) from {result.source} to {result.target}{new}")


@main.group(cls=ArchiveGroup)
def people() -> None:
    """The people voices are attributed to, across meetings, and what they consented to."""


@people.command("list")
@click.pass_context
def people_list(ctx: click.Context) -> None:
    """Every person: id, name, role, affiliation, consent, the meetings they speak in."""
    from sqlalchemy import func, select

    from archive.db.models import Person, Speaker

    with sessions_for(ctx, settings_from(ctx))() as session:
        rows = session.execute(
            select(Person, func.count(func.distinct(Speaker.meeting_id)))
            .outerjoin(Speaker, Speaker.person_id == Person.id)
            .group_by(Person.id)
            .order_by(Person.name, Person.id)
        ).all()
        if not rows:
            click.echo("no people yet (name a speaker: testimony speakers name SLUG LABEL NAME)")
        for person, meetings in rows:
            details = "  ".join(
                [f"{person.id:>5}", person.name, person.role or "-", person.affiliation or "-", person.consent]
            )
            click.echo(f"{details}  {meetings} meeting(s)")


@people.command("edit")
@click.argument("person_id", metavar="ID", type=int)
@click.option("--name", help="The person's name.")
@click.option("--role", help="Role; an empty value clears it.")
@click.option("--affiliation", help="Affiliation; an empty value clears it.")
@click.option(
    "--consent",
    type=click.Choice(CONSENT_LEVELS),
    help="public: named and voice-matched; no-voice-match: named, never matched; anonymous: shown by role only.",
)
@click.pass_context
def people_edit(ctx: click.Context, person_id: int, **changes: Any) -> None:
    """Change a person; every meeting they speak in is re-indexed."""
    from archive.speakers.people import describe_person, update_person

    if all(value is None for value in changes.values()):
        raise InvalidInput("nothing to change: give --name, --role, --affiliation or --consent")
    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        person = update_person(session, person_id, made_by="cli", **changes)
        message = f"person {person.id}: {describe_person(person)}"
    click.echo(message)


@people.command("delete")
@click.argument("person_id", metavar="ID", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def people_delete(ctx: click.Context, person_id: int, yes: bool) -> None:
    """Delete a person and their voice print; their voices become unnamed."""
    from archive.speakers.people import affected_meetings, delete_person, get_person

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session:
        person = get_person(session, person_id)
        slugs = affected_meetings(session, [person_id])
        question = f"delete {person.name} (person {person_id}), who speaks in {len(slugs)} meeting(s)?"
    if not yes and not click.confirm(question, err=True):
        raise ArchiveError("nothing deleted")
    with sessions() as session, session.begin():
        delete_person(session, get_person(session, person_id), made_by="cli")
    click.echo(f"deleted person {person_id}; {len(slugs)} meeting(s) re-indexed")


# --- legislators ---------------------------------------------------------------------------------------------


@main.group(cls=ArchiveGroup)
def legislators() -> None:
    """The legislator directory supporters find their legislators in (Vermont's ships with the archive)."""


@legislators.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--towns",
    "towns_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV of town,chamber,district rows, for finding legislators by town.",
)
@click.option(
    "--expect-seats",
    metavar="HOUSE,SENATE",
    help="The seats each chamber must have (default: Vermont's, 150,30).",
)
@click.pass_context
def legislators_import(
    ctx: click.Context, file: Path | None, towns_file: Path | None, expect_seats: str | None
) -> None:
    """Replace the directory with FILE (default: the bundled Vermont file), validated whole: any bad row refuses
    the file and the directory stays as it was."""
    from archive.legislators import (
        VERMONT_FILE,
        VERMONT_SEATS,
        parse_seats,
        read_legislators,
        read_towns,
        replace_directory,
    )

    path = file or VERMONT_FILE
    rows = read_legislators(path, parse_seats(expect_seats) if expect_seats else VERMONT_SEATS)
    towns = read_towns(towns_file, rows) if towns_file else None
    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        made = replace_directory(session, rows, towns)
    districts = made.districts
    click.echo(
        f"imported {made.house + made.senate} legislators from {path.name}: {made.house} House in"
        f" {districts['house']} districts, {made.senate} Senate in {districts['senate']} districts"
    )
    if made.towns_replaced or made.towns:
        kept = "" if made.towns_replaced else " (kept from before: no --towns given)"
        click.echo(f"{made.towns} town rows{kept}")
    else:
        _say("no towns file: finding legislators by town is off until one is imported (--towns FILE)")


@legislators.command("list")
@click.option("--chamber", type=click.Choice(["house", "senate"]), help="Only this chamber.")
@click.option("--district", help="Only this district, e.g. Chittenden-15.")
@click.pass_context
def legislators_list(ctx: click.Context, chamber: str | None, district: str | None) -> None:
    """The directory: chamber, district, name, party, email."""
    from archive.legislators import list_legislators

    with sessions_for(ctx, settings_from(ctx))() as session:
        people = list_legislators(session, chamber=chamber, district=district)
    if not people:
        click.echo("no legislators match (load the directory: testimony legislators import)", err=True)
    for person in people:
        click.echo("  ".join([person.chamber, person.district, person.name, person.party or "-", person.email or "-"]))


# --- excerpts ------------------------------------------------------------------------------------------------


@main.group(cls=ArchiveGroup)
def excerpt() -> None:
    """Citable spans of meetings: make, list, show and verify excerpts."""


@excerpt.command("create")
@click.argument("slug")
@click.option("--start", "start_text", required=True, help="Start, in seconds or h:mm:ss (snapped to a word).")
@click.option("--end", "end_text", required=True, help="End, in seconds or h:mm:ss (snapped to a word).")
@click.option("--title", required=True, help="A short title, e.g. 'Deputy on a hot mic'.")
@click.option("--note", help="The organizer's note: why it matters.")
@click.pass_context
def excerpt_create(ctx: click.Context, slug: str, start_text: str, end_text: str, title: str, note: str | None) -> None:
    """Make an excerpt of a meeting; prints its slug last."""
    from archive.excerpts.manage import create_excerpt, quote

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        made = create_excerpt(
            session, slug, parse_clock(start_text), parse_clock(end_text), title, note=note, created_by="cli"
        )
        words = quote(session, made.meeting_id, made.start, made.end).text
        _say(f"{format_clock(made.start)}–{format_clock(made.end)}: “{words}”")
    click.echo(made.slug)


@excerpt.command("list")
@click.option("--meeting", "meeting_slug", help="Only this meeting's excerpts.")
@click.pass_context
def excerpt_list(ctx: click.Context, meeting_slug: str | None) -> None:
    """Excerpts, newest first: slug, meeting, time, verified or not, title."""
    from sqlalchemy import select

    from archive.db.models import Excerpt, Meeting
    from archive.excerpts.manage import is_verified, quote

    with sessions_for(ctx, settings_from(ctx))() as session:
        query = select(Excerpt).join(Meeting).order_by(Excerpt.created_at.desc(), Excerpt.id.desc())
        if meeting_slug:
            query = query.where(Meeting.slug == meeting_slug)
        for item in session.scalars(query):
            words = quote(session, item.meeting_id, item.start, item.end)
            state = "verified" if is_verified(item, words) else "machine"
            click.echo(f"{item.slug}  {item.meeting.slug}  {format_clock(item.start)}  {state:<8}  {item.title}")


@excerpt.command("show")
@click.argument("excerpt_slug")
@click.pass_context
def excerpt_show(ctx: click.Context, excerpt_slug: str) -> None:
    """One excerpt as JSON (the API's shape)."""
    from archive.excerpts.manage import excerpt_document, find_excerpt

    with sessions_for(ctx, settings_from(ctx))() as session:
        click.echo(json.dumps(excerpt_document(session, find_excerpt(session, excerpt_slug)), indent=2))


@excerpt.command("verify")
@click.argument("excerpt_slug")
@click.option("--by", "verified_by", required=True, help="Who listened to the recording and confirms the words.")
@click.pass_context
def excerpt_verify(ctx: click.Context, excerpt_slug: str, verified_by: str) -> None:
    """Mark an excerpt verified against the recording (it lapses if its words are later edited)."""
    from archive.excerpts.manage import find_excerpt, verify

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        verify(session, find_excerpt(session, excerpt_slug), verified_by=verified_by)
    click.echo(f"{excerpt_slug}: verified against the recording by {verified_by}")


@excerpt.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--meeting", "meeting_slug", help="Only this meeting's excerpts.")
@click.pass_context
def excerpt_export(ctx: click.Context, fmt: str, meeting_slug: str | None) -> None:
    """Every excerpt (newest first) to stdout: JSON (the API's documents) or CSV (formula cells neutralised)."""
    from archive.publish.documents import excerpt_documents
    from archive.publish.formats import render_excerpts

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        documents = excerpt_documents(session, meeting_slug=meeting_slug, base_url=settings.public_url)
        click.echo(render_excerpts(documents, fmt), nl=False)


@main.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--zip", "make_zip", is_flag=True, help="Also write OUT_DIR.zip (always done without OUT_DIR).")
@click.pass_context
def dump(ctx: click.Context, out_dir: Path | None, make_zip: bool) -> None:
    """Write the whole public archive as JSON Lines with a manifest, for researchers; prints its path last.

    Without OUT_DIR: a new dump under <home>/dumps/ and its zip, which the site offers at /downloads.
    """
    from archive.publish.bulk import DUMPS, dump_name, write_dump, write_zip

    settings = settings_from(ctx)
    if out_dir is None:
        out_dir, make_zip = settings.home / DUMPS / dump_name(), True
    with sessions_for(ctx, settings)() as session:
        made = write_dump(session, out_dir, site_name=settings.site_name, site_url=settings.public_url.rstrip("/"))
    counts = made.manifest["counts"]
    _say(", ".join(f"{count} {name}" for name, count in counts.items()) + f" in {made.path}")
    if make_zip:
        made_zip = write_zip(made.path, made.path.with_name(f"{made.path.name}.zip"))
        _say(f"zipped: {made_zip}")
        click.echo(made_zip)
    else:
        click.echo(made.path)


def _load_transcriber(settings: Settings) -> Any:
    from archive.transcribe import make_transcriber

    _say(f"loading {settings.engine} model {settings.model} …")
    return make_transcriber(settings)


def _name_demo_voices(settings: Settings, sessions: Any, slug: str) -> None:
    """The curator's step, done for the demo: each voice is named after the script's speaker whose words it
    says most (media/demo/script.json records who says what). A voice already named is left alone."""
    from sqlalchemy import select

    from archive.db.models import Segment, Speaker
    from archive.speakers.people import find_meeting, name_speaker
    from archive.transcribe.evaluate import normalize

    script = json.loads((DEMO_DIR / "script.json").read_text(encoding="utf-8"))
    people: dict[str, tuple[str, str, set[str]]] = {}
    for turn in script:
        name, role, words = people.get(turn["speaker"], (turn["name"], turn["role"], set()))
        people[turn["speaker"]] = (name, role, words | set(normalize(turn["text"]).split()))
    named = []
    with sessions() as session, session.begin():
        meeting = find_meeting(session, slug)
        for voice in session.scalars(
            select(Speaker).where(Speaker.meeting_id == meeting.id, Speaker.attribution.is_(None))
        ):
            texts = session.scalars(select(Segment.text).where(Segment.speaker_id == voice.id))
            said = set(normalize(" ".join(texts)).split())
            name, role, _ = max(people.values(), key=lambda person: len(said & person[2]))
            note = "the demo's script (media/demo/script.json) says who speaks"
            name_speaker(session, slug, voice.label, name, role=role, note=note, made_by="demo")
            named.append(f"{voice.label} {name}")
    if named:
        _say(f"named the voices as a curator would: {', '.join(named)}")


def _load_diarizer(settings: Settings) -> Any:
    from archive.speakers.diarize import Diarizer

    _say("loading the speaker models (pyannote segmentation-3.0, CAM++) …")
    return Diarizer(threads=settings.threads)


def _parse_date(text: str, option: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date in the form YYYY-MM-DD") from None


def _terminal_snippet(highlight: str) -> str:
    """The API's HTML snippet for a terminal: matches in bold (or «» when not a terminal), entities decoded."""
    import html
    import re

    bold = sys.stdout.isatty()
    marked = re.sub(
        r"<mark>(.*?)</mark>",
        lambda m: click.style(m.group(1), bold=True) if bold else f"«{m.group(1)}»",
        highlight,
    )
    return html.unescape(marked)


def _say(message: str) -> None:
    click.echo(message, err=True)


class _progress_bar:
    """A terminal progress bar (seconds of audio, elapsed, ETA) on stderr, fed by the engines."""

    def __enter__(self) -> Callable[[float, float], None]:
        from tqdm import tqdm

        self.bar: Any = None

        def update(done: float, total: float) -> None:
            if self.bar is not None and self.bar.total != round(total, 1):  # the next recording
                self.bar.close()
                self.bar = None
            if self.bar is None:
                self.bar = tqdm(total=round(total, 1), unit="s audio", file=sys.stderr, dynamic_ncols=True, leave=True)
            self.bar.update(round(done, 1) - self.bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


if __name__ == "__main__":
    main()


# Command groups kept in their own modules (they import the helpers above, so they come last).
from archive.cli_accounts import user  # noqa: E402
from archive.cli_campaigns import campaign  # noqa: E402
from archive.cli_jobs import jobs  # noqa: E402
from archive.cli_worker import outbox, worker  # noqa: E402

main.add_command(user)
main.add_command(campaign)
main.add_command(worker)
main.add_command(outbox)
main.add_command(jobs)
