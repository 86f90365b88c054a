"""hidden swear words: the PostgreSQL search vector reads "f**king" as "fucking", as the Whoosh index does

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08

Whisper writes some swear words with asterisks, more or fewer depending on the machine ("f**king" on one CPU,
"fucking" on another): a search for the word said must find both (archive.search.censored). The text stays as
written; testimony_searchable(text) is what the search vector reads: each hidden word whose first letter is shown
and whose visible letters fit a word of archive.search.censored.SWEAR_WORDS, spelled out (the first that fits, in
that list's order, as the Python reading). The words are copied here as they are today: a migration must not
change when the code does.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SWEAR_WORDS = (
    "fuck",
    "fucking",
    "fucked",
    "fucker",
    "fuckers",
    "fucks",
    "motherfucker",
    "shit",
    "shitty",
    "bullshit",
    "bitch",
    "bitches",
    "asshole",
    "ass",
    "damn",
    "goddamn",
    "dick",
    "bastard",
    "cunt",
    "piss",
    "pissed",
)
VECTOR_SOURCE = "coalesce(public_text, text)"  # as 0009 and 0012
CONFIG = "CASE WHEN language = 'es' THEN 'testimony_spanish'::regconfig ELSE 'testimony_english'::regconfig END"
WEIGHT = "CASE WHEN language = 'es' THEN 'B' ELSE 'A' END::\"char\""


def _searchable_sql() -> str:
    """Nested regexp_replace calls, the first word innermost: a word already spelled out has no asterisk left."""
    expression = "$1"
    for word in SWEAR_WORDS:
        letters = word[0] + "".join(f"[{letter}*]" for letter in word[1:])
        pattern = f"(?<![[:alnum:]_*]){letters}(?![[:alnum:]_*])"
        # Only a word with an asterisk is read: the word written in full is left as it is.
        expression = f"regexp_replace({expression}, '(?=[[:alnum:]_*]*\\*){pattern}', '{word}', 'gi')"
    return expression


def _vector(source: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_segments_search_vector")
    op.execute("ALTER TABLE segments DROP COLUMN IF EXISTS search_vector")
    op.execute(
        "ALTER TABLE segments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
        f" (setweight(to_tsvector({CONFIG}, testimony_search_text({source})), {WEIGHT})) STORED"
    )
    op.execute("CREATE INDEX ix_segments_search_vector ON segments USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION testimony_searchable(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        f" AS $$ SELECT {_searchable_sql()} $$"
    )
    _vector(f"testimony_searchable({VECTOR_SOURCE})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _vector(VECTOR_SOURCE)
    op.execute("DROP FUNCTION IF EXISTS testimony_searchable(text)")
