"""Curation: curators' corrections of a meeting's transcript, each one a revision that can be shown and reverted.

Segments (archive.curation.segments): edit_text, split_segment, merge_segments, set_speaker, set_kind, set_tags.
Agenda items (archive.curation.agenda): add_agenda_item, edit_agenda_item, delete_agenda_item.
Revisions (archive.curation.revisions): history, revert. Each takes a Session and the acting User (or an actor's
name for the command line), works in the caller's transaction, and leaves the commit and the re-index to it.
"""

from archive.curation.agenda import add_agenda_item, agenda, delete_agenda_item, edit_agenda_item
from archive.curation.revisions import history, revert
from archive.curation.segments import (
    edit_text,
    find_segment,
    merge_segments,
    next_segment,
    parse_tags,
    set_kind,
    set_speaker,
    set_tags,
    split_segment,
)

__all__ = [
    "add_agenda_item",
    "agenda",
    "delete_agenda_item",
    "edit_agenda_item",
    "edit_text",
    "find_segment",
    "history",
    "merge_segments",
    "next_segment",
    "parse_tags",
    "revert",
    "set_kind",
    "set_speaker",
    "set_tags",
    "split_segment",
]
