"""Alembic environment: migrates the database that `common.db.engine.get_engine()` connects to.

Locally that is `DATABASE_URL`; in the cloud, the Cloud SQL connector with the operator's IAM user.
"""

from __future__ import annotations

from alembic import context

from common.db.engine import get_engine
from common.db.models import Base

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`)."""
    context.configure(
        url="postgresql+pg8000://", target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a live connection: the one the caller handed over
    (`config.attributes["connection"]`, scripts/db_migrate.py migrating under SET ROLE), else a
    new one."""
    given = context.config.attributes.get("connection")
    if given is not None:
        context.configure(connection=given, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
