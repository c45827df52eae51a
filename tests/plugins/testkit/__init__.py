"""A user plugin for the tests, loaded from AION_PLUGINS_DIR like an owner's own plugin."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry


class Text(BaseModel):
    text: str = Field(max_length=1000)


class Nap(BaseModel):
    ms: int = Field(ge=0, le=10_000)


class Size(BaseModel):
    chars: int = Field(ge=0, le=1_000_000)


class Nothing(BaseModel):
    pass


async def echo(ctx: ToolContext, args: Text) -> str:
    return f"echo:{args.text}"


async def nap(ctx: ToolContext, args: Nap) -> dict[str, Any]:
    """Sleeps, and says when it ran (so a test can see calls overlap without timing them)."""
    started = time.time()
    await ctx.progress(50.0, "halfway")
    await asyncio.sleep(args.ms / 1000)
    return {"ms": args.ms, "start": started, "end": time.time()}


async def doze(ctx: ToolContext, args: Nap) -> str:
    """Sleeps past anything a fault test waits for: the test kills or stops its worker meanwhile."""
    await asyncio.sleep(args.ms / 1000)
    return f"slept {args.ms} ms"


async def boom(ctx: ToolContext, args: Nothing) -> str:
    raise RuntimeError("kaboom")


async def refuse(ctx: ToolContext, args: Nothing) -> str:
    raise ToolError("the thing is not possible today")


async def big(ctx: ToolContext, args: Size) -> str:
    return "x" * args.chars


async def risky(ctx: ToolContext, args: Text) -> str:
    return f"did:{args.text}"


def register(registry: ToolRegistry) -> None:
    registry.add("echo", "Repeat the text back.", Text, echo, timeout=2)
    registry.add("nap", "Sleep for a while.", Nap, nap, timeout=1)
    registry.add("doze", "Sleep for long.", Nap, doze, timeout=30)
    registry.add("boom", "Always fails.", Nothing, boom)
    registry.add("refuse", "Always refuses.", Nothing, refuse)
    registry.add("big", "Returns a long text.", Size, big)
    registry.add("risky", "Does something the owner must approve.", Text, risky, risk="ask")
