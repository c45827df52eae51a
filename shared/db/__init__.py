"""PostgreSQL access: one async connection pool per process; all SQL lives in this package."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pgvector.psycopg import register_vector_async

Conn = AsyncConnection[dict[str, object]]


async def _configure(conn: AsyncConnection[dict[str, object]]) -> None:
    # The vector type exists once migrations ran; every pooled connection learns it.
    await register_vector_async(conn)
    await conn.set_autocommit(True)


async def open_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    """Open the process's pool; fails fast when PostgreSQL is unreachable."""
    pool: AsyncConnectionPool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row},
        configure=_configure,
        open=False,
        name="aion",
    )
    await pool.open(wait=True, timeout=30)
    return pool
