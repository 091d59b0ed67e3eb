"""Alembic environment: runs on the connection the app hands over, or on alembic.ini's URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from kapdesk.storage import security_models  # noqa: F401  (its tables join Base.metadata)
from kapdesk.storage.journal import models as journal_models  # noqa: F401
from kapdesk.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run_on(conn)
