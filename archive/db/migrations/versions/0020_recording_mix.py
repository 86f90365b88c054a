"""recordings.mix: the mixdown of a tracks meeting, the one recording the public plays and clips

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08

A meeting recorded as simultaneous tracks (archive.ingest.tracks) gets one more recording, the sum of its tracks
(archive.media.mixdown): the meeting page's player, excerpt clips and the public recording route use it, so a
remark said on one microphone is heard with the testimony said over it on another. It is not a track: it is
never transcribed or diarized, and Meeting.recordings leaves it out (Meeting.mix is it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("mix", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("mix")
