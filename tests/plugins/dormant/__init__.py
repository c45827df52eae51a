"""A plugin that is off by default (like `shell`)."""

from __future__ import annotations

from pydantic import BaseModel

from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolRegistry


class Nothing(BaseModel):
    pass


def register(registry: ToolRegistry) -> None:
    @registry.tool()
    async def wake_up(ctx: ToolContext, args: Nothing) -> str:
        """Says it is awake."""
        return "awake"
