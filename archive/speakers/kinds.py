"""What kind of speech a line is (testimony, deliberation, remark, procedural), suggested from who speaks (the
role of the person a person attributed the voice to) and when (the agenda item, else the meeting's title).

A suggestion is marked (`Segment.kind_suggested`) until a curator chooses a kind, which is never overwritten. It is
worked out again whenever a meeting's lines, voices or agenda change (archive.search.sync, before each commit), so
a freshly ingested meeting has kinds to filter by, and naming the chair or adding an agenda item refines them.
Only confirmed attributions count: a voice match the machine merely suggested tells the public nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import AgendaItem, Meeting, Person, Revision, Segment, Speaker

# An agenda item's (or a meeting's) title → the kind of what is said under it. First match wins.
_TITLES = [
    ("testimony", r"public (comment|hearing|input|testimony|forum)|testimony|hearing|open forum|citizens?'? comment"),
    ("procedural", r"call(ed)? to order|roll call|minutes|adjourn|approval of (the )?agenda|pledge|announcements"),
    ("deliberation", r"discussion|deliberat|consideration|old business|new business|action items?|motion|vote"),
]
# A person's role → what their words are, before the agenda item is considered.
_ROLES = [
    ("chair", r"\bchair|presiding|mayor|president|moderator"),
    ("member", r"member|council(lor|or)?|commissioner|senator|representative|trustee|selectboard|alder"),
    ("public", r"public|commenter|testif|witness|resident|citizen|farmworker|advocate|organizer"),
    ("staff", r"staff|clerk|counsel|attorney|secretary|director|manager|officer"),
]


def _match(rules: list[tuple[str, str]], text: str | None) -> str | None:
    for name, pattern in rules:
        if text and re.search(pattern, text, re.IGNORECASE):
            return name
    return None


def title_kind(title: str | None) -> str | None:
    """The kind an agenda item's or meeting's title suggests: "Public comment" → testimony."""
    return _match(_TITLES, title)


def suggested_kind(role: str | None, setting: str | None) -> str | None:
    """The kind of a line by a person of `role` (None: unknown) under an item suggesting `setting`."""
    who = _match(_ROLES, role)
    if who == "public":
        return "testimony"
    if who == "chair":
        return "deliberation" if setting == "deliberation" else "procedural"
    if who == "member":
        return "remark" if setting in ("testimony", "procedural") else "deliberation"
    if who == "staff":
        return "procedural" if setting == "procedural" else "remark"
    return setting  # nobody known: what the agenda says happens then (the public speaks during public comment)


def suggest_kinds(session: Session, meeting: Meeting) -> int:
    """Set the suggested kind of each line a curator has not given one; returns how many changed."""
    items = session.execute(
        select(AgendaItem.start, AgendaItem.title).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.start)
    ).all()
    roles = dict(
        session.execute(
            select(Speaker.id, Person.role)
            .join(Person, Person.id == Speaker.person_id)
            .where(Speaker.meeting_id == meeting.id)
        ).all()
    )
    whole = title_kind(meeting.title)
    changed = 0
    # A line a curator gave a kind to, or cleared the kind of (a "kind" revision), is theirs: never suggested over.
    chosen = select(Revision.segment_id).where(
        Revision.meeting_id == meeting.id, Revision.action == "kind", Revision.segment_id.is_not(None)
    )
    segments = session.scalars(
        select(Segment).where(
            Segment.meeting_id == meeting.id,
            Segment.kind_suggested.is_(True) | (Segment.kind.is_(None) & Segment.id.not_in(chosen)),
        )
    )
    for segment in segments:
        setting = whole
        for start, title in items:  # the item in force when the line starts
            if start > segment.start:
                break
            setting = title_kind(title) or whole
        kind = suggested_kind(roles.get(segment.speaker_id or 0), setting)
        if (segment.kind, segment.kind_suggested) != (kind, kind is not None):
            segment.kind, segment.kind_suggested = kind, kind is not None
            changed += 1
    session.flush()
    return changed
