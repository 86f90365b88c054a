"""What the public may see of one meeting: the single place where consent, ranges and phrases are applied.

Every public surface (pages, exports, the API, search documents, feeds, excerpts, cards, clips, the dump and
the public recording) reads a meeting through `public_view`, so a redaction shows everywhere at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import CampaignExcerpt, Excerpt, Meeting, Redaction, Segment, Speaker
from archive.locales import Text

REDACTED = "[redacted]"
PSEUDONYM = "Public commenter {}"
# Whisper's word times are a little loose: a name said aloud is silenced with this much to spare each side.
WORD_PAD = 0.08
HIDDEN = ("unpublished",)
NAMELESS = ("name-withheld",)
SILENT = ("voice-withheld", "unpublished")
# The consents under which a voice is tied to its person in public (voice-withheld: named, but silent).
NAMED = ("public", "voice-withheld")
_EDGE = re.compile(r"^\W+|\W+$")
_MACHINE_LABEL = re.compile(r"^SPEAKER_(\d+)$")
SPEAKER_COLOURS = 8  # site.css has .speaker-0 … .speaker-7


def neutral_label(label: str) -> str:
    """What the public reads for a voice nobody has named: "Speaker 4" for the machine's SPEAKER_03.

    Counted from 1 as people count; the machine label stays in the data (`label`), this is only for reading.
    """
    found = _MACHINE_LABEL.match(label)
    return f"Speaker {int(found.group(1)) + 1}" if found else label


def speaker_colour(label: str | None) -> str:
    """The class that gives a voice its colour on the page, stable per voice (the name beside it says who)."""
    found = _MACHINE_LABEL.match(label or "")
    return f"speaker-{int(found.group(1)) % SPEAKER_COLOURS}" if found else "speaker-none"


def voice_name(voice: Voice | None) -> str | None:
    """The words a reader sees for a voice: the name the public may see, else its neutral label."""
    return (voice["name"] or neutral_label(voice["label"])) if voice else None


class Voice(TypedDict):
    """A voice as segments, quotes and a meeting's speakers carry it; a name-withheld voice by its pseudonym."""

    label: str
    name: str | None
    role: str | None
    person_id: int | None


class SegmentLike(Protocol):
    """What the view reads of a segment: an ORM Segment, or a row read without the ORM (archive.publish)."""

    @property
    def id(self) -> int: ...
    @property
    def speaker_id(self) -> int | None: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def words(self) -> list[dict[str, Any]]: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def kind_suggested(self) -> bool: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def language(self) -> str | None: ...
    @property
    def speaker(self) -> Speaker | None: ...


@dataclass(frozen=True)
class PublishedSegment:
    """A segment as the public sees it: its text and words after redactions, its voice as it may be named."""

    segment: SegmentLike
    text: str
    words: list[dict[str, Any]]
    speaker: Voice | None
    redacted: bool  # something in it was withheld


@dataclass
class PublicView:
    """The redactions in force for one meeting, and how they change what is shown."""

    meeting_id: int
    consents: dict[int, str] = field(default_factory=dict)  # speaker id -> consent, where not "public"
    pseudonyms: dict[int, str] = field(default_factory=dict)  # speaker id -> "Public commenter N"
    ranges: list[tuple[float, float]] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    purged: bool = False
    # Each voice as voice() gives it, worked out once: a meeting asks for its few voices once per line.
    _voices: dict[int, Voice] = field(default_factory=dict, repr=False)

    # --- voices --------------------------------------------------------------------------------------

    def voice(self, speaker: Speaker | None) -> Voice | None:
        """A voice as segments and quotes carry it; a name-withheld voice by its pseudonym only."""
        if speaker is None:
            return None
        known = self._voices.get(speaker.id)
        if known is None:
            if speaker.id in self.pseudonyms:
                known = Voice(label=speaker.label, name=self.pseudonyms[speaker.id], role=None, person_id=None)
            else:
                known = Voice(label=speaker.label, name=speaker.name, role=speaker.role, person_id=speaker.person_id)
            self._voices[speaker.id] = known
        return known.copy()  # each caller its own copy

    def names_person(self, speaker: Speaker) -> bool:
        """Whether public surfaces may tie this voice to its person (name, role, affiliation, page)."""
        return speaker.person is not None and self.consents.get(speaker.id) not in (*NAMELESS, *HIDDEN)

    def shows(self, segment: SegmentLike) -> bool:
        return self.consents.get(segment.speaker_id or 0) not in HIDDEN

    # --- text ------------------------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """Phrases withheld from any text of the meeting (a transcript line, its title, an agenda item's title,
        an excerpt's title or note)."""
        return redact_phrases(text, self.phrases)

    def publish(self, segment: SegmentLike) -> PublishedSegment | None:
        """The segment as published, or None when it is not published at all."""
        if not self.shows(segment):
            return None
        words, touched = self._words(segment)
        text = segment.text
        in_range = any(segment.start < end and start < segment.end for start, end in self.ranges)
        if in_range:  # text rebuilt from the words, whose times say what lies in the range
            text = " ".join(w["word"].strip() for w in words) if segment.words else REDACTED
        text = self.redact_text(text)
        redacted = touched or text != segment.text
        return PublishedSegment(segment, text, words, self.voice(segment.speaker), redacted)

    def _words(self, segment: SegmentLike) -> tuple[list[dict[str, Any]], bool]:
        """The segment's words with withheld ones replaced; consecutive withheld words become one."""
        if not self.ranges and not self.phrases:  # most meetings: nothing withheld word by word
            return segment.words, False
        hidden = [self._in_range(w) for w in segment.words]
        for first, last in self._phrase_spans(segment.words):
            for i in range(first, last + 1):
                hidden[i] = True
        words: list[dict[str, Any]] = []
        for word, withheld in zip(segment.words, hidden, strict=True):
            if not withheld:
                words.append(word)
            elif words and words[-1]["word"] == REDACTED:
                words[-1] = {**words[-1], "end": word["end"]}
            else:
                words.append({"word": REDACTED, "start": word["start"], "end": word["end"], "probability": 1.0})
        return words, any(hidden)

    def _in_range(self, word: dict[str, Any]) -> bool:
        middle = (word["start"] + word["end"]) / 2
        return any(start <= middle <= end for start, end in self.ranges)

    def _phrase_spans(self, words: list[dict[str, Any]]) -> list[tuple[int, int]]:
        """Index spans of words that say a withheld phrase (case and punctuation aside)."""
        spoken = [_EDGE.sub("", w["word"]).lower() for w in words]
        spans = []
        for phrase in self.phrases:
            wanted = [_EDGE.sub("", token).lower() for token in phrase.split()]
            wanted = [token for token in wanted if token]
            for i in range(len(spoken) - len(wanted) + 1):
                if wanted and spoken[i : i + len(wanted)] == wanted:
                    spans.append((i, i + len(wanted) - 1))
        return spans

    # --- audio -----------------------------------------------------------------------------------------

    def silenced(self, segments: list[Segment], speakers: list[Speaker]) -> list[tuple[float, float]]:
        """Spans of the meeting's timeline silenced in every public copy and clip, merged and sorted."""
        spans = list(self.ranges)
        for segment in segments:
            if self.consents.get(segment.speaker_id or 0) in SILENT:
                spans.append((segment.start, segment.end))
            for first, last in self._phrase_spans(segment.words):
                spans.append((segment.words[first]["start"] - WORD_PAD, segment.words[last]["end"] + WORD_PAD))
        for speaker in speakers:
            if self.consents.get(speaker.id) in SILENT:
                spans.extend((float(a), float(b)) for a, b in speaker.turns or [])
        return merge_spans(spans)


def merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, a), b) for a, b in spans if b > a):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(round(a, 3), round(b, 3)) for a, b in merged]


def redact_phrases(text: str, phrases: Iterable[str], *, between: str = r"\s+") -> str:
    """The text with each whole-word occurrence of these phrases replaced by [redacted]; `between` the words."""
    for phrase in phrases:
        text = phrase_pattern(phrase, between).sub(REDACTED, text)
    return text


# Between the words of a phrase in a file's name ("zyx-quorran.flac", "zyx_quorran"): any run of non-letters.
IN_FILE_NAMES = r"[\W_]+"


def phrase_pattern(phrase: str, between: str = r"\s+") -> re.Pattern[str]:
    # Whole words only ("Ann" leaves "Annex" alone), any run of spaces between them, any case.
    return re.compile(r"(?<!\w)" + between.join(re.escape(t) for t in phrase.split()) + r"(?!\w)", re.IGNORECASE)


def in_force(session: Session, meeting_id: int) -> list[Redaction]:
    """The meeting's range and phrase redactions that no later row lifted, oldest first."""
    lifted = select(Redaction.lifts_id).where(Redaction.lifts_id.is_not(None))
    return list(
        session.scalars(
            select(Redaction)
            .where(
                Redaction.meeting_id == meeting_id,
                Redaction.scope.in_(("range", "phrase")),
                Redaction.id.not_in(lifted),
            )
            .order_by(Redaction.id)
        )
    )


def withheld_phrases(session: Session, meeting_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """The phrases in force, by meeting (all meetings, or these): one small query, for the pages that list many
    meetings' titles (a list, search hits, feeds) or quote several meetings (a campaign's texts)."""
    lifted = select(Redaction.lifts_id).where(Redaction.lifts_id.is_not(None))
    query = select(Redaction.meeting_id, Redaction.phrase).where(
        Redaction.scope == "phrase", Redaction.phrase.is_not(None), Redaction.id.not_in(lifted)
    )
    if meeting_ids is not None:
        query = query.where(Redaction.meeting_id.in_(set(meeting_ids)))
    phrases: dict[int, list[str]] = {}
    for meeting_id, phrase in session.execute(query.order_by(Redaction.id)).all():
        if meeting_id is not None and phrase:
            phrases.setdefault(meeting_id, []).append(phrase)
    return phrases


def public_title(session: Session, meeting: Meeting) -> str:
    """The meeting's title as the public reads it: a phrase withheld in the meeting is withheld in its title."""
    return redact_phrases(meeting.title, withheld_phrases(session, [meeting.id]).get(meeting.id, []))


def campaign_phrases(session: Session, campaign_id: int) -> list[str]:
    """The phrases a campaign's texts (title, why, subject, letter) withhold: those withheld in any meeting it cites
    an excerpt of, since an organizer's text may quote the excerpt's meeting (docs/curation.md, "Redactions")."""
    cited = (
        select(Excerpt.meeting_id)
        .join(CampaignExcerpt, CampaignExcerpt.excerpt_id == Excerpt.id)
        .where(CampaignExcerpt.campaign_id == campaign_id)
    )
    phrases = withheld_phrases(session, session.scalars(cited).all())
    return list(dict.fromkeys(phrase for meeting in sorted(phrases) for phrase in phrases[meeting]))


def public_campaign_text(session: Session, campaign_id: int, text: str | None) -> str:
    """One of a campaign's texts as the public (and every email) reads it: campaign_phrases withheld."""
    return redact_phrases(text or "", campaign_phrases(session, campaign_id))


def public_view(session: Session, meeting: Meeting) -> PublicView:
    """Read the ledger and the voices' consent for one meeting (a few small queries)."""
    view = PublicView(meeting.id, purged=meeting.purged_at is not None)
    if meeting.purged_at is not None:
        removed = Text("This meeting was removed at a speaker's request on %(date)s.", date=meeting.purged_at)
        view.notices.append(removed)
        return view
    speakers = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id)).all()
    view.consents = {s.id: s.consent for s in speakers if s.consent and s.consent != "public"}
    if view.consents:
        first = dict(
            session.execute(
                select(Segment.speaker_id, func.min(Segment.start))
                .where(Segment.meeting_id == meeting.id, Segment.speaker_id.in_(view.consents))
                .group_by(Segment.speaker_id)
            ).all()
        )
        nameless = sorted(
            (s for s in speakers if view.consents.get(s.id) in NAMELESS),
            key=lambda s: (first.get(s.id) if first.get(s.id) is not None else 1e12, s.label),
        )
        view.pseudonyms = {s.id: PSEUDONYM.format(n) for n, s in enumerate(nameless, start=1)}
        changed = _consent_dates(session, meeting.id)
        for speaker in speakers:
            consent = view.consents.get(speaker.id)
            if consent:
                view.notices.append(_consent_notice(consent, changed.get(speaker.id)))
    for row in in_force(session, meeting.id):
        if row.scope == "range" and row.start is not None and row.end is not None:
            view.ranges.append((row.start, row.end))
        elif row.scope == "phrase" and row.phrase:
            view.phrases.append(row.phrase)
        view.notices.append(Text("A portion was redacted at the speaker's request on %(date)s.", date=row.created_at))
    return view


def _consent_dates(session: Session, meeting_id: int) -> dict[int, dt.datetime]:
    rows = session.execute(
        select(Redaction.speaker_id, func.max(Redaction.created_at))
        .where(Redaction.meeting_id == meeting_id, Redaction.scope == "consent")
        .group_by(Redaction.speaker_id)
    ).all()
    return {speaker_id: at for speaker_id, at in rows if speaker_id is not None}


def _consent_notice(consent: str, at: dt.datetime | None) -> str:
    if at is None:
        return {
            "name-withheld": Text("A speaker's name is withheld at the speaker's request."),
            "voice-withheld": Text("A speaker's audio is withheld at the speaker's request."),
            "unpublished": Text("A speaker's testimony is unpublished at the speaker's request."),
        }[consent]
    return {
        "name-withheld": Text("A speaker's name is withheld at the speaker's request on %(date)s.", date=at),
        "voice-withheld": Text("A speaker's audio is withheld at the speaker's request on %(date)s.", date=at),
        "unpublished": Text("A speaker's testimony is unpublished at the speaker's request on %(date)s.", date=at),
    }[consent]


def published_segments(session: Session, meeting: Meeting) -> list[PublishedSegment]:
    """The meeting's segments as published, in time order, with redactions applied."""
    view = public_view(session, meeting)
    segments = session.scalars(
        select(Segment).where(Segment.meeting_id == meeting.id).order_by(Segment.start, Segment.id)
    ).all()
    return [p for p in (view.publish(s) for s in segments) if p is not None]


def silenced_ranges(session: Session, meeting: Meeting) -> list[tuple[float, float]]:
    """The spans of the meeting's timeline that the public recording and clips must not let anyone hear."""
    view = public_view(session, meeting)
    segments = session.scalars(select(Segment).where(Segment.meeting_id == meeting.id)).all()
    speakers = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id)).all()
    return view.silenced(list(segments), list(speakers))
