"""The tuned pg8000 connections (`common.db._driver`) and the engine's scopes, on real Postgres:
statements give the same answers, errors surface where they happened, prepared statements are
closed and re-prepared, transactions still hold, dead pooled connections are replaced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from common.db import _driver, engine
from emulators.stack import LocalStack

pytestmark = pytest.mark.integration


@pytest.fixture
def tuned(local_stack: LocalStack) -> Iterator[Engine]:
    """An engine of its own (pool of 1) with the tuning of `common.db.engine`."""
    created = engine._with_events(
        create_engine(local_stack.env["DATABASE_URL"], pool_size=1, max_overflow=0)
    )
    yield created
    created.dispose()


def _dbapi(connection: Any) -> Any:
    return connection.connection.dbapi_connection


def test_connections_are_tuned_and_answer_like_pg8000(tuned: Engine) -> None:
    # GIVEN a tuned connection WHEN it runs statements with and without parameters
    with tuned.connect() as connection:
        assert isinstance(_dbapi(connection)._prepared, _driver.PreparedStatements)
        first = connection.execute(text("SELECT CAST(:a AS int) + 1"), {"a": 41}).scalar()
        again = connection.execute(text("SELECT CAST(:a AS int) + 1"), {"a": 1}).scalar()
        plain = connection.execute(text("SELECT 'x'")).scalar()
    # THEN the answers are the plain driver's
    assert (first, again, plain) == (42, 2, "x")


def test_timestamps_parse_as_aware_datetimes_and_odd_values_as_pg8000_does(
    tuned: Engine,
) -> None:
    with tuned.connect() as connection:
        row = connection.execute(
            text(
                "SELECT CAST('2024-01-02 03:04:05.5+05:30' AS timestamptz), "
                "CAST('2024-01-02 03:04:05+00' AS timestamptz), "
                "CAST('infinity' AS timestamptz)"
            )
        ).one()
    assert row[0] == datetime(2024, 1, 1, 21, 34, 5, 500000, tzinfo=UTC)
    assert row[1] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert row[2] == "infinity"  # pg8000's own converter answers what fromisoformat cannot


def test_timestamptz_in_falls_back_for_what_iso_parsing_refuses() -> None:
    assert _driver.timestamptz_in("2024-01-02 03:04:05-08", lambda s: "fallback") == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-8))
    )
    assert _driver.timestamptz_in("0044-03-15 00:00:00+00 BC", lambda s: "fallback") == "fallback"


def test_errors_surface_from_the_failing_statement_and_the_connection_goes_on(
    tuned: Engine,
) -> None:
    with tuned.connect() as connection:
        # a statement that parses but fails when executed (its prepared statement is kept)
        with pytest.raises(DBAPIError, match="division by zero"):
            connection.execute(text("SELECT 1 / CAST(:z AS int)"), {"z": 0})
        connection.rollback()
        assert connection.execute(text("SELECT 1 / CAST(:z AS int)"), {"z": 1}).scalar() == 1
        # a statement that does not parse (nothing is kept)
        with pytest.raises(DBAPIError, match="syntax error"):
            connection.execute(text("SELEC CAST(:z AS int)"), {"z": 1})
        connection.rollback()
        assert connection.execute(text("SELECT CAST(:z AS int)"), {"z": 7}).scalar() == 7


def test_prepared_statements_beyond_the_limit_are_closed_on_the_server(
    tuned: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tuned.connect() as connection:
        _dbapi(connection)._prepared = _driver.PreparedStatements(max_entries=2)
        for n in range(5):
            connection.execute(text(f"SELECT CAST(:a AS int) + {n}"), {"a": n})
        named = connection.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE :p"),
            {"p": "media_ps_%"},
        ).scalar()
    # the counting statement itself is the sixth; two of the earlier ones stay open with it
    assert named == 3


def test_a_schema_change_under_a_prepared_statement_fails_once_then_prepares_afresh(
    tuned: Engine,
) -> None:
    with tuned.connect() as connection:
        connection.execute(text("CREATE TEMP TABLE t_driver (a int)"))
        connection.execute(text("INSERT INTO t_driver VALUES (1)"))
        query = text("SELECT * FROM t_driver WHERE 1 = CAST(:one AS int)")
        assert connection.execute(query, {"one": 1}).all() == [(1,)]
        connection.execute(text("ALTER TABLE t_driver ALTER COLUMN a TYPE text"))
        connection.commit()
        with pytest.raises(DBAPIError, match="cached plan must not change result type"):
            connection.execute(query, {"one": 1})
        connection.rollback()
        assert connection.execute(query, {"one": 1}).all() == [("1",)]


def test_a_transaction_opened_with_its_first_statement_still_rolls_back(
    tuned: Engine,
) -> None:
    with tuned.connect() as connection:
        connection.execute(text("CREATE TEMP TABLE t_tx (a int) ON COMMIT PRESERVE ROWS"))
        connection.commit()
        connection.execute(text("INSERT INTO t_tx VALUES (CAST(:a AS int))"), {"a": 1})
        in_transaction = connection.execute(text("SELECT now() <> statement_timestamp()"))
        assert in_transaction.scalar() is True  # BEGIN went out with the INSERT
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM t_tx")).scalar() == 0


def test_read_scope_runs_outside_a_transaction_and_hands_back_a_transactional_connection(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.read_scope() as session:
        # now() is the transaction's start; outside a transaction each statement is its own
        outside = session.execute(text("SELECT now() = statement_timestamp()")).scalar()
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.autocommit is True
    assert outside is True
    assert dbapi.autocommit is False
    with engine.session_scope() as session:
        assert session.execute(text("SELECT now() = statement_timestamp()")).scalar() is not None
        assert session.connection().connection.dbapi_connection.autocommit is False


def test_a_pooled_connection_that_died_while_idle_is_replaced_on_checkout(
    tuned: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a pooled connection whose server process was ended while it sat in the pool
    with tuned.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with create_engine(str(tuned.url)).connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    monkeypatch.setattr(engine, "IDLE_PING_AFTER_SECONDS", 0.0)
    # WHEN it is checked out again THEN the ping finds it dead and the pool connects afresh
    with tuned.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def test_the_migrated_database_has_exactly_the_models_schema(local_stack: LocalStack) -> None:
    # GIVEN the stack's Postgres, migrated by `alembic upgrade head` when the stack started
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from common.db.models import Base

    engine = create_engine(local_stack.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            # WHEN Alembic compares it with the models (tables, columns, types, indexes,
            # constraints, server defaults)
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    # THEN there is nothing a new migration would have to add, drop or alter
    assert differences == []
