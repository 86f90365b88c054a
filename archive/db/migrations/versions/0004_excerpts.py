"""excerpts: citable spans of meetings; a meeting's transcript review

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "excerpts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verified_quote_sha256", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_excerpts_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excerpts")),
        sa.UniqueConstraint("slug", name=op.f("uq_excerpts_slug")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_excerpts_idempotency_key")),
    )
    op.create_index(op.f("ix_excerpts_meeting_id"), "excerpts", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_excerpts_created_at"), "excerpts", ["created_at"], unique=False)

    # Who reviewed the meeting's transcript against the recording, and when; both empty: the machine's.
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
    op.drop_table("excerpts")
