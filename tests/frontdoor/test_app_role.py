"""migrations/app_role.py: the services' role reads and writes rows and can change nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from migrations.app_role import grant


@pytest.fixture
def app_role(database_url: str) -> Iterator[str]:
    role = f"aion_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as owner:
        grant(owner, role, "first-password")
        grant(owner, role, "second-password")  # idempotent: a second migrate run just works
    yield role
    with psycopg.connect(database_url, autocommit=True) as owner:
        owner.execute(f'DROP OWNED BY "{role}"')
        owner.execute(f'DROP ROLE "{role}"')


def test_the_role_reads_and_writes_rows_only(database_url: str, app_role: str) -> None:
    url = make_conninfo(database_url, user=app_role, password="second-password")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False)
        conn.execute("INSERT INTO todos (text) VALUES ('from the app role')")
        assert conn.execute(
            "SELECT count(*) FROM todos WHERE text = 'from the app role'"
        ).fetchone() == (1,)
        conn.execute("DELETE FROM todos WHERE text = 'from the app role'")
        for statement in (
            "CREATE TABLE sneaky (x int)",
            "DROP TABLE todos",
            "ALTER TABLE todos ADD COLUMN sneaky int",
            "DELETE FROM alembic_version",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
