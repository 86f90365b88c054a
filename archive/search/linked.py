"""Interpretation beside its original on a page of hits: confirmed links only, as published, in one query.

A hit on an interpreter's line shows the words it interprets, a hit on testimony shows the interpreter's rendering
(only a curator's confirmed links count: a machine's suggestion is never shown as fact).

One query for the whole page. The linked lines are read as published: `Segment.public_text`, which the privacy
ledger keeps in step in the same transaction as any change (archive.privacy.ledger.refresh_public_text; the
PostgreSQL backend searches the same column), so withheld words and unpublished voices never come back through
a link.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from archive.db.models import Interpretation, Segment
from archive.search import LinkedLine, SearchPage, line_id

CONFIRMED = "confirmed"  # a machine's suggestion is never shown as fact (archive.curation.interpretations)
Found = tuple[int, str | None, float, float, str]  # a linked line's id, language, start, end and published text


def with_linked_lines(session: Session, page: SearchPage) -> SearchPage:
    """The page with each hit's originals and interpretations filled in."""
    ids = [hit.segment_id for hit in page.hits]
    if not ids:
        return page
    interprets = and_(Interpretation.segment_id.in_(ids), Segment.id == Interpretation.source_id)
    interpreted_by = and_(Interpretation.source_id.in_(ids), Segment.id == Interpretation.segment_id)
    published = func.coalesce(Segment.public_text, Segment.text)
    rows = session.execute(
        select(
            Interpretation.segment_id,
            Interpretation.source_id,
            Segment.id,
            Segment.language,
            Segment.start,
            Segment.end,
            published,
        )
        .join(Segment, or_(interprets, interpreted_by))
        .where(Interpretation.status == CONFIRMED, published != "")  # "": an unpublished voice's line
        .order_by(Segment.start, Segment.id)
    ).all()
    if not rows:
        return page
    originals: dict[int, list[Found]] = {}
    interpretations: dict[int, list[Found]] = {}
    for segment_id, source_id, linked_id, language, start, end, text in rows:
        line = (linked_id, language, start, end, text)
        if linked_id == source_id:  # the hit is the interpretation: this is its original
            originals.setdefault(segment_id, []).append(line)
        else:
            interpretations.setdefault(source_id, []).append(line)

    def lines(meeting_url: str, found: list[Found]) -> tuple[LinkedLine, ...]:
        return tuple(
            LinkedLine(i, language, start, end, text, f"{meeting_url}?t={int(start)}#{line_id(i)}")
            for i, language, start, end, text in found
        )

    hits = [
        dataclasses.replace(
            hit,
            # A link never leaves its meeting: the linked line is on the hit's meeting page.
            originals=lines(hit.meeting_url, originals.get(hit.segment_id, [])),
            interpretations=lines(hit.meeting_url, interpretations.get(hit.segment_id, [])),
        )
        for hit in page.hits
    ]
    return dataclasses.replace(page, hits=hits)
