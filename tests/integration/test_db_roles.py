"""scripts/db_migrate.py on a real Postgres shaped like Cloud SQL's: the schema belongs to a NOLOGIN
owner role, every function (manage_media included) gets the data and nothing else, and a second
migration identity can migrate and ALTER what the first created.

Cloud SQL's shape: a `cloudsqlsuperuser` role (CREATEROLE, owner of the database) whose members
are the deployment's administrators; IAM users log in as themselves with no privileges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scripts.db_migrate import quote

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]

ROOT = Path(__file__).parents[2]
FUNCTION_USERS = [
    f"media-{name}@media-test-1.iam"
    for name in (
        "create-media",
        "list-media",
        "manage-media",
        "finalize-upload",
        "process-media",
        "housekeeping",
    )
]


@pytest.fixture
def database(local_stack: Any) -> Iterator[str]:
    """A scratch database owned by `cloudsqlsuperuser`, with login roles for two migration
    identities and the functions; yields its name."""
    name = f"roles_{uuid.uuid4().hex[:8]}"
    suffix = name[-8:]
    admin = create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname='cloudsqlsuperuser'")
        )
        if exists.first() is None:
            connection.execute(text("CREATE ROLE cloudsqlsuperuser NOLOGIN CREATEROLE CREATEDB"))
        for role in (f"migrate_{suffix}", f"operator_{suffix}"):
            connection.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE cloudsqlsuperuser"))
        for user in FUNCTION_USERS:
            connection.execute(text(f"CREATE ROLE {quote(user + suffix)} LOGIN"))
        connection.execute(text(f"CREATE DATABASE {name} OWNER cloudsqlsuperuser"))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text("DROP ROLE IF EXISTS media_owner, media_app"))
            for user in FUNCTION_USERS:
                connection.execute(text(f"DROP ROLE IF EXISTS {quote(user + suffix)}"))
            connection.execute(text(f"DROP ROLE IF EXISTS migrate_{suffix}, operator_{suffix}"))
        admin.dispose()


def url_as(user: str, database: str) -> str:
    return (
        make_url(os.environ["DATABASE_URL"])
        .set(username=user, database=database)
        .render_as_string(hide_password=False)
    )


def run_migrate(user: str, database: str, app_users: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CLOUD_SQL_INSTANCE", "DB_IAM_USER"}
    }
    env.update(
        DATABASE_URL=url_as(user, database),
        DB_APP_USERS=json.dumps(app_users),
        DB_OWNER_ROLE="media_owner",
        DB_APP_ROLE="media_app",
        DB_ADMIN_ROLE="cloudsqlsuperuser",
    )
    return subprocess.run(
        [sys.executable, "-m", "scripts.db_migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def attempt(user: str, database: str, statement: str) -> str | None:
    """Run `statement` as `user`; None on success, else the error message."""
    engine = create_engine(url_as(user, database))
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
        return None
    except Exception as exc:
        return str(exc)
    finally:
        engine.dispose()


def test_migration_identity_owns_nothing_and_functions_get_only_data(database: str) -> None:
    suffix = database[-8:]
    users = [user + suffix for user in FUNCTION_USERS]
    # WHEN the migration identity bootstraps and migrates
    first = run_migrate(f"migrate_{suffix}", database, users)
    assert first.returncode == 0, first.stderr[-3000:]
    # THEN every table belongs to the NOLOGIN owner role, none to the identity that ran it
    engine = create_engine(url_as(f"migrate_{suffix}", database))
    with engine.connect() as connection:
        owners = {
            row[0]
            for row in connection.execute(
                text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
            )
        }
        can_login = connection.execute(
            text("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'media_owner'")
        ).scalar_one()
    engine.dispose()
    assert owners == {"media_owner"}
    assert can_login is False
    # AND every function, manage_media's too, reads and writes data but changes no schema
    for user in users:
        assert attempt(user, database, "SELECT count(*) FROM media_objects") is None, user
        assert attempt(user, database, "UPDATE media_objects SET note = note") is None, user
        assert "permission denied" in (attempt(user, database, "CREATE TABLE x (y int)") or "")
        assert "owner" in (attempt(user, database, "ALTER TABLE media_objects ADD z int") or "")
        assert "permission denied" in (attempt(user, database, "TRUNCATE media_objects") or "")
    # AND a second migration identity migrates again and can ALTER what the first created
    second = run_migrate(f"operator_{suffix}", database, users)
    assert second.returncode == 0, second.stderr[-3000:]
    altered = attempt(
        f"operator_{suffix}",
        database,
        "SET ROLE media_owner; ALTER TABLE media_objects ADD COLUMN extra_for_test int",
    )
    assert altered is None
