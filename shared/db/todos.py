"""The owner's todo list (the `todo` plugin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Todo:
    id: int
    text: str
    done: bool
    created_at: datetime
    done_at: datetime | None


def _todo(row: dict[str, Any]) -> Todo:
    return Todo(row["id"], row["text"], row["done"], row["created_at"], row["done_at"])


_COLUMNS = "id, text, done, created_at, done_at"


async def add(conn: Conn, text: str) -> Todo:
    cur = await conn.execute(
        f"INSERT INTO todos (text) VALUES (%s) RETURNING {_COLUMNS}",  # noqa: S608 - constant
        (text,),
    )
    row = await cur.fetchone()
    assert row is not None
    return _todo(row)


async def list_todos(conn: Conn, *, include_done: bool, limit: int) -> list[Todo]:
    """Open items first (oldest first), then done ones (most recently done first)."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS} FROM todos WHERE %s OR NOT done
        ORDER BY done, CASE WHEN done THEN done_at END DESC, id
        LIMIT %s
        """,  # noqa: S608 - the interpolated part is a constant column list
        (include_done, limit),
    )
    return [_todo(row) for row in await cur.fetchall()]


async def count_open(conn: Conn) -> int:
    cur = await conn.execute("SELECT count(*) AS n FROM todos WHERE NOT done")
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


async def complete(conn: Conn, todo_id: int) -> Todo | None:
    """Mark an item done (done already: unchanged); None when there is no such item."""
    cur = await conn.execute(
        f"""
        UPDATE todos SET done = true, done_at = COALESCE(done_at, now())
        WHERE id = %s RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant columns
        (todo_id,),
    )
    row = await cur.fetchone()
    return _todo(row) if row else None


async def remove(conn: Conn, todo_id: int) -> Todo | None:
    cur = await conn.execute(
        f"DELETE FROM todos WHERE id = %s RETURNING {_COLUMNS}",  # noqa: S608 - constant
        (todo_id,),
    )
    row = await cur.fetchone()
    return _todo(row) if row else None
