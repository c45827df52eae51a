"""Core tools: what time it is for the owner, and `reflect` (thinking aloud as a `thought`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolRegistry


class NoArguments(BaseModel):
    pass


class ReflectArguments(BaseModel):
    thought: str = Field(min_length=1, max_length=4000, description="what you are thinking")


async def current_time(ctx: ToolContext, args: NoArguments) -> dict[str, Any]:
    zone = ZoneInfo(ctx.owner_settings.timezone)
    now = datetime.now(UTC).astimezone(zone)
    return {
        "iso": now.isoformat(timespec="seconds"),
        "date": now.strftime("%A, %d %B %Y"),
        "time": now.strftime("%H:%M"),
        "timezone": ctx.owner_settings.timezone,
    }


async def reflect(ctx: ToolContext, args: ReflectArguments) -> str:
    await ctx.thought(args.thought)
    return "Noted."


def register(registry: ToolRegistry) -> None:
    # Neither flag: the clock is AION's own, and a reflection only reaches the owner.
    registry.add(
        "current_time",
        "The current date and time in the owner's time zone.",
        NoArguments,
        current_time,
        timeout=2,
    )
    registry.add(
        "reflect",
        "Think a step through before acting; the owner sees it as a thought, not as a reply.",
        ReflectArguments,
        reflect,
        timeout=2,
    )
