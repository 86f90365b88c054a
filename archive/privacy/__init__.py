"""Consent and redaction: the append-only ledger, the public view of a meeting, the public audio and purges."""

from archive.privacy.ledger import (
    find_meeting,
    ledger,
    lift,
    lifted_ids,
    redact_phrase,
    redact_range,
    refresh_public_text,
    set_consent,
)
from archive.privacy.purge import TOMBSTONE_TITLE, purge_meeting, remove_files, republish
from archive.privacy.view import (
    REDACTED,
    PublicView,
    PublishedSegment,
    public_view,
    published_segments,
    silenced_ranges,
)

__all__ = [
    "REDACTED",
    "TOMBSTONE_TITLE",
    "PublicView",
    "PublishedSegment",
    "find_meeting",
    "ledger",
    "lift",
    "lifted_ids",
    "public_view",
    "published_segments",
    "purge_meeting",
    "redact_phrase",
    "redact_range",
    "refresh_public_text",
    "remove_files",
    "republish",
    "set_consent",
    "silenced_ranges",
]
