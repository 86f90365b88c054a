"""What a revision changed, in words a curator reads on the history page: a word diff of each line's text and
the other fields before → after."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from archive.curation.revisions import rows_of
from archive.db.models import Revision

FIELDS = {"segments": ("speaker_id", "kind", "tags", "start", "end"), "agenda_items": ("start",)}


@dataclass(frozen=True)
class RowChange:
    table: str  # "segments" or "agenda_items"
    id: int
    status: str  # "changed", "added" (a split's second half) or "removed" (a merge's second line)
    words: list[tuple[str, str]]  # (op, text): op is "same", "removed" or "added"
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # (name, before, after) where they differ


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The words of both texts in order, each marked kept, removed or added."""
    old, new = before.split(), after.split()
    parts: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("removed", " ".join(old[i1:i2])))
        if j2 > j1:
            parts.append(("added", " ".join(new[j1:j2])))
    return parts


def changes(revision: Revision) -> list[RowChange]:
    table, before_rows = rows_of(revision.before)
    _, after_rows = rows_of(revision.after)
    before = {row["id"]: row for row in before_rows}
    after = {row["id"]: row for row in after_rows}
    text = "text" if table == "segments" else "title"
    found = []
    for row_id in dict.fromkeys([*before, *after]):
        old, new = before.get(row_id), after.get(row_id)
        status = "added" if old is None else "removed" if new is None else "changed"
        old, new = old or {}, new or {}
        fields = [
            (name, old.get(name), new.get(name))
            for name in FIELDS[table]
            if status == "changed" and old.get(name) != new.get(name)
        ]
        found.append(RowChange(table, row_id, status, word_diff(old.get(text, ""), new.get(text, "")), fields))
    return found
