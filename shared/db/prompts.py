"""Saved prompts: every save is a revision; the newest KEEP_REVISIONS per prompt are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn

KEEP_REVISIONS = 20


@dataclass(frozen=True, slots=True)
class PromptRevision:
    content: str
    created_at: datetime


async def revision(conn: Conn, name: str, back: int = 0) -> PromptRevision | None:
    """The newest saved text (`back=0`), or the one `back` saves before it."""
    cur = await conn.execute(
        """
        SELECT content, created_at FROM prompt_revisions WHERE name = %s
        ORDER BY id DESC OFFSET %s LIMIT 1
        """,
        (name, back),
    )
    row = await cur.fetchone()
    return PromptRevision(row["content"], row["created_at"]) if row else None


async def save(conn: Conn, name: str, content: str) -> None:
    """Store a new revision and drop those past the newest KEEP_REVISIONS, atomically."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO prompt_revisions (name, content) VALUES (%s, %s)", (name, content)
        )
        await conn.execute(
            """
            DELETE FROM prompt_revisions WHERE name = %(name)s AND id NOT IN (
                SELECT id FROM prompt_revisions WHERE name = %(name)s
                ORDER BY id DESC LIMIT %(keep)s
            )
            """,
            {"name": name, "keep": KEEP_REVISIONS},
        )


async def latest_all(conn: Conn) -> dict[str, str]:
    """The newest saved text of every prompt that was ever saved."""
    cur = await conn.execute(
        "SELECT DISTINCT ON (name) name, content FROM prompt_revisions ORDER BY name, id DESC"
    )
    return {row["name"]: row["content"] async for row in cur}
