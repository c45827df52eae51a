"""The owner's MCP servers as the api shows them (secrets masked) and the answers of changes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.mcp import McpToolInfo

McpState = Literal["connected", "error", "disabled"]


class McpServerView(BaseModel):
    """One server: its public configuration (the fields of its transport), header or env values
    masked, and what the workers last reported."""

    model_config = ConfigDict(extra="allow")  # the transport's own public fields

    name: str
    transport: Literal["http", "stdio"]
    risk: str
    timeout_seconds: float
    enabled: bool
    url: str | None = None
    command: str | None = None
    args: list[str] | None = None
    headers: dict[str, str] | None = Field(default=None, description="values masked")
    env: dict[str, str] | None = Field(default=None, description="values masked")
    status: McpState
    error: str | None
    tools: list[McpToolInfo]


class McpServers(BaseModel):
    servers: list[McpServerView]


class McpApplied(BaseModel):
    """A server added, enabled or disabled, once every live worker tried it."""

    ok: bool = True
    name: str
    enabled: bool | None = None
    status: McpState | None
    error: str | None
    tools: list[McpToolInfo]
    unconfirmed: list[str]


class McpDeleted(BaseModel):
    ok: bool = True
    deleted: str
    unconfirmed: list[str]
