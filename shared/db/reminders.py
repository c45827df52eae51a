"""Reminders (the `scheduler` plugin): one-off and cron-style, delivered as chat turns.

Due reminders are taken with FOR UPDATE SKIP LOCKED inside the delivering transaction, so
two workers looking at the same moment never both deliver one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    channel: str
    text: str
    cron: str | None
    next_run_at: datetime
    status: str
    runs: int
    last_run_at: datetime | None
    last_turn_id: str | None


_COLUMNS = "id, channel, text, cron, next_run_at, status, runs, last_run_at, last_turn_id"


def _reminder(row: dict[str, Any]) -> Reminder:
    return Reminder(
        row["id"],
        row["channel"],
        row["text"],
        row["cron"],
        row["next_run_at"],
        row["status"],
        row["runs"],
        row["last_run_at"],
        row["last_turn_id"],
    )


async def add(
    conn: Conn, *, channel: str, text: str, cron: str | None, next_run_at: datetime
) -> Reminder:
    cur = await conn.execute(
        f"""
        INSERT INTO reminders (channel, text, cron, next_run_at) VALUES (%s, %s, %s, %s)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - the interpolated part is a constant column list
        (channel, text, cron, next_run_at),
    )
    row = await cur.fetchone()
    assert row is not None
    return _reminder(row)


async def count_active(conn: Conn) -> int:
    cur = await conn.execute("SELECT count(*) AS n FROM reminders WHERE status = 'active'")
    row = await cur.fetchone()
    return int(row["n"]) if row else 0


async def list_active(conn: Conn, limit: int) -> list[Reminder]:
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS} FROM reminders WHERE status = 'active'
        ORDER BY next_run_at, id LIMIT %s
        """,  # noqa: S608 - constant columns
        (limit,),
    )
    return [_reminder(row) for row in await cur.fetchall()]


async def get(conn: Conn, reminder_id: int) -> Reminder | None:
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM reminders WHERE id = %s",  # noqa: S608 - constant columns
        (reminder_id,),
    )
    row = await cur.fetchone()
    return _reminder(row) if row else None


async def cancel(conn: Conn, reminder_id: int) -> Reminder | None:
    """Cancel an active reminder; None when there is no active one with that id."""
    cur = await conn.execute(
        f"""
        UPDATE reminders SET status = 'cancelled'
        WHERE id = %s AND status = 'active' RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant columns
        (reminder_id,),
    )
    row = await cur.fetchone()
    return _reminder(row) if row else None


async def lock_due(conn: Conn, limit: int) -> list[Reminder]:
    """Active reminders due now, locked for this transaction; rows another transaction holds
    are skipped (it is delivering them)."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS} FROM reminders
        WHERE status = 'active' AND next_run_at <= now()
        ORDER BY next_run_at, id LIMIT %s
        FOR UPDATE SKIP LOCKED
        """,  # noqa: S608 - constant columns
        (limit,),
    )
    return [_reminder(row) for row in await cur.fetchall()]


async def mark_run(
    conn: Conn, reminder_id: int, *, turn_id: str, next_run_at: datetime | None
) -> None:
    """Record a delivery: a repeating reminder moves on to `next_run_at`, a one-off (None)
    is done."""
    await conn.execute(
        """
        UPDATE reminders
        SET runs = runs + 1, last_run_at = now(), last_turn_id = %(turn_id)s,
            next_run_at = COALESCE(%(next)s, next_run_at),
            status = CASE WHEN %(next)s::timestamptz IS NULL THEN 'done' ELSE status END
        WHERE id = %(id)s
        """,
        {"turn_id": turn_id, "next": next_run_at, "id": reminder_id},
    )
