"""Attribution a person confirmed: automatic voice matches become suggestions; segment kinds may be suggested

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07

An automatic voice match once published a farmworker's testimony as the council chair's (similarity 0.81). A
voice match is now only a suggestion to a curator: every voice attributed by "voice-match" gets that person as
its suggestion (with the score) and loses the attribution, which the ledger records as withdrawn; a check
constraint keeps the database from holding such an attribution again. Segments get `kind_suggested`: True while
their kind is the archive's suggestion from roles and the agenda rather than a curator's (archive.speakers.kinds).

After upgrading, run `testimony reindex` so the Whoosh index forgets the names it held (PostgreSQL's search reads
the speakers' rows directly).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NOTE = "an automatic voice match is only a suggestion: moved to the curators' suggestions (migration 0014)"


def upgrade() -> None:
    bind = op.get_bind()
    speakers = sa.table(
        "speakers",
        sa.column("id", sa.Integer),
        sa.column("person_id", sa.Integer),
        sa.column("attribution", sa.String),
        sa.column("attribution_score", sa.Float),
        sa.column("attribution_note", sa.Text),
        sa.column("suggested_person_id", sa.Integer),
        sa.column("suggestion_score", sa.Float),
    )
    attributions = sa.table(
        "attributions",
        sa.column("speaker_id", sa.Integer),
        sa.column("person_id", sa.Integer),
        sa.column("method", sa.String),
        sa.column("score", sa.Float),
        sa.column("note", sa.Text),
        sa.column("made_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    matched = bind.execute(
        sa.select(speakers.c.id, speakers.c.person_id, speakers.c.attribution_score).where(
            speakers.c.attribution == "voice-match"
        )
    ).all()
    for speaker_id, person_id, score in matched:
        bind.execute(
            speakers.update()
            .where(speakers.c.id == speaker_id)
            .values(
                suggested_person_id=person_id,
                suggestion_score=score,
                person_id=None,
                attribution=None,
                attribution_score=None,
                attribution_note=None,
            )
        )
        bind.execute(
            attributions.insert().values(
                speaker_id=speaker_id,
                person_id=None,
                method="withdrawn",
                score=score,
                note=NOTE,
                made_by="migration 0014",
                created_at=sa.func.current_timestamp(),
            )
        )
    with op.batch_alter_table("speakers") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_speakers_confirmed_attribution"), "attribution IS NULL OR attribution <> 'voice-match'"
        )
    with op.batch_alter_table("segments") as batch_op:
        batch_op.add_column(sa.Column("kind_suggested", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch_op:
        batch_op.drop_column("kind_suggested")
    with op.batch_alter_table("speakers") as batch_op:
        batch_op.drop_constraint(op.f("ck_speakers_confirmed_attribution"), type_="check")
