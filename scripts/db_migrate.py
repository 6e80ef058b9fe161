"""Bootstrap the database roles and migrate the schema, as the migration identity.

`python -m scripts.db_migrate` is what the `<prefix>migrate` Cloud Run job runs (terraform/migrate.tf,
docs/RUNBOOKS/DEPLOY.md, "Deploy"); it connects like the functions (`common.db.engine`: the Cloud
SQL connector with IAM authentication as `DB_IAM_USER`, or `DATABASE_URL` locally) and, in one
idempotent run:

1. creates the NOLOGIN roles `DB_OWNER_ROLE` (default `media_owner`, owner of every table,
   sequence and the Alembic version table) and `DB_APP_ROLE` (default `media_app`, the
   functions' data access), makes the connecting identity a member of the owner, grants the app
   role to every role of `DB_APP_USERS` (a JSON list: the Cloud SQL IAM users of all functions,
   from Terraform, so none can be left out);
2. runs `alembic upgrade head` under `SET ROLE <owner>`, so whoever migrates, the objects belong to
   the owner role and any later member can ALTER them;
3. grants the app role SELECT, INSERT, UPDATE, DELETE on every table and USAGE, SELECT on every
   sequence, now and (default privileges of the owner) for tables later migrations create. No
   DDL, no TRUNCATE, no ownership for the functions.

The connecting identity needs to create roles and grant them: it acts as `DB_ADMIN_ROLE`
(default `cloudsqlsuperuser`, of which it must be a member; `scripts/migrate.sh` gives the
migration identity that database role once, with `gcloud sql users assign-roles`; empty: no SET
ROLE, for a role that has CREATEROLE itself). `--reassign-from ROLE` hands objects a person created before
this existed (an operator's IAM user) over to the owner role.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("db_migrate")

ROOT = Path(__file__).resolve().parents[1]
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote(identifier: str) -> str:
    """A Postgres identifier quoted (IAM users contain `@` and `.`)."""
    return '"' + identifier.replace('"', '""') + '"'


def _ensure_role(connection: Connection, role: str) -> None:
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if exists.first() is None:
        connection.execute(text(f"CREATE ROLE {quote(role)} NOLOGIN"))


def bootstrap(
    connection: Connection, owner: str, app: str, app_users: list[str], admin: str
) -> None:
    """Step 1 of the module docstring, as `admin` (SET ROLE) when given: CREATEROLE is an
    attribute, not inherited through membership, so a member of `cloudsqlsuperuser` creates
    roles by acting as it."""
    if admin:
        connection.execute(text(f"SET ROLE {quote(admin)}"))
    for role in (owner, app):
        _ensure_role(connection, role)
    connection.execute(text(f"GRANT {quote(owner)} TO SESSION_USER"))
    connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {quote(owner)}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quote(app)}"))
    for user in app_users:
        connection.execute(text(f"GRANT {quote(app)} TO {quote(user)}"))
    if admin:
        connection.execute(text("RESET ROLE"))


def grant_data(connection: Connection, owner: str, app: str) -> None:
    """Step 3 of the module docstring (run as the owner role)."""
    statements = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quote(app)}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quote(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {quote(app)}",
    ]
    for statement in statements:
        connection.execute(text(statement))


def migrate(
    owner: str, app: str, app_users: list[str], reassign_from: list[str], admin: str = ""
) -> None:
    """Bootstrap, upgrade to head as the owner role, grant the data (module docstring)."""
    from alembic import command
    from alembic.config import Config

    from common.db.engine import get_engine

    for role in (owner, app, *([admin] if admin else [])):
        if not _ROLE_NAME.fullmatch(role):
            raise ValueError(f"{role!r} is not a plain role name")
    engine = get_engine()
    with engine.begin() as connection:
        bootstrap(connection, owner, app, app_users, admin)
        for previous in reassign_from:
            connection.execute(text(f"REASSIGN OWNED BY {quote(previous)} TO {quote(owner)}"))
    with engine.connect() as connection:
        connection.execute(text(f"SET ROLE {quote(owner)}"))
        connection.commit()
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        grant_data(connection, owner, app)
        connection.commit()
        connection.execute(text("RESET ROLE"))
    log.info("migrated to head as %s; %s granted to %d users", owner, app, len(app_users))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--reassign-from",
        action="append",
        default=[],
        metavar="ROLE",
        help="hand the objects this role owns over to the owner role (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app_users = json.loads(os.environ.get("DB_APP_USERS", "[]"))
    if not isinstance(app_users, list) or not all(isinstance(u, str) for u in app_users):
        raise SystemExit("DB_APP_USERS must be a JSON list of role names")
    migrate(
        os.environ.get("DB_OWNER_ROLE", "media_owner"),
        os.environ.get("DB_APP_ROLE", "media_app"),
        app_users,
        args.reassign_from,
        os.environ.get("DB_ADMIN_ROLE", "cloudsqlsuperuser"),
    )


if __name__ == "__main__":
    main()
