"""Past conversations as a person reads them: listed newest first, searched, read, deleted.

Only what a person sees counts (their messages and the replies with text), not tool traffic.
Search is full-text over that text (index `messages_text_search`, configuration `simple`): a
conversation matches when one of its messages has every word, each matched as a prefix, so "hel"
finds "hello" while it is being typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn

TITLE_CHARS = 80
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: int
    channel: str
    title: str | None
    started_at: datetime
    last_at: datetime | None
    messages: int
    open: bool


@dataclass(frozen=True, slots=True)
class VisibleMessage:
    role: str
    content: str
    created_at: datetime


def prefix_query(search: str) -> str | None:
    """A tsquery of every word of `search` as a prefix (`hel:* & wor:*`); None without words.
    Built from word characters only, so nothing the owner types is tsquery syntax."""
    words = _WORD.findall(search.lower())[:16]
    return " & ".join(f"{word}:*" for word in words) or None


async def list_conversations(
    conn: Conn, *, channel: str | None, search: str | None, limit: int, before: int | None
) -> tuple[list[ConversationSummary], bool]:
    """Newest first (by id: the order they were started), at most `limit`, and whether more
    follow (ask again with `before` = the last id)."""
    query = prefix_query(search) if search else None
    if search and query is None:
        return [], False  # only punctuation: nothing can match
    cur = await conn.execute(
        """
        SELECT c.id, c.channel, c.created_at AS started_at, c.closed_at IS NULL AS open,
               counts.messages, counts.last_at, first_user.content AS title
        FROM conversations c
        JOIN LATERAL (
            SELECT count(*) AS messages, max(m.created_at) AS last_at
            FROM messages m WHERE m.conversation_id = c.id
              AND m.role IN ('user', 'assistant') AND m.content <> ''
        ) AS counts ON true
        LEFT JOIN LATERAL (
            SELECT left(m.content, 200) AS content FROM messages m
            WHERE m.conversation_id = c.id AND m.role = 'user' AND m.content <> ''
            ORDER BY m.id LIMIT 1
        ) AS first_user ON true
        WHERE (%(channel)s::text IS NULL OR c.channel = %(channel)s)
          AND (%(before)s::bigint IS NULL OR c.id < %(before)s)
          AND (%(query)s::text IS NULL OR c.id IN (
              SELECT m.conversation_id FROM messages m
              WHERE m.role IN ('user', 'assistant')
                AND to_tsvector('simple', m.content) @@ to_tsquery('simple', %(query)s)
          ))
        ORDER BY c.id DESC
        LIMIT %(limit)s
        """,  # the search's role condition is the index's predicate, so it can use it
        {"channel": channel, "before": before, "query": query, "limit": limit + 1},
    )
    rows = await cur.fetchall()
    summaries = [
        ConversationSummary(
            id=r["id"],
            channel=r["channel"],
            title=_title(r["title"]),
            started_at=r["started_at"],
            last_at=r["last_at"],
            messages=r["messages"],
            open=r["open"],
        )
        for r in rows[:limit]
    ]
    return summaries, len(rows) > limit


def _title(first_message: str | None) -> str | None:
    """The first user message on one line, cut at a word near TITLE_CHARS."""
    if not first_message:
        return None
    line = " ".join(first_message.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


async def conversation(
    conn: Conn, conversation_id: int
) -> tuple[ConversationSummary, list[VisibleMessage]] | None:
    """One conversation and every message a person sees in it, oldest first; None if unknown."""
    summaries = await conn.execute(
        "SELECT id, channel, created_at, closed_at IS NULL AS open FROM conversations "
        "WHERE id = %s",
        (conversation_id,),
    )
    head = await summaries.fetchone()
    if head is None:
        return None
    cur = await conn.execute(
        """
        SELECT m.role, m.content, m.created_at FROM messages m
        WHERE m.conversation_id = %s AND m.role IN ('user', 'assistant') AND m.content <> ''
        ORDER BY m.id
        """,
        (conversation_id,),
    )
    messages = [VisibleMessage(r["role"], r["content"], r["created_at"]) async for r in cur]
    first_user = next((m.content for m in messages if m.role == "user"), None)
    summary = ConversationSummary(
        id=head["id"],
        channel=head["channel"],
        title=_title(first_user),
        started_at=head["created_at"],
        last_at=messages[-1].created_at if messages else None,
        messages=len(messages),
        open=head["open"],
    )
    return summary, messages


async def delete_conversation(conn: Conn, conversation_id: int) -> bool:
    """Delete it with its messages (ON DELETE CASCADE); False if there was none."""
    cur = await conn.execute("DELETE FROM conversations WHERE id = %s", (conversation_id,))
    return cur.rowcount > 0
