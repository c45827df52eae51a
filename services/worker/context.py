"""The worker process's long-lived state, made in arq's on_startup and kept in `ctx`."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from redis.asyncio import Redis

from services.worker.emitter import flush_window
from services.worker.mcp.manager import McpManager
from services.worker.memory.embedding import Embedder
from services.worker.owner_config import OwnerConfigCache
from services.worker.providers.base import LLMProvider
from services.worker.sandbox import NO_SANDBOX, Sandbox, Unavailable
from services.worker.secrets_cache import SecretsCache
from services.worker.settings import WorkerSettings
from services.worker.tools.plugins import PluginManager
from services.worker.tools.registry import Tool
from shared.db import Pool
from shared.turn_bus import TurnBus

if TYPE_CHECKING:
    from services.worker.health import HealthServer  # it imports this module


def new_worker_id() -> str:
    """Host name first, so a container's health check can find its own worker."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(eq=False)
class RunningTurn:
    """A turn this process is working on, so a cancel broadcast can reach it."""

    turn_id: str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[object] | None = None

    def cancel(self) -> None:
        self.cancelled.set()
        if self.task is not None and not self.task.done():
            self.task.cancel()


@dataclass(eq=False)
class WorkerContext:
    settings: WorkerSettings
    worker_id: str
    redis: Redis
    pool: Pool
    bus: TurnBus
    owner_config: OwnerConfigCache  # the owner's settings, model and prompts, read when needed
    secrets: SecretsCache  # provider keys; the router reads them on every call
    provider: LLMProvider
    plugins: PluginManager
    wake: asyncio.Event
    embedder: Embedder
    tts: httpx.AsyncClient  # the tts service, base URL AION_TTS_URL
    # Where shell commands run (lifecycle opens it); none refuses every command.
    sandbox: Sandbox = field(default_factory=lambda: Unavailable(NO_SANDBOX))
    # Set on SIGTERM: no new turns; turns taken but not started are handed to other workers.
    draining: asyncio.Event = field(default_factory=asyncio.Event)
    running: dict[str, RunningTurn] = field(default_factory=dict)
    # Turns this worker claimed, waiting for their channel or running: the heartbeat renews
    # their leases; one that leaves (ended, or given up) lets its lease lapse.
    held: set[str] = field(default_factory=set)
    background: list[asyncio.Task[None]] = field(default_factory=list)
    plugin_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The owner's MCP servers (lifecycle makes it with the sandbox; none configured until then).
    mcp: McpManager = field(
        default_factory=lambda: McpManager(
            Unavailable(NO_SANDBOX), connect_timeout=10.0, stdio_mounts=[]
        )
    )
    mcp_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Extraction children running at once (each may use AION_FILE_EXTRACT_MEMORY_MB); made on
    # first use with AION_FILE_EXTRACT_CONCURRENCY slots.
    extractions: asyncio.Semaphore | None = None
    _chores: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, chore: Coroutine[Any, Any, None]) -> None:
        """Run a background chore that ends by itself (unlike `background`, whose tasks live
        as long as the process: /healthz reports a dead one), kept referenced until done."""
        task = asyncio.create_task(chore)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def stop_chores(self) -> None:
        for task in list(self._chores):
            task.cancel()
        await asyncio.gather(*self._chores, return_exceptions=True)

    health: HealthServer | None = None  # the probes/metrics port, when enabled

    @property
    def tools(self) -> dict[str, Tool]:
        """Every tool on offer before the owner's permissions: plugins' first, then MCP
        servers' (whose names never take a plugin tool's)."""
        return {**self.mcp.tools, **self.plugins.tools}

    def flush_window(self) -> float:
        """The token flush window now: wider the more turns run here (`emitter.flush_window`)."""
        return flush_window(
            self.settings.aion_token_flush_ms / 1000,
            self.settings.aion_token_flush_max_ms / 1000,
            len(self.running),
        )

    def cancel_turn(self, turn_id: str) -> None:
        turn = self.running.get(turn_id)
        if turn is not None:
            turn.cancel()
