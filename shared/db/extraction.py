"""Batched memory extraction's bookkeeping on conversations (migration 0018).

PostgreSQL, not Redis, holds what is still to be read and when: a conversation whose messages
were not all read has `extract_after` set, and any worker may claim it once it is due (a lease,
so a worker that dies mid-way leaves it to the next one). Nothing pending is lost to a worker
or a Redis restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import Conn


@dataclass(frozen=True, slots=True)
class Claim:
    """A conversation this worker may read, from after `extracted_upto` to `last_id`."""

    conversation_id: int
    channel: str
    extracted_upto: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Unread:
    id: int
    turn_id: str | None
    role: str
    content: str


async def schedule(conn: Conn, conversation_id: int, *, at_once_from: int) -> bool:
    """After a turn: mark the conversation as having unread messages; due at once (True) when
    `at_once_from` owner messages or more are unread, else once the conversation is idle."""
    # '-infinity': due at once, whatever the idle time.
    cur = await conn.execute(
        """
        UPDATE conversations c SET extract_after = CASE
            WHEN c.extract_after = '-infinity' OR p.unread >= %(at_once_from)s
            THEN '-infinity'::timestamptz ELSE now() END
        FROM (
            SELECT count(*) AS unread FROM messages m JOIN conversations o
                ON o.id = m.conversation_id
            WHERE o.id = %(id)s AND m.role = 'user' AND m.id > o.extracted_upto
              AND m.content <> ''
        ) AS p
        WHERE c.id = %(id)s AND p.unread > 0
        RETURNING c.extract_after = '-infinity' AS at_once
        """,
        {"id": conversation_id, "at_once_from": at_once_from},
    )
    row = await cur.fetchone()
    return bool(row and row["at_once"])


async def skip_unread(conn: Conn, conversation_id: int) -> None:
    """With automatic memory off: what was said so far is never to be read for memories."""
    await conn.execute(
        """
        UPDATE conversations c SET extract_after = NULL, extracted_upto = greatest(
            c.extracted_upto,
            COALESCE((SELECT max(id) FROM messages WHERE conversation_id = c.id), 0))
        WHERE c.id = %s
        """,
        (conversation_id,),
    )


async def claim(
    conn: Conn,
    *,
    idle_seconds: float,
    lease_seconds: float,
    conversation_id: int | None = None,
) -> Claim | None:
    """Take the longest-waiting due conversation (or the one given, if due) for `lease_seconds`;
    None when there is none. Workers claiming at once never take the same one."""
    cur = await conn.execute(
        """
        UPDATE conversations c
        SET extract_lease_until = now() + make_interval(secs => %(lease)s)
        WHERE c.id = (
            SELECT id FROM conversations
            WHERE extract_after IS NOT NULL
              AND extract_after <= now() - make_interval(secs => %(idle)s)
              AND (extract_lease_until IS NULL OR extract_lease_until < now())
              AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
            ORDER BY extract_after LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING c.id, c.channel, c.extracted_upto,
            COALESCE((SELECT max(m.id) FROM messages m WHERE m.conversation_id = c.id), 0)
                AS last_id
        """,
        {"idle": idle_seconds, "lease": lease_seconds, "id": conversation_id},
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Claim(row["id"], row["channel"], row["extracted_upto"], row["last_id"])


async def unread(conn: Conn, claim: Claim, after: int, limit: int) -> list[Unread]:
    """The owner's messages and the replies with text after message `after`, up to the claim's
    last message, oldest first (tool calls and results are never read)."""
    cur = await conn.execute(
        """
        SELECT id, turn_id, role, content FROM messages
        WHERE conversation_id = %s AND id > %s AND id <= %s
          AND role IN ('user', 'assistant') AND content <> ''
        ORDER BY id LIMIT %s
        """,
        (claim.conversation_id, after, claim.last_id, limit),
    )
    return [Unread(r["id"], r["turn_id"], r["role"], r["content"]) async for r in cur]


async def advance(conn: Conn, conversation_id: int, upto: int, lease_seconds: float) -> None:
    """Messages up to `upto` are read (their facts saved); the claim is held a while longer."""
    await conn.execute(
        """
        UPDATE conversations SET extracted_upto = greatest(extracted_upto, %s),
            extract_lease_until = now() + make_interval(secs => %s)
        WHERE id = %s
        """,
        (upto, lease_seconds, conversation_id),
    )


async def release(conn: Conn, conversation_id: int, upto: int, *, at_once_from: int) -> None:
    """The claim is done up to `upto`: lease freed. Owner messages that came meanwhile are due
    as their turns would have left them had nobody been reading: at once when `at_once_from`
    or more are unread or the conversation was closed, else once it is idle. (Left due at once,
    every turn that ended during the next read started one more read: a model call per turn.)"""
    await conn.execute(
        """
        UPDATE conversations c SET
            extracted_upto = greatest(c.extracted_upto, %(upto)s),
            extract_lease_until = NULL,
            extract_after = (
                SELECT CASE
                    WHEN r.unread = 0 THEN NULL
                    WHEN c.closed_at IS NOT NULL OR r.unread >= %(at_once_from)s
                        THEN '-infinity'::timestamptz
                    WHEN c.extract_after = '-infinity' THEN now()
                    ELSE c.extract_after END
                FROM (SELECT count(*) AS unread FROM messages m
                      WHERE m.conversation_id = c.id AND m.role = 'user'
                        AND m.id > greatest(c.extracted_upto, %(upto)s)
                        AND m.content <> '') AS r)
        WHERE c.id = %(id)s
        """,
        {"id": conversation_id, "upto": upto, "at_once_from": at_once_from},
    )
