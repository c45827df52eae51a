"""What went wrong with an MCP server: in a few words, and whether it needs a new session."""

from __future__ import annotations

import mcp_types as types
from mcp.shared.exceptions import MCPError


def transport_failure(exc: MCPError) -> bool:
    """An error the session itself reports (not the tool): the connection is gone, or the
    server no longer knows our session (it restarted): both need a new session."""
    return exc.error.code == types.CONNECTION_CLOSED or "session not found" in (
        exc.error.message.lower()
    )


def describe(exc: BaseException, limit: int = 300) -> str:
    """A short description of what went wrong, the innermost cause of an exception group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
