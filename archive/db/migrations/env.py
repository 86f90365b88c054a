"""Alembic environment: runs on the connection handed over by archive.db.session.migrate."""

from alembic import context
from sqlalchemy import create_engine

from archive.db.models import Base

config = context.config
connection = config.attributes.get("connection")


# PostgreSQL-only objects made by hand-written migrations (0002: full-text search), not in the models:
# autogenerate must not propose dropping them.
DATABASE_ONLY = {"search_vector", "ix_segments_search_vector"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    return name not in DATABASE_ONLY


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:  # `alembic -x url=… revision --autogenerate` from a maintainer's shell
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).begin() as conn:
        run(conn)
