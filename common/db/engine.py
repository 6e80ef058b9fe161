"""One SQLAlchemy engine per process, and the unit-of-work session scope.

Locally the engine connects with a plain `postgresql+pg8000://` URL (`DATABASE_URL`). In the cloud it
connects through the Cloud SQL Python Connector with IAM database authentication and the lazy
refresh strategy recommended for serverless (https://github.com/GoogleCloudPlatform/cloud-sql-python-connector).
Pool limits are small and explicit: each function instance holds at most
`db_pool_size + db_max_overflow` connections, sized against the function's max instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from common.core.errors import TransientError
from common.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


@cache
def get_engine() -> Engine:
    """Return the process-wide engine (built on first use).

    Raises:
        RuntimeError: if neither `DATABASE_URL` nor `CLOUD_SQL_INSTANCE` is configured.
    """
    from sqlalchemy import create_engine

    settings = get_settings()
    pool: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    if settings.database_url:
        return create_engine(settings.database_url, **pool)
    if settings.cloud_sql_instance and settings.db_iam_user:
        from google.cloud.sql.connector import Connector, RefreshStrategy

        connector = Connector(refresh_strategy=RefreshStrategy.LAZY)
        instance, user, db = settings.cloud_sql_instance, settings.db_iam_user, settings.db_name

        def connect() -> Any:
            return connector.connect(instance, "pg8000", user=user, db=db, enable_iam_auth=True)

        return create_engine("postgresql+pg8000://", creator=connect, **pool)
    raise RuntimeError("configure DATABASE_URL, or CLOUD_SQL_INSTANCE and DB_IAM_USER")


@cache
def _session_factory() -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any exception.

    Raises:
        TransientError: when the database is unreachable or the pool is exhausted (retryable).
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    session = _session_factory()()
    try:
        yield session
        session.commit()
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        session.rollback()
        raise TransientError(f"database unavailable: {exc.__class__.__name__}") from exc
    except DBAPIError as exc:
        session.rollback()
        if getattr(exc, "connection_invalidated", False):
            raise TransientError("database connection lost") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
