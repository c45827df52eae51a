"""The stored MCP servers, with their secrets opened under the vault's key."""

from __future__ import annotations

import logging

import pydantic

from shared.db import Conn
from shared.db import mcp_servers as repo
from shared.mcp import McpServerSpec, unsealed
from shared.sealing import Sealer, SealError

log = logging.getLogger("aion.worker.mcp")


async def load(conn: Conn, sealer: Sealer) -> tuple[list[McpServerSpec], dict[str, str]]:
    """The servers this worker can run, and the ones it cannot with why (their status)."""
    specs: list[McpServerSpec] = []
    broken: dict[str, str] = {}
    for row in await repo.list_all(conn):
        try:
            specs.append(unsealed(row, sealer))
        except (SealError, pydantic.ValidationError) as exc:
            log.warning("MCP server %s cannot be used: %s", row.name, type(exc).__name__)
            broken[row.name] = "its stored header or env values do not open under AION_SECRET_KEY"
    return specs, broken
