"""Conversations and their messages, per channel. A reset closes the open conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message; tool traffic keeps the fields the provider format needs."""

    role: str
    content: str
    created_at: datetime
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def as_chat(self) -> dict[str, Any]:
        """The message in the providers' common (OpenAI chat) format."""
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        return message


def _message(row: dict[str, Any]) -> Message:
    return Message(
        row["role"], row["content"], row["created_at"], row["tool_calls"], row["tool_call_id"]
    )


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    channel: str
    count: int
    last_ts: datetime | None
    last_msg: str | None


# The tail of a query whose CTE `conversation` holds one conversation id: that conversation's
# id with its recent history (the last %(turns)s user messages and everything after the first).
_RECENT_HISTORY = SQL("""
        ), history AS (
            SELECT m.id, m.role, m.content, m.created_at, m.tool_calls, m.tool_call_id
            FROM messages m JOIN conversation c ON m.conversation_id = c.id
            WHERE m.id >= COALESCE((
                SELECT min(id) FROM (
                    SELECT id FROM messages WHERE conversation_id = c.id AND role = 'user'
                    ORDER BY id DESC LIMIT %(turns)s
                ) AS last_user_turns
            ), 0)
        )
        SELECT c.id AS conversation_id, h.role, h.content, h.created_at, h.tool_calls,
               h.tool_call_id
        FROM conversation c LEFT JOIN history h ON true
        ORDER BY h.id
""")


async def close_conversation(conn: Conn, channel: str) -> bool:
    """Close the open conversation; it stays in the database but leaves the LLM's view, so
    what memory extraction has not read yet is due at once (shared/db/extraction.py)."""
    cur = await conn.execute(
        """
        UPDATE conversations SET closed_at = now(),
            extract_after = CASE WHEN extract_after IS NOT NULL
                THEN '-infinity'::timestamptz END
        WHERE channel = %s AND closed_at IS NULL
        """,
        (channel,),
    )
    return cur.rowcount > 0


async def add_turn_messages(
    conn: Conn, conversation_id: int, turn_id: str, messages: list[dict[str, Any]]
) -> None:
    """Store what a turn said after the user's message (tool calls, results, the reply), in
    order, in one statement; a retried job stores nothing twice."""
    rows = [
        {
            "seq": seq,
            "role": m["role"],
            "content": m.get("content") or "",
            "tool_calls": m.get("tool_calls"),
            "tool_call_id": m.get("tool_call_id"),
        }
        for seq, m in enumerate(messages, start=1)
    ]
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO messages
            (conversation_id, turn_id, seq, role, content, tool_calls, tool_call_id)
        SELECT %(conversation)s, %(turn)s, r.seq, r.role, r.content, r.tool_calls, r.tool_call_id
        FROM jsonb_to_recordset(%(rows)s) AS r(
            seq smallint, role text, content text, tool_calls jsonb, tool_call_id text)
        ORDER BY r.seq
        ON CONFLICT (turn_id, role, seq) WHERE turn_id IS NOT NULL DO NOTHING
        """,
        {"conversation": conversation_id, "turn": turn_id, "rows": Jsonb(rows)},
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
        SQL("""
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
            ON CONFLICT (turn_id, role, seq) WHERE turn_id IS NOT NULL DO NOTHING
""")
        + _RECENT_HISTORY,
        {"channel": channel, "content": content, "turn_id": turn_id, "turns": user_turns},
    )
    return _conversation_rows(await cur.fetchall())


async def open_history(
    conn: Conn, channel: str, user_turns: int
) -> tuple[int, list[Message]] | None:
    """The channel's open conversation and its recent history (as `start_exchange` sees it),
    for a turn that continues without a new user message. None when there is none."""
    cur = await conn.execute(
        SQL("""
        WITH conversation AS (
            SELECT id FROM conversations WHERE channel = %(channel)s AND closed_at IS NULL
""")
        + _RECENT_HISTORY,
        {"channel": channel, "turns": user_turns},
    )
    return _conversation_rows(await cur.fetchall())


def _conversation_rows(rows: list[dict[str, Any]]) -> tuple[int, list[Message]] | None:
    if not rows:
        return None
    history = [_message(r) for r in rows if r["role"]]
    return int(rows[0]["conversation_id"]), history


async def channel_history(conn: Conn, channel: str, limit: int) -> list[Message]:
    """The newest `limit` messages of the channel's open conversation, oldest first: what a
    person sees (their messages and the replies, not the tool traffic)."""
    cur = await conn.execute(
        """
        SELECT role, content, created_at FROM (
            SELECT m.id, m.role, m.content, m.created_at FROM messages m
            JOIN conversations c ON c.id = m.conversation_id
            WHERE c.channel = %s AND c.closed_at IS NULL
              AND m.role IN ('user', 'assistant') AND m.content <> ''
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
            AND m.role IN ('user', 'assistant') AND m.content <> ''
        LEFT JOIN LATERAL (
            SELECT created_at, content FROM messages AS m
            WHERE m.conversation_id = c.id
              AND m.role IN ('user', 'assistant') AND m.content <> ''
            ORDER BY m.id DESC LIMIT 1
        ) AS last ON true
        WHERE c.closed_at IS NULL
        GROUP BY c.channel, last.created_at, last.content
        ORDER BY last.created_at DESC NULLS LAST
        """
    )
    return [
        ChannelSummary(r["channel"], r["count"], r["last_ts"], r["last_msg"]) async for r in cur
    ]
