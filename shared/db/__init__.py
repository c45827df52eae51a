"""PostgreSQL access: one async connection pool per process; all SQL lives in this package."""

from __future__ import annotations

import select

import psycopg
import psycopg_pool
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from shared.http_errors import Dependency

Conn = AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Conn]

# The pool retries a lost connection after 1, 2, 4... s; a series that has not reconnected after
# this long gives up, and the next request starts a new one at once. Short, so that once
# PostgreSQL is back after a restart the pool finds it within seconds, not after a backoff as
# long as the outage (the default is 5 minutes).
_RECONNECT_SECONDS = 10.0


def _unstorable(exc: Exception) -> bool:
    """PostgreSQL cannot store NUL (U+0000), which a valid JSON string or URL may hold."""
    return isinstance(exc, psycopg.errors.UntranslatableCharacter) or "NUL" in str(exc)


# For the HTTP error layer: PostgreSQL down means 503; a value it cannot store, 422.
POSTGRES = Dependency(
    "PostgreSQL",
    errors=(psycopg.OperationalError, psycopg_pool.PoolTimeout),
    refusals=(psycopg.DataError,),
    unstorable=_unstorable,
)


async def _configure(conn: Conn) -> None:
    # The vector type exists once migrations ran; every pooled connection learns it.
    await register_vector_async(conn)
    await conn.set_autocommit(True)


async def _check(conn: Conn) -> None:
    """The pool's check of a connection it hands out, without a round trip when it can: an idle
    connection has nothing to read unless the server spoke, and a server that goes away (a
    restart, an administrator's kill) says so first or closes the socket. Only then is the
    connection really tried, and replaced if it fails."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        await AsyncConnectionPool.check_connection(conn)


async def open_pool(
    database_url: str, *, min_size: int = 1, max_size: int = 10, wait_seconds: float = 30.0
) -> Pool:
    """Open the process's pool; fails fast when PostgreSQL is unreachable.

    Every connection is checked as it is handed out (`_check`), so after a PostgreSQL restart
    the ones it cut are replaced instead of failing a request each. `wait_seconds`: how long a
    caller waits for a connection (all busy, or PostgreSQL down) before `PoolTimeout`.
    """
    pool: Pool = AsyncConnectionPool(
        database_url,
        connection_class=AsyncConnection[DictRow],
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row},
        configure=_configure,
        check=_check,
        timeout=wait_seconds,
        reconnect_timeout=_RECONNECT_SECONDS,
        open=False,
        name="aion",
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def reachable(pool: Pool) -> None:
    """One round trip through the pool (readiness probes); raises when PostgreSQL is not there."""
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
