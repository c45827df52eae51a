"""Rows of the `secrets` table: names and Fernet ciphertexts (encryption is shared/vault.py's)."""

from __future__ import annotations

from shared.db import Conn


async def load_all(conn: Conn) -> dict[str, bytes]:
    cur = await conn.execute("SELECT name, ciphertext FROM secrets ORDER BY name")
    return {row["name"]: bytes(row["ciphertext"]) async for row in cur}


async def store(conn: Conn, name: str, ciphertext: bytes) -> None:
    await conn.execute(
        """
        INSERT INTO secrets (name, ciphertext) VALUES (%s, %s)
        ON CONFLICT (name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = now()
        """,
        (name, ciphertext),
    )


async def delete(conn: Conn, name: str) -> bool:
    cur = await conn.execute("DELETE FROM secrets WHERE name = %s", (name,))
    return cur.rowcount == 1
