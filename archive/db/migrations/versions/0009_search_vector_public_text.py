"""segments.search_vector from the published text: coalesce(public_text, text) (PostgreSQL only)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

A redaction (archive.privacy) sets a segment's public_text: the text with withheld words replaced, or "" when
the voice asked not to be published. Building the vector from it means withheld words cannot be found, and are
not in the index at all. A generated column's expression cannot be altered before PostgreSQL 17, so the column
and its GIN index are made again (a table rewrite, as 0002). SQLite has none of this; nothing to do there.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _vector(source: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_segments_search_vector")
    op.execute("ALTER TABLE segments DROP COLUMN IF EXISTS search_vector")
    op.execute(
        "ALTER TABLE segments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
        f" (setweight(to_tsvector('testimony_english'::regconfig, testimony_search_text({source})), 'A')) STORED"
    )
    op.execute("CREATE INDEX ix_segments_search_vector ON segments USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _vector("coalesce(public_text, text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _vector("text")
