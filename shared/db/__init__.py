"""PostgreSQL access: one async connection pool per process; all SQL lives in this package."""

from __future__ import annotations

from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Conn = AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Conn]


async def _configure(conn: Conn) -> None:
    # The vector type exists once migrations ran; every pooled connection learns it.
    await register_vector_async(conn)
    await conn.set_autocommit(True)


async def open_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """Open the process's pool; fails fast when PostgreSQL is unreachable."""
    pool: Pool = AsyncConnectionPool(
        database_url,
        connection_class=AsyncConnection[DictRow],
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row},
        configure=_configure,
        open=False,
        name="aion",
    )
    await pool.open(wait=True, timeout=30)
    return pool
