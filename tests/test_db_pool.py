"""The process's PostgreSQL pool (shared/db `open_pool`) against the real server."""

from __future__ import annotations

import psycopg

from shared.db import open_pool
from tests.helpers import eventually


async def test_a_connection_the_server_ended_is_replaced_before_it_is_handed_out(
    database_url: str,
) -> None:
    """What a PostgreSQL restart does to every pooled connection, done to one: the next
    request gets a working connection, not the error."""
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
            assert row is not None
            pid = row["pid"]
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

            def gone() -> bool:
                query = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
                return admin.execute(query, (pid,)).fetchone() is None

            await eventually(gone, "the server ended the connection")
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
        assert row is not None and row["pid"] != pid
    finally:
        await pool.close()
