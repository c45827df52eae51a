"""Conversations and their messages, per channel. A reset closes the open conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    channel: str
    count: int
    last_ts: datetime | None
    last_msg: str | None


async def close_conversation(conn: Conn, channel: str) -> bool:
    """Close the open conversation; it stays in the database but leaves the LLM's view."""
    cur = await conn.execute(
        "UPDATE conversations SET closed_at = now() WHERE channel = %s AND closed_at IS NULL",
        (channel,),
    )
    return cur.rowcount > 0


async def add_message(
    conn: Conn, conversation_id: int, role: str, content: str, turn_id: str | None = None
) -> None:
    await conn.execute(
        """
        INSERT INTO messages (conversation_id, role, content, turn_id) VALUES (%s, %s, %s, %s)
        ON CONFLICT (turn_id, role) WHERE turn_id IS NOT NULL DO NOTHING
        """,
        (conversation_id, role, content, turn_id),
    )


async def start_exchange(
    conn: Conn, channel: str, turn_id: str, content: str, user_turns: int
) -> tuple[int, list[Message]] | None:
    """Store the user's message in the channel's open conversation (made on first use) and
    return the conversation id with the history before it: the last `user_turns` user messages
    and everything said after the first of them.

    One statement, so it is atomic and costs one round trip. None when the conversation was
    created concurrently by another statement (the caller may simply try again).
    """
    cur = await conn.execute(
        """
        WITH created AS (
            INSERT INTO conversations (channel) VALUES (%(channel)s)
            ON CONFLICT (channel) WHERE closed_at IS NULL DO NOTHING
            RETURNING id
        ), conversation AS (
            SELECT id FROM created
            UNION ALL
            SELECT id FROM conversations WHERE channel = %(channel)s AND closed_at IS NULL
            LIMIT 1
        ), stored AS (
            INSERT INTO messages (conversation_id, role, content, turn_id)
            SELECT id, 'user', %(content)s, %(turn_id)s FROM conversation
            ON CONFLICT (turn_id, role) WHERE turn_id IS NOT NULL DO NOTHING
        ), history AS (
            SELECT m.id, m.role, m.content, m.created_at
            FROM messages m JOIN conversation c ON m.conversation_id = c.id
            WHERE m.id >= COALESCE((
                SELECT min(id) FROM (
                    SELECT id FROM messages WHERE conversation_id = c.id AND role = 'user'
                    ORDER BY id DESC LIMIT %(turns)s
                ) AS last_user_turns
            ), 0)
        )
        SELECT c.id AS conversation_id, h.role, h.content, h.created_at
        FROM conversation c LEFT JOIN history h ON true
        ORDER BY h.id
        """,
        {"channel": channel, "content": content, "turn_id": turn_id, "turns": user_turns},
    )
    rows = await cur.fetchall()
    if not rows:
        return None
    history = [Message(r["role"], r["content"], r["created_at"]) for r in rows if r["role"]]
    return int(rows[0]["conversation_id"]), history


async def channel_history(conn: Conn, channel: str, limit: int) -> list[Message]:
    """The newest `limit` messages of the channel's open conversation, oldest first."""
    cur = await conn.execute(
        """
        SELECT role, content, created_at FROM (
            SELECT m.id, m.role, m.content, m.created_at FROM messages m
            JOIN conversations c ON c.id = m.conversation_id
            WHERE c.channel = %s AND c.closed_at IS NULL
            ORDER BY m.id DESC LIMIT %s
        ) AS newest ORDER BY id
        """,
        (channel, limit),
    )
    return [Message(r["role"], r["content"], r["created_at"]) async for r in cur]


async def channel_summaries(conn: Conn) -> list[ChannelSummary]:
    """Every channel with an open conversation: message count and the newest message."""
    cur = await conn.execute(
        """
        SELECT c.channel, count(m.id) AS count, last.created_at AS last_ts, last.content AS last_msg
        FROM conversations c
        LEFT JOIN messages m ON m.conversation_id = c.id
        LEFT JOIN LATERAL (
            SELECT created_at, content FROM messages
            WHERE conversation_id = c.id ORDER BY id DESC LIMIT 1
        ) AS last ON true
        WHERE c.closed_at IS NULL
        GROUP BY c.channel, last.created_at, last.content
        ORDER BY last.created_at DESC NULLS LAST
        """
    )
    return [
        ChannelSummary(r["channel"], r["count"], r["last_ts"], r["last_msg"]) async for r in cur
    ]
