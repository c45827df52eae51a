"""The clients of the system we replace keep working (API.md, "kept for old clients"): the old
names beside ours in the stream, Stop per channel, image-only messages, an approval's question
in `full_response`. The old names on memory, plugins and config are checked where those routes
are (tests/memory/test_api.py, tests/test_plugins.py, tests/test_agent.py, tests/test_config.py).
"""

from __future__ import annotations

import httpx

from tests.fakellm import FakeLLM
from tests.helpers import chat, history
from tests.sse import iter_events
from tests.test_agent import call, of_type, requests_for

PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYAAAAAMAASsJTYQAAAAASUVORK5CYII="  # noqa: E501


async def test_tokens_carry_content_and_tool_events_tool(
    client: httpx.AsyncClient, channel: str
) -> None:
    _, events = await chat(client, f"[[{call('echo', {'text': 'hi'})}]]", channel)
    tokens = of_type(events, "token")
    assert tokens and all(t["content"] == t["text"] for t in tokens)
    (called,) = of_type(events, "tool_call")
    (result,) = of_type(events, "tool_result")
    assert called["tool"] == called["name"] == "echo"
    assert result["tool"] == result["name"] == "echo"


async def test_stop_cancels_the_running_turn_of_that_channel_only(
    client: httpx.AsyncClient, channel: str
) -> None:
    idle = await client.post("/api/stop", json={"channel": channel})
    assert idle.status_code == 200 and idle.json() == {"ok": True, "job": None}
    other = f"{channel}-other"
    slow = {"message": "[[tokens=400 gap=25]]"}
    running = await client.send(
        client.build_request("POST", "/api/chat", json={**slow, "channel": channel}), stream=True
    )
    elsewhere = await client.send(
        client.build_request("POST", "/api/chat", json={**slow, "channel": other}), stream=True
    )
    queued = await client.send(
        client.build_request("POST", "/api/chat", json={"message": "next", "channel": channel}),
        stream=True,
    )
    try:
        events = iter_events(running)
        assert (await anext(events)).type == "token"
        stopped = await client.post("/api/stop", json={"channel": channel})
        assert stopped.json() == {"ok": True, "job": running.headers["x-aion-job"]}
        done = [event async for event in events][-1].data
        assert done["type"] == "done" and done["cancelled"] is True
        # The turn queued behind it still runs; the other channel's turn was not touched.
        last = [event async for event in iter_events(queued)][-1].data
        assert last["full_response"] == "You said: next"
        other_events = iter_events(elsewhere)
        assert (await anext(other_events)).type == "token"
        await client.post("/api/stop", json={"channel": other})
    finally:
        for response in (running, elsewhere, queued):
            await response.aclose()
    # Without a body it stops the "web" channel's turn, like the old clients' button.
    assert (await client.post("/api/stop")).json()["ok"] is True


async def test_an_image_only_message_is_a_turn(
    client: httpx.AsyncClient, channel: str, fake_llm: FakeLLM
) -> None:
    _, events = await chat(client, "", channel, images=[PIXEL])
    assert events[-1].type == "done", events
    (request,) = requests_for(fake_llm, channel)
    content = request["messages"][-1]["content"]
    assert {"type": "image_url", "image_url": {"url": PIXEL}} in content
    assert (await history(client, channel))[0]["content"] == "(image)"
    response = await client.post("/api/chat", json={"channel": channel, "images": []})
    assert response.status_code == 422 and "message" in response.json()["detail"]


async def test_an_approvals_question_reaches_full_response(
    client: httpx.AsyncClient, channel: str
) -> None:
    _, events = await chat(client, f"[[{call('risky', {'text': 'launch'})}]]", channel)
    (approval,) = of_type(events, "approval")
    done = events[-1].data
    assert done["approval_pending"] is True
    assert done["full_response"].endswith(approval["message"])
    assert approval["message"] in "".join(t["text"] for t in of_type(events, "token"))
    # Not part of the conversation: the model never sees its own approval question.
    assert [m["role"] for m in await history(client, channel)] == ["user"]
