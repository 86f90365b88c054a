"""follows: a mailbox following a search, a body or a speaker by email (double opt-in, a daily digest)

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("email_key", "kind", "target", name="uq_follows_email_key_kind_target"),
    )
    op.create_index(op.f("ix_follows_email_key"), "follows", ["email_key"], unique=False)
    op.create_index(op.f("ix_follows_status"), "follows", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_follows_status"), table_name="follows")
    op.drop_index(op.f("ix_follows_email_key"), table_name="follows")
    op.drop_table("follows")
