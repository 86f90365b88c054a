"""A body's vocabulary: the names, places and agencies its meetings are likely to hold, to guide transcription.

Curators keep each body's own list (a term a line, with an optional note after " | "); every change is an
audit event. When a body has a list, the transcription of its meetings is guided by a glossary built from the
archive's knowledge, likeliest first, until Whisper's prompt is full (archive.transcribe.glossary.fitted):

1. the body's own list, in the curators' order;
2. the people a person identified in the body's meetings (self-identified, named by the chair, a curator's
   attribution: never a machine's voice match), the most recent meeting first;
3. their roles and seats;
4. the titles of the body's agenda items, the most recent first;
5. the legislators and towns of the imported directory that the body's earlier transcripts mention.

A body with no list of its own is transcribed without guidance: a curator opts a body in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.accounts.users import record
from archive.curation.words import clean_text
from archive.db.models import AgendaItem, Body, DistrictTown, Legislator, Meeting, Person, Segment, Speaker, User
from archive.db.models import VocabularyTerm as Term
from archive.errors import InvalidInput, NotFound
from archive.speakers.voices import HUMAN_METHODS
from archive.transcribe.glossary import MAX_TERM_CHARACTERS, Glossary, fitted

MAX_TERMS = 200
MAX_NOTE = 300
RECENT_MEETINGS = 10  # where people, agenda titles and mentions are looked for
SEPARATOR = " | "


@dataclass(frozen=True)
class Entry:
    term: str
    note: str = ""


def find_body(session: Session, name: str) -> Body:
    """A body by its name or slug."""
    body = session.scalar(select(Body).where((Body.name == name) | (Body.slug == name)))
    if body is None:
        known = ", ".join(session.scalars(select(Body.slug).order_by(Body.slug)).all()) or "none yet"
        raise NotFound(f"no body {name!r} (bodies: {known})")
    return body


def terms_of(session: Session, body: Body) -> list[Term]:
    return list(session.scalars(select(Term).where(Term.body_id == body.id).order_by(Term.position, Term.id)).all())


def parse_entries(text: str) -> list[Entry]:
    """Entries from a curator's text: a term a line, an optional note after " | "; blank lines skipped, a repeated
    term (in any case) refused."""
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        term, _, note = line.partition(SEPARATOR.strip())
        entry = Entry(
            clean_text(term, field=f"line {number}: term", limit=MAX_TERM_CHARACTERS),
            clean_text(note, field=f"line {number}: note", limit=MAX_NOTE) if note.strip() else "",
        )
        if entry.term.casefold() in {e.term.casefold() for e in entries}:
            raise InvalidInput(f"line {number}: {entry.term!r} is already in the list")
        entries.append(entry)
    if len(entries) > MAX_TERMS:
        raise InvalidInput(f"{len(entries)} terms: a body's vocabulary holds at most {MAX_TERMS}")
    return entries


def as_text(terms: list[Term]) -> str:
    """The list as a curator edits it."""
    return "\n".join(t.term + (SEPARATOR + t.note if t.note else "") for t in terms)


def set_vocabulary(session: Session, body: Body, text: str, *, user: User | None = None, actor: str = "") -> None:
    """Replace the body's list with the entries of `text` (in the caller's transaction)."""
    entries = parse_entries(text)
    before = {t.term for t in terms_of(session, body)}
    session.execute(delete(Term).where(Term.body_id == body.id))
    session.flush()
    who = actor or (user.email if user is not None else "")
    session.add_all(
        Term(body_id=body.id, term=e.term, note=e.note, position=i, created_by=who) for i, e in enumerate(entries)
    )
    after = {e.term for e in entries}
    record(
        session,
        "vocabulary-edit",
        user=user,
        actor=actor,
        target=body.slug,
        added=sorted(after - before),
        removed=sorted(before - after),
        terms=len(entries),
    )


def add_terms(session: Session, body: Body, entries: list[Entry], *, actor: str) -> list[Entry]:
    """Add entries at the end of the list (a term already there keeps its place); returns those added."""
    existing = terms_of(session, body)
    known = {t.term.casefold() for t in existing}
    added = []
    for entry in entries:
        if entry.term.casefold() not in known:
            known.add(entry.term.casefold())
            added.append(entry)
    if len(existing) + len(added) > MAX_TERMS:
        raise InvalidInput(f"a body's vocabulary holds at most {MAX_TERMS} terms ({len(existing)} now)")
    last = max((t.position for t in existing), default=-1)
    session.add_all(
        Term(body_id=body.id, term=e.term, note=e.note, position=last + 1 + i, created_by=actor)
        for i, e in enumerate(added)
    )
    if added:
        record(session, "vocabulary-add", actor=actor, target=body.slug, added=[e.term for e in added])
    return added


def remove_terms(session: Session, body: Body, terms: list[str], *, actor: str) -> list[str]:
    """Remove terms (in any case); returns those that were there."""
    wanted = {t.casefold() for t in terms}
    gone = [t for t in terms_of(session, body) if t.term.casefold() in wanted]
    for term in gone:
        session.delete(term)
    if gone:
        record(session, "vocabulary-remove", actor=actor, target=body.slug, removed=[t.term for t in gone])
    return [t.term for t in gone]


def body_glossary(session: Session, body_name: str, mode: str = "prompt") -> Glossary | None:
    """The glossary for a meeting of the body: None when the body is unknown or keeps no list of its own."""
    body = session.scalar(select(Body).where(Body.name == body_name))
    if body is None:
        return None
    own = [t.term for t in terms_of(session, body)]
    if not own:
        return None
    sources: dict[str, str] = {}
    for source, candidates in (
        ("body's list", own),
        *_known(session, body),
    ):
        for term in candidates:
            if term.casefold() not in {t.casefold() for t in sources}:
                sources[term] = source
    terms = fitted(list(sources))
    return Glossary(terms, mode, {t: sources[t] for t in terms})


def meeting_glossary(session: Session, slug: str, mode: str = "prompt") -> Glossary | None:
    """The glossary of the body a meeting belongs to (see body_glossary)."""
    name = session.scalar(select(Body.name).join(Meeting, Meeting.body_id == Body.id).where(Meeting.slug == slug))
    return body_glossary(session, name, mode) if name is not None else None


def _known(session: Session, body: Body) -> list[tuple[str, list[str]]]:
    """What the archive knows of the body, each kind likeliest first."""
    recent = list(
        session.scalars(
            select(Meeting.id).where(Meeting.body_id == body.id).order_by(Meeting.date.desc()).limit(RECENT_MEETINGS)
        )
    )
    if not recent:
        return []
    order = {meeting_id: i for i, meeting_id in enumerate(recent)}
    people = session.execute(
        select(Speaker.meeting_id, Person.name, Person.role, Person.affiliation)
        .join(Person, Speaker.person_id == Person.id)
        .where(Speaker.meeting_id.in_(recent), Speaker.attribution.in_(HUMAN_METHODS))
    ).all()
    people = sorted(people, key=lambda row: order[row.meeting_id])
    roles = [value for row in people for value in (row.role, row.affiliation) if value]
    titles = session.execute(
        select(AgendaItem.meeting_id, AgendaItem.title).where(AgendaItem.meeting_id.in_(recent))
    ).all()
    titles = sorted(titles, key=lambda row: order[row.meeting_id])
    said = " ".join(session.scalars(select(Segment.text).where(Segment.meeting_id.in_(recent)))).casefold()
    directory = list(session.scalars(select(Legislator.name).distinct())) + list(
        session.scalars(select(DistrictTown.town).distinct())
    )
    mentioned = sorted(
        (name for name in directory if name and re.search(rf"\b{re.escape(name.casefold())}\b", said)),
        key=lambda name: said.find(name.casefold()),
    )
    return [
        ("person", [row.name for row in people]),
        ("role or seat", roles),
        ("agenda item", [row.title for row in titles]),
        ("mentioned before", mentioned),
    ]


def vocabulary_sizes(session: Session) -> dict[int, int]:
    """Terms per body id, for the admin's list of bodies."""
    return dict(session.execute(select(Term.body_id, func.count(Term.id)).group_by(Term.body_id)).all())
