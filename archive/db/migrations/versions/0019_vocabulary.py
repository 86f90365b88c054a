"""vocabulary_terms: a body's vocabulary, kept by curators, that guides the transcription of its meetings

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-07

Names and places are the words a small model gets wrong and a researcher searches for (issue 24). Each body
keeps its own list, one term a row with an optional note, in the order curators gave; the archive adds the
people, roles and agenda titles it knows when it builds a transcription's prompt (archive.curation.vocabulary).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vocabulary_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"], ["bodies.id"], name=op.f("fk_vocabulary_terms_body_id_bodies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vocabulary_terms")),
        sa.UniqueConstraint("body_id", "term", name="uq_vocabulary_terms_body_term"),
    )
    op.create_index(op.f("ix_vocabulary_terms_body_id"), "vocabulary_terms", ["body_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vocabulary_terms_body_id"), table_name="vocabulary_terms")
    op.drop_table("vocabulary_terms")
