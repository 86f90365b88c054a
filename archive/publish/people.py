"""Who spoke, as the public sees it: a meeting's voices and a person's record across meetings.

Only public data leaves here: a person's public name (an anonymous person's role, never their name), role,
affiliation (not for an anonymous person) and how each voice was attributed. Embeddings, voice prints and
a curator's suggestions are never read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive.db.models import Meeting, Person, Segment, Speaker
from archive.errors import NotFound
from archive.locales import Text
from archive.privacy.view import NAMED, PublicView, public_view, redact_phrases, withheld_phrases
from archive.search import line_id

_published = or_(Segment.public_text.is_(None), Segment.public_text != "")

# Database ids are 32-bit integers on PostgreSQL; anything larger is no one (and must not reach SQL).
LARGEST_ID = 2**31 - 1

ATTRIBUTION_WORDS = {
    "named-by-chair": Text("named by the chair"),
    "self-identified": Text("self-identified"),
    "voice-match": Text("voice match"),
    "curator": Text("curator's judgement"),
}


def attribution_words(person: Person | None, method: str | None, score: float | None) -> str:
    """How a voice came to be attributed, in plain words: "voice match, similarity 0.82"."""
    if person is None:
        return Text("not yet identified")
    words = ATTRIBUTION_WORDS.get(method or "", Text("attributed"))
    if method == "voice-match" and score is not None:
        similarity = f"{score:.2f}"
        return Text("%(how)s, similarity %(score)s", how=words, score=similarity)
    return words


def meeting_voices(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """The voices of one meeting, most talk time first: who (if known), how we know, how long they spoke."""
    talk = dict(
        session.execute(
            select(Segment.speaker_id, func.sum(Segment.end - Segment.start))
            .where(Segment.meeting_id == meeting_id, Segment.speaker_id.is_not(None))
            .group_by(Segment.speaker_id)
        ).all()
    )
    speakers = session.scalars(
        select(Speaker).where(Speaker.meeting_id == meeting_id).options(selectinload(Speaker.person))
    ).all()
    view = public_view(session, session.get_one(Meeting, meeting_id))
    voices = []
    for speaker in speakers:
        consent = view.consents.get(speaker.id)
        if consent == "unpublished":  # not published at all: not even that the voice spoke
            continue
        person: dict[str, Any] | None
        if speaker.id in view.pseudonyms:
            # Neither name, role, affiliation nor a link to the person's page: only the pseudonym.
            person = {"id": None, "name": view.pseudonyms[speaker.id], "role": None, "affiliation": None}
            attribution: str = Text("name withheld at the speaker's request")
        else:
            person = speaker.person.public_record() if speaker.person else None
            attribution = attribution_words(speaker.person, speaker.attribution, speaker.attribution_score)
        voices.append(
            {
                "label": speaker.label,
                "person": person,
                "attribution": attribution,
                "talk_time": round(float(talk.get(speaker.id) or 0.0), 1),
                "audio_withheld": consent == "voice-withheld",
            }
        )
    return sorted(voices, key=lambda voice: (-voice["talk_time"], voice["label"]))


def speaker_index(session: Session) -> list[dict[str, Any]]:
    """Everyone the public may see as a speaker: people a person attributed a voice to where they may be named,
    with their meetings and statements, by name. Someone who asked to stay anonymous is left out of the list (as
    out of the sitemap): their lines stay under their role on the meeting pages."""
    named = Speaker.consent.in_(NAMED)
    rows = session.execute(
        select(Person, func.count(func.distinct(Speaker.meeting_id)), func.count(Segment.id))
        .join(Speaker, Speaker.person_id == Person.id)
        .outerjoin(Segment, (Segment.speaker_id == Speaker.id) & _published)
        .where(named, Person.consent != "anonymous")
        .group_by(Person.id)
    ).all()
    people = [
        {**person.public_record(), "meetings": meetings, "statements": statements}
        for person, meetings, statements in rows
    ]
    return sorted(people, key=lambda p: (p["name"].casefold(), p["id"]))


def person_record(session: Session, person_id: int, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """A person's public record: who they are, the meetings they spoke in and a page of their statements."""
    person = session.get(Person, person_id) if 0 < person_id <= LARGEST_ID else None
    if person is None:
        raise NotFound(f"no speaker with id {person_id}")
    # Only the meetings where this person may be named (archive.privacy): a voice whose name is withheld or
    # that is unpublished is never tied to the person. Someone withheld everywhere has no public page.
    named = Speaker.consent.in_(NAMED)
    if session.scalar(select(Speaker.id).where(Speaker.person_id == person.id).limit(1)) is not None and (
        session.scalar(select(Speaker.id).where(Speaker.person_id == person.id, named).limit(1)) is None
    ):
        raise NotFound(f"no speaker with id {person_id}")
    newest_first = (Meeting.date.desc(), Meeting.id.desc())
    meetings = session.execute(
        select(Meeting, func.count(Segment.id), func.sum(Segment.end - Segment.start))
        .join(Speaker, Speaker.meeting_id == Meeting.id)
        .outerjoin(Segment, Segment.speaker_id == Speaker.id)
        .where(Speaker.person_id == person.id, named)
        .group_by(Meeting.id)
        .order_by(*newest_first)
        .options(selectinload(Meeting.body))
    ).all()
    statements = session.execute(
        select(Segment, Meeting)
        .join(Speaker, Speaker.id == Segment.speaker_id)
        .join(Meeting, Meeting.id == Segment.meeting_id)
        .where(Speaker.person_id == person.id, named, _published)
        .order_by(*newest_first, Segment.start, Segment.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    views: dict[int, PublicView] = {}
    phrases = withheld_phrases(session, {m.id for m, _, _ in meetings} | {m.id for _, m in statements})
    return {
        "person": person.public_record(),
        "meetings": [
            {
                **_meeting(meeting, phrases),
                "statements": count,
                "talk_time": round(float(seconds or 0.0), 1),
                "url": f"/meetings/{meeting.slug}",
            }
            for meeting, count, seconds in meetings
        ],
        "total": sum(count for _, count, _ in meetings),
        "page": page,
        "per_page": per_page,
        "statements": [
            {
                "segment_id": segment.id,
                "meeting": _meeting(meeting, phrases),
                "start": segment.start,
                "end": segment.end,
                "kind": segment.kind,
                "kind_suggested": segment.kind_suggested,
                "tags": segment.tags or [],
                "text": _public_text(session, views, meeting, segment),
                "url": f"/meetings/{meeting.slug}?t={int(segment.start)}#{line_id(segment.id)}",
            }
            for segment, meeting in statements
        ],
    }


def _public_text(session: Session, views: dict[int, PublicView], meeting: Meeting, segment: Segment) -> str:
    """The statement as published: withheld words are "[redacted]" (one view per meeting on the page)."""
    if meeting.id not in views:
        views[meeting.id] = public_view(session, meeting)
    published = views[meeting.id].publish(segment)
    return published.text if published is not None else ""


def _meeting(meeting: Meeting, phrases: dict[int, list[str]]) -> dict[str, Any]:
    title = redact_phrases(meeting.title, phrases.get(meeting.id, []))
    return {"slug": meeting.slug, "title": title, "date": meeting.date.isoformat(), "body": meeting.body.name}
