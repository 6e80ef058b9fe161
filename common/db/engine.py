"""One SQLAlchemy engine per process, and the unit-of-work session scope.

One owner per session: the adapter of a request or a message (an HTTP route handler, a push
handler) opens `session_scope()` once and hands the session to the domain functions, which never
open their own. A workflow that must make a step durable before a side effect outside the
database (a storage write, a publish, minutes of analysis) commits the caller's session at that
point; after each commit the session holds no connection until its next statement. What must
happen only once a change is committed (the Firestore mirror of a status) is registered with
`on_commit` and runs right after the commit that makes the change durable (nothing runs for a
change that rolls back).

Locally the engine connects with a plain `postgresql+pg8000://` URL (`DATABASE_URL`). In the cloud it
connects through the Cloud SQL Python Connector with IAM database authentication and the lazy
refresh strategy recommended for serverless (https://github.com/GoogleCloudPlatform/cloud-sql-python-connector).
Pool limits are small and explicit: each function instance holds at most
`db_pool_size + db_max_overflow` connections, sized against the function's max instances (Terraform
sets `DB_POOL_SIZE` to the instance's threads, so no request waits for one and none churns).

Hot paths pay no round trip they do not need: every new connection is tuned
(`common.db._driver`: one round trip per statement, timestamps without `strptime`), and a
connection is pinged on checkout only when it sat idle in the pool for more than
`IDLE_PING_AFTER_SECONDS` (where dead connections come from: server restarts, idle timeouts in
between), instead of before every checkout (`pool_pre_ping`). A connection that dies under
load fails its statement; SQLAlchemy invalidates it and the pool, and the caller's retry
(`TransientError`, 503 / redelivery) gets a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from common.core.errors import TransientError
from common.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker
    from sqlalchemy.pool import ConnectionPoolEntry

_ON_COMMIT = "on_commit"
IDLE_PING_AFTER_SECONDS = 10.0
"""A pooled connection idle for longer than this is pinged (`SELECT 1`) before it is used."""
_RETURNED_AT = "returned_at_monotonic"


@cache
def get_engine() -> Engine:
    """Return the process-wide engine (built on first use).

    Raises:
        RuntimeError: if neither `DATABASE_URL` nor `CLOUD_SQL_INSTANCE` is configured.
    """
    return _with_events(_create_engine())


def _create_engine() -> Engine:
    from sqlalchemy import create_engine

    settings = get_settings()
    pool: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
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


def _with_events(engine: Engine) -> Engine:
    """Tune each new connection, ping only connections that sat idle (module docstring)."""
    from sqlalchemy import event

    from common.db._driver import tune_connection

    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        tune_connection(dbapi_connection)

    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned > IDLE_PING_AFTER_SECONDS:
            ping(dbapi_connection)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)
    return engine


def ping(dbapi_connection: Any) -> None:
    """`SELECT 1` on a raw connection.

    Raises:
        sqlalchemy.exc.DisconnectionError: it failed; the pool then discards the connection and
            checks out another (SQLAlchemy's "pessimistic" disconnect handling).
    """
    from sqlalchemy.exc import DisconnectionError

    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # hand the connection on idle, outside a transaction
    except Exception as exc:
        raise DisconnectionError(f"stale pooled connection: {exc.__class__.__name__}") from exc


@cache
def _session_factory() -> sessionmaker[Session]:
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(bind=get_engine(), expire_on_commit=False)
    event.listen(factory, "after_commit", _run_on_commit)
    event.listen(factory, "after_soft_rollback", _drop_on_commit)
    return factory


def on_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback()` once `session`'s current transaction commits; never if it rolls back.

    Callbacks run in the order registered, all of them even when one raises; the first error is
    then raised from the commit (the change is committed: a retry finds it and repeats the
    callback's work, as mirror writes are meant to be repeated).
    """
    session.info.setdefault(_ON_COMMIT, []).append(callback)


def _run_on_commit(session: Session) -> None:
    callbacks = session.info.pop(_ON_COMMIT, [])
    first: BaseException | None = None
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            first = first or exc
    if first is not None:
        raise first


def _drop_on_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_ON_COMMIT, None)


@contextmanager
def read_scope() -> Iterator[Session]:
    """Yield a session for reads only, outside any transaction: no BEGIN, no COMMIT.

    The connection runs in the driver's autocommit mode while the scope lasts, so each statement
    reads what is committed when it runs (as under READ COMMITTED) and the request pays only for
    its SELECTs. Never write through it: a write would commit statement by statement; use
    `session_scope`.

    Raises:
        TransientError: when the database is unreachable or the pool is exhausted (retryable).
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    session = _session_factory()()
    dbapi_connection: Any = None
    try:
        dbapi_connection = session.connection().connection.dbapi_connection
        dbapi_connection.autocommit = True
        yield session
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        raise TransientError(f"database unavailable: {exc.__class__.__name__}") from exc
    except DBAPIError as exc:
        if getattr(exc, "connection_invalidated", False):
            raise TransientError("database connection lost") from exc
        raise
    finally:
        if dbapi_connection is not None:
            dbapi_connection.autocommit = False  # before the pool hands it to a writer
        session.close()


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
