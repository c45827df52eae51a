"""The memory plugin's tools, called as the agent loop calls them, on the real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import services.worker.plugins.memory as memory_plugin
from services.worker.context import WorkerContext
from services.worker.plugins.memory import ForgetParams, SaveParams, SearchParams
from services.worker.settings import WorkerSettings
from services.worker.tools.registry import ToolError, ToolRegistry
from tests.memory.conftest import tool_context

pytestmark = pytest.mark.usefixtures("no_memories")


def test_manifest_and_registration() -> None:
    manifest = json.loads((Path(memory_plugin.__file__).parent / "plugin.json").read_text())
    assert manifest["name"] == "memory" and manifest["dependencies"] == []
    assert {"version", "description"} <= set(manifest)
    registry = ToolRegistry("memory", WorkerSettings())
    memory_plugin.register(registry)
    specs = {tool.name: tool.spec for tool in registry.tools}
    assert set(specs) == {"memory_save", "memory_search", "memory_forget"}
    assert specs["memory_save"].parameters["required"] == ["content"]
    assert specs["memory_search"].parameters["properties"]["limit"]["maximum"] == 20
    assert all(tool.risk == "safe" and tool.description for tool in registry.tools)


async def test_save_search_forget(worker_app: WorkerContext, db) -> None:
    ctx = tool_context(worker_app, channel="telegram:42")
    saved = await memory_plugin.memory_save(
        ctx, SaveParams(content="The owner's cat is called Miso.", category="Person")
    )
    assert saved["merged"] is False
    again = await memory_plugin.memory_save(
        ctx, SaveParams(content="the owner's cat is called miso")
    )
    assert again == {**saved, "merged": True}
    row = await (
        await db.execute(
            "SELECT source, channel, turn_id, category FROM memories WHERE id = %s",
            (saved["id"],),
        )
    ).fetchone()
    assert row == ("tool", "telegram:42", ctx.turn_id, "person")

    await memory_plugin.memory_save(ctx, SaveParams(content="The owner plays chess on Tuesdays."))
    found = await memory_plugin.memory_search(
        ctx, SearchParams(query="what's my cat's name", limit=1)
    )
    assert [r["id"] for r in found["results"]] == [saved["id"]]
    assert found["results"][0]["content"] == "The owner's cat is called Miso."

    assert await memory_plugin.memory_forget(ctx, ForgetParams(id=saved["id"])) == {
        "ok": True,
        "forgotten": saved["id"],
    }
    with pytest.raises(ToolError, match="no memory"):
        await memory_plugin.memory_forget(ctx, ForgetParams(id=saved["id"]))
    found = await memory_plugin.memory_search(ctx, SearchParams(query="what's my cat's name"))
    assert saved["id"] not in [r["id"] for r in found["results"]]


async def test_bad_input_is_a_tool_error(worker_app: WorkerContext) -> None:
    ctx = tool_context(worker_app)
    with pytest.raises(ToolError, match="category"):
        await memory_plugin.memory_save(ctx, SaveParams(content="x y", category="two words"))
    with pytest.raises(ToolError, match="words"):
        await memory_plugin.memory_save(ctx, SaveParams(content="?!"))
