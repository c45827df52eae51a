"""Pending approvals: a risky tool call bound to its exact arguments, decided exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb

from shared.db import Conn

Decision = Literal["approved", "denied"]


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    turn_id: str
    channel: str
    tool: str
    args: dict[str, Any]
    call_id: str
    state: dict[str, Any]
    status: str
    expires_at: datetime


def _approval(row: dict[str, Any]) -> Approval:
    return Approval(
        row["id"],
        row["turn_id"],
        row["channel"],
        row["tool"],
        row["args"],
        row["call_id"],
        row["state"],
        row["status"],
        row["expires_at"],
    )


_COLUMNS = "id, turn_id, channel, tool, args, call_id, state, status, expires_at"


async def create(
    conn: Conn,
    *,
    approval_id: str,
    turn_id: str,
    channel: str,
    tool: str,
    args: dict[str, Any],
    call_id: str,
    state: dict[str, Any],
    ttl_seconds: float,
) -> datetime:
    """Store a pending approval; returns when it expires."""
    cur = await conn.execute(
        """
        INSERT INTO approvals (id, turn_id, channel, tool, args, call_id, state, expires_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s))
        RETURNING expires_at
        """,
        (approval_id, turn_id, channel, tool, Jsonb(args), call_id, Jsonb(state), ttl_seconds),
    )
    row = await cur.fetchone()
    assert row is not None
    expires_at: datetime = row["expires_at"]
    return expires_at


async def decide(conn: Conn, approval_id: str, decision: Decision, via: str) -> Approval | None:
    """Decide a pending, unexpired approval; None when it is not (any more) decidable.

    One conditional UPDATE, so two deciders racing (two api replicas, a button and a chat
    word) cannot both win.
    """
    cur = await conn.execute(
        f"""
        UPDATE approvals SET status = %s, decided_at = now(), decided_via = %s
        WHERE id = %s AND status = 'pending' AND expires_at > now()
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - the interpolated part is a constant column list
        (decision, via, approval_id),
    )
    row = await cur.fetchone()
    return _approval(row) if row else None


async def undo_decision(conn: Conn, approval_id: str, via: str) -> None:
    """Put a decision back to pending when what should follow it could not be started."""
    await conn.execute(
        """
        UPDATE approvals SET status = 'pending', decided_at = NULL, decided_via = NULL
        WHERE id = %s AND decided_via = %s
        """,
        (approval_id, via),
    )


async def get(conn: Conn, approval_id: str) -> Approval | None:
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM approvals WHERE id = %s",  # noqa: S608 - constant columns
        (approval_id,),
    )
    row = await cur.fetchone()
    return _approval(row) if row else None


async def pending(conn: Conn, channel: str | None) -> list[Approval]:
    """Undecided, unexpired approvals (of one channel, or all), oldest first: what still waits."""
    cur = await conn.execute(
        f"""
        SELECT {_COLUMNS} FROM approvals
        WHERE status = 'pending' AND expires_at > now()
            AND (%(channel)s::text IS NULL OR channel = %(channel)s)
        ORDER BY created_at
        LIMIT 100
        """,  # noqa: S608 - the interpolated part is a constant column list
        {"channel": channel},
    )
    return [_approval(row) for row in await cur.fetchall()]


async def decide_by_word(
    conn: Conn, channel: str, decision: Decision, *, window_seconds: float
) -> Approval | None:
    """Decide the approval a plain yes/no chat message answers, if it answers one.

    That is the channel's newest pending approval, asked at most `window_seconds` ago, with no
    message stored on the channel since: the word must be the very next thing said there after
    the turn that asked. A later "ok" answers something else and is left an ordinary message.
    One conditional UPDATE, like `decide`, so a button and a word cannot both win.
    """
    cur = await conn.execute(
        f"""
        UPDATE approvals AS a
        SET status = %(decision)s, decided_at = now(), decided_via = 'chat'
        WHERE a.id = (
                SELECT id FROM approvals
                WHERE channel = %(channel)s AND status = 'pending'
                ORDER BY created_at DESC LIMIT 1
            )
            AND a.status = 'pending' AND a.expires_at > now()
            AND a.created_at > now() - make_interval(secs => %(window)s)
            AND NOT EXISTS (
                SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                WHERE c.channel = %(channel)s AND m.created_at > a.created_at
            )
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - the interpolated part is a constant column list
        {"decision": decision, "channel": channel, "window": window_seconds},
    )
    row = await cur.fetchone()
    return _approval(row) if row else None
