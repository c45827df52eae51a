"""A server's MCP tools as registry tools: names, schemas, risk, and results as text.

Names: `mcp__<server>__<tool>`, with characters providers refuse replaced by `_`; a name past
the providers' 64 characters, or one that two tools would share, is cut and given a short hash
of the original, so every worker derives the same names (tool_permissions names them).
MCP output comes from outside the owner's control and an MCP tool can do anything, so every
one `reads_untrusted` and `sends_or_persists` (see tools/policy.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import mcp_types as types
import orjson
from pydantic import BaseModel, ConfigDict

from services.worker.providers.base import ToolSpec
from services.worker.tools.registry import Tool, ToolError
from shared.events import ImageBlock

if TYPE_CHECKING:
    from services.worker.mcp.connection import McpConnection
    from services.worker.tools.context import ToolContext

PREFIX = "mcp__"
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_IMAGE_BYTES = 2_000_000  # as base64: bigger images are named, not shown
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class McpArguments(BaseModel):
    """Whatever the model sends: the server checks it against its own schema."""

    model_config = ConfigDict(extra="allow")


def exposed_names(pairs: Iterable[tuple[str, str]], taken: set[str]) -> dict[tuple[str, str], str]:
    """(server, tool) → the name the model is offered; unique, and unique against `taken`."""
    names: dict[tuple[str, str], str] = {}
    used = set(taken)
    for server, tool in sorted(set(pairs)):
        name = f"{PREFIX}{server}__{_UNSAFE.sub('_', tool)}"
        if len(name) > MAX_NAME or name in used:
            digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
            name = f"{name[: MAX_NAME - 9]}_{digest}"
        used.add(name)
        names[(server, tool)] = name
    return names


def build(connection: McpConnection, names: dict[tuple[str, str], str]) -> list[Tool]:
    server = connection.spec.server
    tools = []
    for listed in connection.tools:
        name = names[(server.name, listed.name)]
        description = (listed.description or listed.title or listed.name).strip()
        description = f"[MCP server {server.name}] {description}"[:MAX_DESCRIPTION]
        schema: dict[str, Any] = dict(listed.input_schema or {})
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        tools.append(
            Tool(
                name,
                description,
                McpArguments,
                _caller(connection, listed.name),
                "safe" if server.risk == "allow" else "ask",
                server.timeout_seconds,
                f"mcp:{server.name}",
                ToolSpec(name, description, schema),
                reads_untrusted=True,
                sends_or_persists=True,
            )
        )
    return tools


def _caller(connection: McpConnection, tool: str) -> Any:
    async def call(ctx: ToolContext, args: McpArguments) -> str:
        result = await connection.call(tool, dict(args.model_extra or {}))
        text = as_text(result, ctx)
        if result.is_error:
            raise ToolError(text or "The MCP tool reported an error.")
        return text

    return call


def as_text(result: types.CallToolResult, ctx: ToolContext) -> str:
    """The result's content as text; images also as blocks of the reply."""
    parts: list[str] = []
    for item in result.content:
        if isinstance(item, types.TextContent):
            parts.append(item.text)
        elif isinstance(item, types.ImageContent):
            if len(item.data) <= MAX_IMAGE_BYTES:
                ctx.add_block(ImageBlock(url=f"data:{item.mime_type};base64,{item.data}"))
            parts.append(f"[image ({item.mime_type}), shown to the owner]")
        elif isinstance(item, types.AudioContent):
            parts.append(f"[audio ({item.mime_type}), not shown]")
        elif isinstance(item, types.EmbeddedResource):
            resource = item.resource
            if isinstance(resource, types.TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource {resource.uri} ({resource.mime_type or 'binary'})]")
        elif isinstance(item, types.ResourceLink):
            parts.append(f"[resource link: {item.uri}]")
    if not parts and result.structured_content is not None:
        parts.append(orjson.dumps(result.structured_content).decode())
    return "\n".join(parts)
