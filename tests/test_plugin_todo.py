"""The todo plugin end to end: add, list, complete, remove through chat turns."""

from __future__ import annotations

import httpx

from tests.plugin_helpers import run_tool


async def test_todo_list_round_trip(client: httpx.AsyncClient, channel: str) -> None:
    first = await run_tool(client, channel, "todo_add", text=f"{channel} buy milk")
    second = await run_tool(client, channel, "todo_add", text=f"{channel} call mum")
    assert first["ok"] is True and second["ok"] is True, (first, second)
    milk, mum = first["result"]["id"], second["result"]["id"]
    assert mum > milk and first["result"]["done"] is False

    def mine(result: dict[str, object]) -> list[tuple[str, bool]]:
        items = result["result"]["items"]  # type: ignore[index]
        return [(i["text"], i["done"]) for i in items if i["text"].startswith(channel)]

    listed = await run_tool(client, channel, "todo_list")
    assert mine(listed) == [(f"{channel} buy milk", False), (f"{channel} call mum", False)]

    done = await run_tool(client, channel, "todo_complete", id=milk)
    assert done["ok"] is True and done["result"]["done"] is True and "done_at" in done["result"]
    assert mine(await run_tool(client, channel, "todo_list")) == [(f"{channel} call mum", False)]
    assert mine(await run_tool(client, channel, "todo_list", status="all")) == [
        (f"{channel} call mum", False),
        (f"{channel} buy milk", True),
    ]

    removed = await run_tool(client, channel, "todo_remove", id=mum)
    assert removed["result"] == {"removed": mum, "text": f"{channel} call mum"}
    assert mine(await run_tool(client, channel, "todo_list", status="all")) == [
        (f"{channel} buy milk", True)
    ]
    for name in ("todo_complete", "todo_remove"):
        gone = await run_tool(client, channel, name, id=mum)
        assert gone["ok"] is False and f"no todo item {mum}" in gone["result"]
    bad = await run_tool(client, channel, "todo_add", text="")
    assert bad["ok"] is False and "Invalid arguments" in bad["result"]
