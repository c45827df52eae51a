"""The `memory` plugin: the agent saves, searches and forgets long-term memories itself.

Memories saved here carry source `tool` and the turn's channel; a fact already known is merged
into the existing memory rather than stored twice (the reply says so).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.worker.memory import store
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry


class SaveParams(BaseModel):
    content: str = Field(
        min_length=1,
        max_length=store.MAX_CONTENT_CHARS,
        description="The fact to remember, as one self-contained sentence.",
    )
    category: str | None = Field(
        default=None,
        max_length=32,
        description="One lowercase word, e.g. preference, person, place, work (default general).",
    )


class SearchParams(BaseModel):
    query: str = Field(
        min_length=1, max_length=store.MAX_QUERY_CHARS, description="What to look for."
    )
    limit: int = Field(default=5, ge=1, le=20, description="How many memories at most.")


class ForgetParams(BaseModel):
    id: int = Field(ge=1, description="The id of the memory, as memory_search shows it.")


def _entry(memory: Any) -> dict[str, Any]:
    return {
        "id": memory.id,
        "content": memory.content,
        "category": memory.category,
        "saved": memory.updated_at.isoformat(),
        "score": round(memory.score or 0.0, 4),
    }


async def memory_save(ctx: ToolContext, args: SaveParams) -> dict[str, Any]:
    """Remember a durable fact about the owner or their preferences for future conversations.
    Use it when the owner tells you something worth keeping or asks you to remember it."""
    try:
        candidate = store.Candidate(args.content, store.clean_category(args.category))
        [saved] = await store.save(
            ctx.app, [candidate], source="tool", channel=ctx.channel, turn_id=ctx.turn_id
        )
    except store.InvalidMemory as exc:
        raise ToolError(str(exc)) from exc
    return {"id": saved.id, "merged": saved.merged, "content": saved.content}


async def memory_search(ctx: ToolContext, args: SearchParams) -> dict[str, Any]:
    """Search long-term memory by meaning and by exact words (names, numbers); best first."""
    found = await store.search(ctx.app, args.query, limit=args.limit, min_similarity=0.2)
    return {"results": [_entry(m) for m in found]}


async def memory_forget(ctx: ToolContext, args: ForgetParams) -> dict[str, Any]:
    """Delete one memory by id, when the owner asks you to forget it or it is wrong."""
    if not await store.forget(ctx.app, args.id):
        raise ToolError(f"There is no memory with id {args.id}.")
    return {"ok": True, "forgotten": args.id}


def register(registry: ToolRegistry) -> None:
    # A saved memory goes into every later turn's prompt: the way for injected text to outlive
    # the turn that read it. Forgetting changes what later turns know as much.
    registry.tool(sends_or_persists=True)(memory_save)
    registry.tool()(memory_search)  # the owner's own memories
    registry.tool(sends_or_persists=True)(memory_forget)
