"""The hash of the generated API token (only used when AION_API_TOKEN is unset)."""

from __future__ import annotations

from shared.db import Conn


async def stored_token_hash(conn: Conn) -> bytes | None:
    cur = await conn.execute("SELECT token_sha256 FROM api_credentials WHERE id = 1")
    row = await cur.fetchone()
    return bytes(row["token_sha256"]) if row else None


async def store_token_hash_once(conn: Conn, digest: bytes) -> bool:
    """Store the hash unless another replica won the race; True when ours was stored."""
    cur = await conn.execute(
        "INSERT INTO api_credentials (id, token_sha256) VALUES (1, %s) ON CONFLICT DO NOTHING",
        (digest,),
    )
    return cur.rowcount == 1
