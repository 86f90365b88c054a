"""people, attributions and voice prints; speakers point at people instead of holding a name

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

A meeting's voices (speakers, SPEAKER_00…) are attributed to people who may speak in many meetings.
Names and roles move from speakers to people: each distinct (name, role) of a named speaker becomes a
person, attributed by "curator" (the only way a name could have been set before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=300), nullable=True),
        sa.Column("affiliation", sa.String(length=300), nullable=True),
        sa.Column("consent", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_index(op.f("ix_people_name"), "people", ["name"], unique=False)

    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attribution", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("attribution_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("attribution_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("suggested_person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("suggestion_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("embedding_model", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("speech_seconds", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("turns", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.create_index(batch_op.f("ix_speakers_person_id"), ["person_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_speakers_person_id_people"), "people", ["person_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_speakers_suggested_person_id_people"),
            "people",
            ["suggested_person_id"],
            ["id"],
            ondelete="SET NULL",
        )

    attributed = _move_names_to_people()
    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.drop_column("name")
        batch_op.drop_column("role")
    _create_attributions_and_voice_prints()
    for speaker_id, person_id in attributed:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO attributions (speaker_id, person_id, method, made_by, created_at)"
                " VALUES (:id, :person, 'curator', 'migration 0003', CURRENT_TIMESTAMP)"
            ),
            {"id": speaker_id, "person": person_id},
        )


def _create_attributions_and_voice_prints() -> None:
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("made_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_attributions_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["speakers.id"], name=op.f("fk_attributions_speaker_id_speakers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributions")),
    )
    op.create_index(op.f("ix_attributions_speaker_id"), "attributions", ["speaker_id"], unique=False)
    op.create_index(op.f("ix_attributions_person_id"), "attributions", ["person_id"], unique=False)

    op.create_table(
        "voice_prints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("speech_seconds", sa.Float(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_voice_prints_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_prints")),
        sa.UniqueConstraint("person_id", name=op.f("uq_voice_prints_person_id")),
    )


def _move_names_to_people() -> list[tuple[int, int]]:
    """Make a person of each distinct (name, role); return (speaker id, person id) pairs."""
    bind = op.get_bind()
    named = bind.execute(sa.text("SELECT id, name, role FROM speakers WHERE name IS NOT NULL")).all()
    people: dict[tuple[str, str | None], int] = {}
    for speaker_id, name, role in named:
        if (name, role) not in people:
            people[(name, role)] = bind.execute(
                sa.text(
                    "INSERT INTO people (name, role, consent, created_at)"
                    " VALUES (:name, :role, 'public', CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"name": name, "role": role},
            ).scalar_one()
        bind.execute(
            sa.text("UPDATE speakers SET person_id = :person, attribution = 'curator' WHERE id = :id"),
            {"person": people[(name, role)], "id": speaker_id},
        )
    return [(speaker_id, people[(name, role)]) for speaker_id, name, role in named]


def downgrade() -> None:
    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("role", sa.String(length=300), nullable=True))
    op.execute(
        "UPDATE speakers SET name = (SELECT name FROM people WHERE people.id = speakers.person_id),"
        " role = (SELECT role FROM people WHERE people.id = speakers.person_id)"
    )
    op.drop_table("voice_prints")
    op.drop_table("attributions")
    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_speakers_suggested_person_id_people"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_speakers_person_id_people"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_speakers_person_id"))
        for column in (
            "speech_seconds",
            "embedding_model",
            "embedding",
            "suggestion_score",
            "suggested_person_id",
            "attribution_note",
            "attribution_score",
            "attribution",
            "person_id",
        ):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_people_name"), table_name="people")
    op.drop_table("people")
