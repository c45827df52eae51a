"""The role the services log in as: data access only, never the owner of the schema.

Run after `alembic upgrade head` by the migrate step, which logs in as the database's owner. The
api, worker and tts then connect as `aion_app`: it reads and writes rows but cannot
create, alter or drop anything, so a service that has been talked into running SQL cannot
change the schema or touch the migration history.

Idempotent: the role is created once, its password set on every run (so rotating it is one
restart), and grants cover every table the migrations have made so far. Without
AION_APP_DB_PASSWORD (tests, `make dev`, an external database) nothing is done.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql
from pydantic import SecretStr

from shared.secret_files import APP_DB_ROLE
from shared.service_settings import DatabaseSettings

log = logging.getLogger("aion.migrate")


class AppRoleSettings(DatabaseSettings):
    aion_app_db_password: SecretStr | None = None


_CREATE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', {name});
    END IF;
END
$$
"""


def grant(conn: psycopg.Connection[tuple[object, ...]], role: str, password: str) -> None:
    ident = sql.Identifier(role)
    database = sql.Identifier(_current_database(conn))
    statements: list[sql.Composed | sql.SQL] = [
        sql.SQL(_CREATE).format(name=sql.Literal(role)),
        sql.SQL(
            "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            "NOBYPASSRLS PASSWORD {}"
        ).format(ident, sql.Literal(password)),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, ident),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            ident
        ),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(
            ident
        ),
        # The migration history is the migrator's alone.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {}").format(ident),
    ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


def _current_database(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = AppRoleSettings()
    if settings.aion_app_db_password is None:
        log.info("AION_APP_DB_PASSWORD is not set: the services use the migrator's role")
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        grant(conn, APP_DB_ROLE, settings.aion_app_db_password.get_secret_value())
    log.info("role %s may read and write AION's tables", APP_DB_ROLE)


if __name__ == "__main__":
    main()
