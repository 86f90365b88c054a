"""languages: how each segment's language was decided, a run's languages and gaps, interpretation links, and a
Spanish text search configuration (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

- segments.language_probability and language_source: the transcript's decision per stretch of speech.
- transcription_runs.languages (the languages the run was told to expect, part of its key: a run for English
  alone is not reused for English and Spanish) and gaps (speech heard and not transcribed).
- interpretations: a segment that interprets others (archive.curation.interpretations).
- PostgreSQL: testimony_spanish, the spanish configuration with every word kept (Snowball, no stop list, as
  testimony_english) and accents folded by unaccent before stemming ("policia" finds "policía"). The unaccent
  extension is the one 0002 created (it refuses to run without it), so no fallback is needed. The search vector
  is made again with each segment's own configuration: Spanish segments are stemmed as Spanish, and their
  lexemes carry weight B (the others keep A), so that a query's Spanish stems match Spanish segments only
  (archive.search.postgres: "polici", Spanish for "policía", is also English "policy").
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0014"
branch_labels = None
depends_on = None

VECTOR_SOURCE = "coalesce(public_text, text)"  # as 0009


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_probability", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("language_source", sa.String(length=20), nullable=True))
    with op.batch_alter_table("transcription_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("languages", sa.String(length=200), server_default="en", nullable=False))
        batch_op.add_column(sa.Column("gaps", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    # Runs made before: the one language they were told (or found), English when they say nothing.
    op.execute("UPDATE transcription_runs SET languages = coalesce(language, 'en')")
    with op.batch_alter_table("transcription_runs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_run_recording_engine_model", type_="unique")
        batch_op.create_unique_constraint(
            "uq_run_recording_engine_model_languages", ["recording_id", "engine", "model", "languages"]
        )
    op.create_table(
        "interpretations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("made_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_interpretations_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_interpretations_segment_id_segments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["segments.id"], name=op.f("fk_interpretations_source_id_segments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpretations")),
        sa.UniqueConstraint("segment_id", "source_id", name="uq_interpretation_segment_source"),
    )
    with op.batch_alter_table("interpretations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interpretations_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interpretations_segment_id"), ["segment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interpretations_source_id"), ["source_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _spanish_configuration()
        _vector(
            "CASE WHEN language = 'es' THEN 'testimony_spanish'::regconfig ELSE 'testimony_english'::regconfig END",
            "CASE WHEN language = 'es' THEN 'B' ELSE 'A' END::\"char\"",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _vector("'testimony_english'::regconfig", "'A'")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS testimony_spanish")
        op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS testimony_spanish_stem")
    with op.batch_alter_table("interpretations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interpretations_source_id"))
        batch_op.drop_index(batch_op.f("ix_interpretations_segment_id"))
        batch_op.drop_index(batch_op.f("ix_interpretations_meeting_id"))
    op.drop_table("interpretations")
    with op.batch_alter_table("transcription_runs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_run_recording_engine_model_languages", type_="unique")
        batch_op.create_unique_constraint("uq_run_recording_engine_model", ["recording_id", "engine", "model"])
        batch_op.drop_column("gaps")
        batch_op.drop_column("languages")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("language_source")
        batch_op.drop_column("language_probability")


def _spanish_configuration() -> None:
    unaccent = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT quote_ident(n.nspname) || '.unaccent' FROM pg_extension AS e"
                " JOIN pg_namespace AS n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
            )
        )
        .scalar_one()
    )
    op.execute("CREATE TEXT SEARCH DICTIONARY testimony_spanish_stem (TEMPLATE = snowball, Language = spanish)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION testimony_spanish (COPY = spanish)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION testimony_spanish"
        " ALTER MAPPING REPLACE spanish_stem WITH testimony_spanish_stem"
    )
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION testimony_spanish"
        f" ALTER MAPPING FOR word, hword, hword_part WITH {unaccent}, testimony_spanish_stem"
    )


def _vector(config: str, weight: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_segments_search_vector")
    op.execute("ALTER TABLE segments DROP COLUMN IF EXISTS search_vector")
    op.execute(
        "ALTER TABLE segments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
        f" (setweight(to_tsvector({config}, testimony_search_text({VECTOR_SOURCE})), {weight})) STORED"
    )
    op.execute("CREATE INDEX ix_segments_search_vector ON segments USING gin (search_vector)")
