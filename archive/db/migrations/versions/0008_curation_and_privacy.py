"""revisions and agenda items (curation); the redaction ledger and consent per voice (privacy); users.totp_last_counter

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

Curators' corrections are kept as revisions (the machine transcript never changes); redactions are an
append-only ledger applied to every public surface (archive.curation, archive.privacy).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_counter", sa.Integer(), nullable=True))
    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_agenda_items_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_items_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("speaker_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("consent", sa.String(length=20), nullable=True),
        sa.Column("start", sa.Float(), nullable=True),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("phrase", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("approved_by", sa.String(length=320), nullable=False),
        sa.Column("lifts_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lifts_id"], ["redactions.id"], name=op.f("fk_redactions_lifts_id_redactions"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_redactions_meeting_id_meetings"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["speakers.id"], name=op.f("fk_redactions_speaker_id_speakers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_redactions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redactions")),
    )
    with op.batch_alter_table("redactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redactions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_redactions_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("reverts_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_revisions_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reverts_id"], ["revisions.id"], name=op.f("fk_revisions_reverts_id_revisions"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_revisions_segment_id_segments"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_revisions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_segment_id"), ["segment_id"], unique=False)

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("public_text", sa.Text(), nullable=True))

    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent", sa.String(length=20), server_default="public", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.drop_column("consent")

    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("public_text")
        batch_op.drop_column("revised_at")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("purged_at")

    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisions_segment_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_created_at"))

    op.drop_table("revisions")
    with op.batch_alter_table("redactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redactions_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_redactions_created_at"))

    op.drop_table("redactions")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_meeting_id"))

    op.drop_table("agenda_items")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_counter")
