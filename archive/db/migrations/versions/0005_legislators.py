"""legislators and district_towns: the directory supporters find their legislators in

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Loaded by `testimony legislators import` (archive.legislators), which replaces both tables in one transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legislators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("chamber", sa.String(length=10), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("party", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("openstates_id", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legislators")),
        sa.UniqueConstraint("email", name=op.f("uq_legislators_email")),
    )
    op.create_index("ix_legislators_chamber_district", "legislators", ["chamber", "district"], unique=False)
    op.create_table(
        "district_towns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chamber", sa.String(length=10), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("town", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_towns")),
        sa.UniqueConstraint("chamber", "district", "town", name="uq_district_towns_chamber_district_town"),
    )
    op.create_index(op.f("ix_district_towns_town"), "district_towns", ["town"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_district_towns_town"), table_name="district_towns")
    op.drop_table("district_towns")
    op.drop_index("ix_legislators_chamber_district", table_name="legislators")
    op.drop_table("legislators")
