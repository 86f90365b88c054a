"""content_version: one number that every write of public content adds one to (archive.db.version)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

The site keeps rendered public pages for visitors keyed by this number, so a change to anything they show
(a correction, a redaction, a new meeting) makes every kept page stale at once. The row is made by the first
write (an upsert), so a database copied without data still works.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )


def downgrade() -> None:
    op.drop_table("content_version")
