"""Curators' interpretation links: confirm what the machine suggested, point a line at other sources, or remove it.

A link says "this line is the interpreter's rendering of those lines" (archive.ingest.interpretations suggests
them). Each change is a revision like any correction (archive.curation.revisions), with its audit event, and can
be reverted. Only confirmed links are published: the meeting page shows the interpretation under its original,
and an excerpt of the original carries the interpreter's words, labelled as interpretation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.curation.revisions import add_revision
from archive.db.models import Interpretation, Revision, Segment, User
from archive.errors import InvalidInput, NotFound

CONFIRMED = "confirmed"
MAX_SOURCES = 20


def link_row(link: Interpretation) -> dict[str, Any]:
    return {"id": link.id, "segment_id": link.segment_id, "source_id": link.source_id, "status": link.status}


def links_of(session: Session, segment_id: int) -> list[Interpretation]:
    return list(
        session.scalars(
            select(Interpretation).where(Interpretation.segment_id == segment_id).order_by(Interpretation.source_id)
        )
    )


def set_interpretation(
    session: Session, segment_id: int, source_ids: Sequence[int], *, user: User | None = None, actor: str = ""
) -> Revision:
    """Make `segment_id` the confirmed interpretation of exactly `source_ids` (none: it interprets nothing)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id}")
    wanted = sorted(dict.fromkeys(source_ids))
    if len(wanted) > MAX_SOURCES:
        raise InvalidInput(f"sources: at most {MAX_SOURCES} lines")
    if segment_id in wanted:
        raise InvalidInput("sources: a line cannot interpret itself")
    for source_id in wanted:
        source = session.get(Segment, source_id)
        if source is None or source.meeting_id != segment.meeting_id:
            raise InvalidInput(f"sources: line {source_id} is not a line of this meeting")
    current = links_of(session, segment_id)
    if [(link.source_id, link.status) for link in current] == [(s, CONFIRMED) for s in wanted]:
        raise InvalidInput("sources: nothing changed")
    before = [link_row(link) for link in current]
    who = actor.strip() or (user.email if user is not None else "")
    kept = {link.source_id: link for link in current if link.source_id in wanted}
    for link in current:
        if link.source_id in kept:
            link.status = CONFIRMED  # a suggestion confirmed keeps its row
        else:
            session.delete(link)
    for source_id in wanted:
        if source_id not in kept:
            session.add(
                Interpretation(
                    meeting_id=segment.meeting_id,
                    segment_id=segment_id,
                    source_id=source_id,
                    status=CONFIRMED,
                    made_by=who,
                )
            )
    session.flush()
    after = [link_row(link) for link in links_of(session, segment_id)]
    return add_revision(
        session,
        segment.meeting,
        "interpretation",
        "interpretation-link",
        {"interpretations": before},
        {"interpretations": after},
        user=user,
        actor=actor,
        segment_id=segment_id,
    )


def confirmed_links(session: Session, meeting_id: int) -> dict[int, list[int]]:
    """The meeting's confirmed links: interpretation segment id → its source segment ids."""
    found: dict[int, list[int]] = {}
    for segment_id, source_id in session.execute(
        select(Interpretation.segment_id, Interpretation.source_id)
        .where(Interpretation.meeting_id == meeting_id, Interpretation.status == CONFIRMED)
        .order_by(Interpretation.segment_id, Interpretation.source_id)
    ):
        found.setdefault(segment_id, []).append(source_id)
    return found


def suggested_links(session: Session, meeting_id: int) -> dict[int, list[int]]:
    """The machine's suggestions not yet confirmed (for curators only): segment id → source segment ids."""
    found: dict[int, list[int]] = {}
    for segment_id, source_id in session.execute(
        select(Interpretation.segment_id, Interpretation.source_id)
        .where(Interpretation.meeting_id == meeting_id, Interpretation.status != CONFIRMED)
        .order_by(Interpretation.segment_id, Interpretation.source_id)
    ):
        found.setdefault(segment_id, []).append(source_id)
    return found
