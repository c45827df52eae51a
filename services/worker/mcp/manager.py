"""This worker's MCP servers: their connections, the tools they offer, their statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.worker.mcp import transports
from services.worker.mcp.connection import McpConnection, Opened
from services.worker.mcp.tools import build, exposed_names
from services.worker.sandbox import Sandbox
from services.worker.tools.registry import Tool
from shared.mcp import HttpServer, McpServerSpec, McpServerStatus, McpToolInfo

log = logging.getLogger("aion.worker.mcp")

Publish = Callable[[McpServerStatus], Awaitable[None]]


class McpManager:
    def __init__(
        self,
        sandbox: Sandbox,
        *,
        connect_timeout: float,
        stdio_mounts: list[Path],
        publish: Publish | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._connect_timeout = connect_timeout
        self._stdio_mounts = stdio_mounts
        self.publish = publish
        self._specs: dict[str, McpServerSpec] = {}
        self._broken: dict[str, str] = {}  # stored servers this worker cannot run, and why
        self._connections: dict[str, McpConnection] = {}
        self._tools: dict[str, Tool] = {}
        self._reserved: set[str] = set()  # names taken by plugins' tools

    @property
    def tools(self) -> dict[str, Tool]:
        """Tools of the enabled servers whose tools this worker has listed."""
        return self._tools

    def reserve(self, names: set[str]) -> None:
        self._reserved = set(names)
        self._rebuild()

    async def configure(
        self, specs: list[McpServerSpec], broken: dict[str, str], *, connect: bool
    ) -> None:
        """Take the stored servers: drop the removed, changed and disabled ones' sessions; with
        `connect`, open the new and changed ones now (else on the next turn)."""
        wanted = {spec.name: spec for spec in specs}
        for name, connection in list(self._connections.items()):
            spec = wanted.get(name)
            if spec is None or not spec.enabled or spec != connection.spec:
                del self._connections[name]
                await connection.aclose()
        for name, spec in wanted.items():
            if spec.enabled and name not in self._connections:
                self._connections[name] = McpConnection(
                    spec, self._open, self._on_change(name), connect_timeout=self._connect_timeout
                )
        self._specs, self._broken = wanted, dict(broken)
        self._rebuild()
        if connect:
            await self.ensure()

    async def ensure(self) -> None:
        """Every enabled server's session started; waits for the first attempts only."""
        if self._connections:
            await asyncio.gather(*(c.ensure() for c in self._connections.values()))
            self._rebuild()

    def statuses(self) -> list[McpServerStatus]:
        return [self._status(name) for name in sorted({*self._specs, *self._broken})]

    async def aclose(self) -> None:
        for connection in self._connections.values():
            await connection.aclose()
        self._connections.clear()
        self._tools = {}

    def _status(self, name: str) -> McpServerStatus:
        if name in self._broken:
            return McpServerStatus(name=name, status="error", error=self._broken[name])
        spec = self._specs[name]
        connection = self._connections.get(name)
        if not spec.enabled or connection is None:
            return McpServerStatus(name=name, status="disabled")
        tools = [
            McpToolInfo(name=t.name, description=t.description, risk=t.risk)
            for t in self._tools.values()
            if t.plugin == f"mcp:{name}"
        ]
        if connection.connected:
            return McpServerStatus(name=name, status="connected", tools=tools)
        return McpServerStatus(
            name=name, status="error", error=connection.error or "not connected yet", tools=tools
        )

    def _rebuild(self) -> None:
        pairs = [(c.spec.name, t.name) for c in self._connections.values() for t in c.tools]
        names = exposed_names(pairs, self._reserved)
        self._tools = {
            tool.name: tool for c in self._connections.values() for tool in build(c, names)
        }

    def _on_change(self, name: str) -> Callable[[], Awaitable[None]]:
        async def changed() -> None:
            self._rebuild()
            if self.publish is not None and name in self._specs:
                await self.publish(self._status(name))

        return changed

    async def _open(self, spec: McpServerSpec) -> Opened:
        server = spec.server
        if isinstance(server, HttpServer):
            transport, client = transports.http_transport(server, self._connect_timeout)
            return transport, client.aclose
        stdio = await transports.stdio_transport(server, self._sandbox, self._stdio_mounts)
        return stdio, None
