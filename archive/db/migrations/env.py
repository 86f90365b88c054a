"""Alembic environment: runs on the connection handed over by archive.db.session.migrate."""

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from archive.db.models import Base
from archive.db.session import include_object

config = context.config
connection = config.attributes.get("connection")


def run(connection: Any) -> None:
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
