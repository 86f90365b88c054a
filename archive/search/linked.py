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
import functools
from typing import Any

from sqlalchemy import Select, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from archive.db.models import Interpretation, Segment
from archive.search import LinkedLine, SearchPage, line_id

CONFIRMED = "confirmed"  # a machine's suggestion is never shown as fact (archive.curation.interpretations)
Found = tuple[int, str | None, float, float, str]  # a linked line's id, language, start, end and published text


def with_linked_lines(session: Session, page: SearchPage) -> SearchPage:
    """The page with each hit's originals and interpretations filled in."""
    ids = [hit.segment_id for hit in page.hits]
    if not ids:
        return page
    rows = session.execute(_linked_statement(), {"ids": ids}).all()
    if not rows:
        return page
    found: dict[str, dict[int, list[Found]]] = {"original": {}, "interpretation": {}}
    for hit_id, relation, linked_id, language, start, end, text in rows:
        found[relation].setdefault(hit_id, []).append((linked_id, language, start, end, text))

    def lines(meeting_url: str, linked_lines: list[Found]) -> tuple[LinkedLine, ...]:
        return tuple(
            LinkedLine(i, language, start, end, text, f"{meeting_url}?t={int(start)}#{line_id(i)}")
            for i, language, start, end, text in linked_lines
        )

    hits = [
        dataclasses.replace(
            hit,
            # A link never leaves its meeting: the linked line is on the hit's meeting page.
            originals=lines(hit.meeting_url, found["original"].get(hit.segment_id, [])),
            interpretations=lines(hit.meeting_url, found["interpretation"].get(hit.segment_id, [])),
        )
        for hit in page.hits
    ]
    return dataclasses.replace(page, hits=hits)


def any_confirmed(session: Session) -> bool:
    """Whether the archive has any confirmed link: most have no interpreter, and then no hit has a linked line
    (the site asks once per content_version, archive.web.context.run_search)."""
    return session.scalar(select(Interpretation.id).where(Interpretation.status == CONFIRMED).limit(1)) is not None


@functools.cache
def _linked_statement() -> Select[Any]:
    """The lines linked to the hits whose ids are bound as `ids`, both directions in one statement. Made once:
    building it (the union's columns above all) cost a sixth of a search page; executed, it is compiled once too."""
    published = func.coalesce(Segment.public_text, Segment.text)
    ids: BindParameter[int] = bindparam("ids", expanding=True)

    def linked(hit: Any, relation: str, other: Any) -> Select[Any]:
        """The lines tied to the hits whose id is in `ids`: the segment at the link's `other` end."""
        return (
            select(
                hit.label("hit"),
                literal(relation).label("relation"),
                Segment.id,
                Segment.language,
                Segment.start,
                Segment.end,
                published.label("text"),
            )
            .join(Segment, Segment.id == other)
            .where(hit.in_(ids), Interpretation.status == CONFIRMED, published != "")  # "": an unpublished voice
        )

    # Each half uses its own index (interpretations.segment_id, .source_id).
    both = union_all(
        linked(Interpretation.segment_id, "original", Interpretation.source_id),
        linked(Interpretation.source_id, "interpretation", Interpretation.segment_id),
    ).subquery()
    return select(both).order_by(both.c.start, both.c.id)
