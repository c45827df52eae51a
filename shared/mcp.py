"""The owner's MCP servers: what the API accepts, what workers report, defined once.

The api stores a server (its header and env values sealed with the vault's key) and broadcasts
`mcp_changed`; every worker reconnects what changed, reports each server's status under
STATUS_KEY and acknowledges the request with the statuses it sees (see shared/plugin_catalog.py
for the acknowledgement key, shared with plugins).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from shared.db.mcp_servers import McpServerRow
from shared.sandbox import MAX_ENV_VALUE_CHARS, env_name_problem
from shared.sealing import Sealer

SERVER_NAME = r"^[a-z][a-z0-9_-]{0,31}$"
STATUS_KEY = "aion:mcp:status"  # hash: server name → McpServerStatus (the last worker to report)
MAX_SECRET_CHARS = MAX_ENV_VALUE_CHARS  # the sandbox service takes env values this long
DEFAULT_TIMEOUT_SECONDS = 60.0
_HEADER = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$"

McpRisk = Literal["ask", "allow"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Server(_Body):
    name: str = Field(pattern=SERVER_NAME)
    risk: McpRisk = "ask"
    # How long one call of this server's tools may take (the `tool_result` says it was stopped).
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=3600)


class HttpServer(_Server):
    transport: Literal["http"]
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    headers: dict[str, Annotated[str, Field(max_length=MAX_SECRET_CHARS)]] = Field(
        default_factory=dict, max_length=32
    )

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not _matches(_HEADER, name):
                raise ValueError(f"{name[:80]!r} is not an HTTP header name")
            if "\r" in header or "\n" in header:
                raise ValueError(f"the value of header {name!r} spans lines")
        return value


class StdioServer(_Server):
    transport: Literal["stdio"]
    command: str = Field(min_length=1, max_length=1000)
    args: list[Annotated[str, Field(max_length=4000)]] = Field(default_factory=list, max_length=64)
    env: dict[str, Annotated[str, Field(max_length=MAX_SECRET_CHARS)]] = Field(
        default_factory=dict, max_length=64
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        # The sandbox service checks the same rules again (shared/sandbox.py).
        for name in value:
            problem = env_name_problem(name)
            if problem is not None:
                raise ValueError(problem)
        return value


McpServerConfig = Annotated[HttpServer | StdioServer, Field(discriminator="transport")]


class McpServerSpec(BaseModel):
    """A stored server as a worker runs it: secrets in clear, whether the owner has it on."""

    model_config = ConfigDict(frozen=True)

    server: McpServerConfig
    enabled: bool

    @property
    def name(self) -> str:
        return self.server.name


class McpToolInfo(_Body):
    name: str  # as offered to the model (and named in tool_permissions): mcp__<server>__<tool>
    description: str
    risk: Literal["safe", "ask"]


class McpServerStatus(_Body):
    name: str
    status: Literal["connected", "error", "disabled"]
    error: str | None = None
    tools: list[McpToolInfo] = Field(default_factory=list)


def _matches(pattern: str, value: str) -> bool:
    return re.match(pattern, value) is not None


_config: TypeAdapter[McpServerConfig] = TypeAdapter(McpServerConfig)


def secrets_of(server: HttpServer | StdioServer) -> dict[str, dict[str, str]]:
    return {"headers": server.headers} if isinstance(server, HttpServer) else {"env": server.env}


def public_config(server: HttpServer | StdioServer) -> dict[str, Any]:
    """What is stored in clear: everything but header and env values."""
    return server.model_dump(exclude={"headers", "env"})


def seal(server: HttpServer | StdioServer, sealer: Sealer) -> bytes | None:
    """The header or env values sealed under the vault's key; None when there are none (then no
    key is needed). Raises the vault's error when there are some and no key is set."""
    secrets = secrets_of(server)
    if not any(secrets.values()):
        return None
    return sealer.seal(orjson.dumps(secrets).decode()).encode()


def unsealed(row: McpServerRow, sealer: Sealer) -> McpServerSpec:
    """The stored server with its secrets in clear (raises SealError when they do not open)."""
    secrets = orjson.loads(sealer.unseal(row.sealed_secrets.decode())) if row.sealed_secrets else {}
    server = _config.validate_python({**row.config, **secrets})
    return McpServerSpec(server=server, enabled=row.enabled)
