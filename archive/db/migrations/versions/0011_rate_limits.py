"""rate_limits: counters that sign-in throttling and letter limits take from atomically

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Counting failed sign-ins in the audit log let concurrent guesses pass the check together (12 of 40 with a limit
of 5), and letters counted in their table did the same. A counter row taken by one conditional upsert is exact on
SQLite and PostgreSQL (archive.db.limits).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index(op.f("ix_rate_limits_expires_at"), "rate_limits", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limits_expires_at"), table_name="rate_limits")
    op.drop_table("rate_limits")
