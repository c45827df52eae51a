"""Todo tools: the owner's todo list, kept in PostgreSQL."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry
from shared.db import todos as todos_repo
from shared.db.todos import Todo

MAX_OPEN = 1000  # a list longer than this is a runaway loop, not a todo list
LIST_LIMIT = 200


class AddArguments(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="what is to be done")


class ListArguments(BaseModel):
    status: Literal["open", "all"] = "open"


class ItemArguments(BaseModel):
    id: int = Field(ge=1, description="the item's id, as todo_list shows it")


def _shown(todo: Todo, zone: ZoneInfo) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": todo.id,
        "text": todo.text,
        "done": todo.done,
        "created": todo.created_at.astimezone(zone).isoformat(timespec="minutes"),
    }
    if todo.done_at is not None:
        item["done_at"] = todo.done_at.astimezone(zone).isoformat(timespec="minutes")
    return item


async def todo_add(ctx: ToolContext, args: AddArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        if await todos_repo.count_open(conn) >= MAX_OPEN:
            raise ToolError(f"the todo list already has {MAX_OPEN} open items")
        todo = await todos_repo.add(conn, args.text.strip())
    return _shown(todo, ZoneInfo(ctx.owner_settings.timezone))


async def todo_list(ctx: ToolContext, args: ListArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        todos = await todos_repo.list_todos(
            conn, include_done=args.status == "all", limit=LIST_LIMIT
        )
    zone = ZoneInfo(ctx.owner_settings.timezone)
    return {"status": args.status, "items": [_shown(t, zone) for t in todos]}


async def todo_complete(ctx: ToolContext, args: ItemArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        todo = await todos_repo.complete(conn, args.id)
    if todo is None:
        raise ToolError(f"there is no todo item {args.id}")
    return _shown(todo, ZoneInfo(ctx.owner_settings.timezone))


async def todo_remove(ctx: ToolContext, args: ItemArguments) -> dict[str, Any]:
    async with ctx.app.pool.connection() as conn:
        todo = await todos_repo.remove(conn, args.id)
    if todo is None:
        raise ToolError(f"there is no todo item {args.id}")
    return {"removed": args.id, "text": todo.text}


def register(registry: ToolRegistry) -> None:
    # Items stay for later turns (todo_list shows them to the model): text left behind. Marking
    # done or removing changes the owner's list as much. Listing is the owner's own data.
    registry.add(
        "todo_add",
        "Add an item to the owner's todo list.",
        AddArguments,
        todo_add,
        timeout=10,
        sends_or_persists=True,
    )
    registry.add(
        "todo_list",
        "The owner's todo list: open items, or all of them with the done ones.",
        ListArguments,
        todo_list,
        timeout=10,
    )
    registry.add(
        "todo_complete",
        "Mark a todo item as done.",
        ItemArguments,
        todo_complete,
        timeout=10,
        sends_or_persists=True,
    )
    registry.add(
        "todo_remove",
        "Remove an item from the todo list.",
        ItemArguments,
        todo_remove,
        timeout=10,
        sends_or_persists=True,
    )
