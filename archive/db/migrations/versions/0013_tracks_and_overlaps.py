"""tracks and overlaps: simultaneous tracks of one meeting, overlapping speech to review, lines a curator added

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07

A recording may be one of a meeting's simultaneous tracks (`track`: the file's or channel's name, its `offset`
then its own start on the meeting's time, not the end of the one before). A voice found on one track keeps it
(`speakers.track`), so words heard on one microphone go to that microphone's voices. Diarization's
overlapping speech on a mixed track is kept (`overlaps`) for a curator to listen to; a line a curator
transcribed from the recording says so (`segments.source`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD/DROP COLUMN on both databases (no table rebuilds: SQLite has both since 3.35).
    op.add_column("recordings", sa.Column("track", sa.String(length=300), nullable=True))
    op.add_column("speakers", sa.Column("track", sa.String(length=300), nullable=True))
    op.add_column("segments", sa.Column("source", sa.String(length=40), nullable=True))
    op.create_table(
        "overlaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("voices", sa.JSON(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_overlaps_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_overlaps_recording_id_recordings"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overlaps")),
    )
    op.create_index(op.f("ix_overlaps_meeting_id"), "overlaps", ["meeting_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_overlaps_meeting_id"), table_name="overlaps")
    op.drop_table("overlaps")
    op.drop_column("segments", "source")
    op.drop_column("speakers", "track")
    op.drop_column("recordings", "track")
