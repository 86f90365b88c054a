"""A meeting's voices and the people they are attributed to: `testimony speakers …` and `testimony people …`."""

from __future__ import annotations

from typing import Any

import click

from archive.cli.context import ArchiveGroup, sessions_for, settings_from
from archive.db.models import ATTRIBUTION_METHODS, CONSENT_LEVELS
from archive.errors import ArchiveError, InvalidInput
from archive.timecodes import format_clock, parse_clock

# How a person can name a voice (a voice match is only a suggestion: `speakers confirm` makes it a curator's).
HUMAN_METHODS = tuple(method for method in ATTRIBUTION_METHODS if method != "voice-match")


@click.group(cls=ArchiveGroup)
def speakers() -> None:
    """A meeting's voices (SPEAKER_00…): who they are, and corrections to the diarization."""


@speakers.command("list")
@click.argument("slug")
@click.pass_context
def speakers_list(ctx: click.Context, slug: str) -> None:
    """Each voice of a meeting: talk time, the person, how the attribution was made, a suggestion."""
    from sqlalchemy import select

    from archive.db.lookups import meeting_by_slug
    from archive.db.models import Speaker
    from archive.speakers.people import describe_person, talk_times

    with sessions_for(ctx, settings_from(ctx))() as session:
        meeting = meeting_by_slug(session, slug)
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
        assert speaker.person is not None  # just named
        message = f"{speaker.label} is {describe_person(speaker.person)} (person {speaker.person_id})"
    click.echo(message)


@speakers.command("confirm")
@click.argument("slug")
@click.argument("label")
@click.option("--reject", is_flag=True, help="The voice is not the suggested person: drop it, never suggest it again.")
@click.pass_context
def speakers_confirm(ctx: click.Context, slug: str, label: str, reject: bool) -> None:
    """Confirm the voice match suggested for LABEL (the person is named in public from now), or --reject it."""
    from archive.speakers.people import confirm_suggestion, describe_person, find_speaker, reject_suggestion

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        speaker = find_speaker(session, slug, label)
        who = describe_person(speaker.suggested_person) if speaker.suggested_person else ""
        if reject:
            reject_suggestion(session, speaker, made_by="cli")
            message = f"{speaker.label} is not {who}: the suggestion is gone"
        else:
            confirm_suggestion(session, speaker, made_by="cli")
            message = f"{speaker.label} is {who} (person {speaker.person_id}), confirmed"
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


@click.group(cls=ArchiveGroup)
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
