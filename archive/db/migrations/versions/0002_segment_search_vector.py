"""segments.search_vector: a weighted tsvector the database keeps in sync, with its GIN index (PostgreSQL only)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

What the postgres search backend reads. Made of:

- testimony_search_text(text): the transcript as the text-search parser should see it. PostgreSQL's default
  parser reads HTML (it drops tags and skips what is inside <script> and <style>), but transcripts are plain
  text: "<script>alert(1)</script>" is speech about a script and must find "alert". `<` and `>` become
  control characters 1 and 4, which the parser takes as spaces and the backend turns back into `<` and `>`
  in highlights; characters 2 and 3 are removed, because the backend marks matches in ts_headline with them.
- testimony_english: the english configuration with every word kept (a Snowball stemmer without a stop list:
  "you're here" must match as a phrase) and accents folded by unaccent ("jose cafe" finds "José … café").
  Folding inside the configuration, rather than around the text, means to_tsquery and ts_headline fold the
  same way, so "cafe" also highlights "café".
- testimony_names: the simple configuration with accents folded, for speaker:, role: and body: words.
- segments.search_vector, a STORED generated column, and ix_segments_search_vector, its GIN index.

SQLite has none of this; the migration does nothing there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    unaccent = _unaccent_dictionary()
    op.execute(
        "CREATE FUNCTION testimony_search_text(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        " AS $$ SELECT pg_catalog.translate($1, E'<>\\x02\\x03', E'\\x01\\x04') $$"
    )
    op.execute("CREATE TEXT SEARCH DICTIONARY testimony_english_stem (TEMPLATE = snowball, Language = english)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION testimony_english (COPY = english)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION testimony_english"
        " ALTER MAPPING REPLACE english_stem WITH testimony_english_stem"
    )
    # Only these token types can hold letters with accents; ASCII words skip the unaccent lookup.
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION testimony_english"
        f" ALTER MAPPING FOR word, hword, hword_part WITH {unaccent}, testimony_english_stem"
    )
    op.execute("CREATE TEXT SEARCH CONFIGURATION testimony_names (COPY = simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION testimony_names"
        f" ALTER MAPPING FOR word, hword, hword_part WITH {unaccent}, simple"
    )
    # Writing the column computes it for every existing row (a table rewrite): minutes on millions of segments.
    op.execute(
        "ALTER TABLE segments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
        " (setweight(to_tsvector('testimony_english'::regconfig, testimony_search_text(text)), 'A')) STORED"
    )
    op.execute("CREATE INDEX ix_segments_search_vector ON segments USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_segments_search_vector")
    op.execute("ALTER TABLE segments DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS testimony_names")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS testimony_english")
    op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS testimony_english_stem")
    op.execute("DROP FUNCTION IF EXISTS testimony_search_text(text)")
    # The unaccent extension stays: it is one per database, and other schemas or applications may use it.


def _unaccent_dictionary() -> str:
    """The unaccent dictionary's schema-qualified name, creating the extension when the database lacks it.

    An extension lives in one schema per database. It goes to public when we may create there, so that
    dropping an application schema (as tests and benchmarks do) never drops the extension under the
    configurations of other schemas; elsewhere it goes to the current schema.
    """
    bind = op.get_bind()
    public = bind.execute(
        # CASE, not AND: SQL does not promise to skip has_schema_privilege when there is no public schema.
        sa.text(
            "SELECT CASE WHEN to_regnamespace('public') IS NULL THEN false"
            " ELSE has_schema_privilege('public', 'CREATE') END"
        )
    ).scalar()
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent" + (" SCHEMA public" if public else ""))
    schema = bind.execute(
        sa.text(
            "SELECT quote_ident(n.nspname) FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'unaccent'"
        )
    ).scalar_one()
    return f"{schema}.unaccent"
