"""The agent loop end to end: the fake LLM asks for tools, the real worker runs them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from services.worker.tools.execute import MAX_OUTPUT_CHARS
from tests.fakellm import FakeLLM
from tests.helpers import chat, history
from tests.sse import SSEEvent


def call(name: str, args: dict[str, Any] | None = None) -> str:
    """The `call=` directive for one tool call (arguments percent-encoded JSON)."""
    return f"call={name}:{quote(json.dumps(args or {}))}"


def of_type(events: list[SSEEvent], kind: str) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == kind]


def requests_for(fake: FakeLLM, channel: str) -> list[dict[str, Any]]:
    """The chat requests the fake received for turns on `channel` (named in the system prompt)."""
    marker = f"Channel: {channel}."
    return [r for r in fake.requests if marker in r["messages"][0]["content"]]


async def test_tool_call_events_results_fed_back_and_history(
    client: httpx.AsyncClient, fake_llm: FakeLLM, channel: str
) -> None:
    _, events = await chat(client, f"use it [[{call('echo', {'text': 'hi'})}]]", channel)
    kinds = [e.type for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("token")
    assert kinds[-1] == "done"
    (requested,) = of_type(events, "tool_call")
    (result,) = of_type(events, "tool_result")
    assert requested["name"] == "echo" and requested["args"] == {"text": "hi"}
    assert result["call_id"] == requested["call_id"] and result["ok"] is True
    assert result["result"] == "echo:hi" and isinstance(result["duration_ms"], int)
    assert events[-1].data["full_response"] == "Tool results: echo:hi"

    first, second = requests_for(fake_llm, channel)
    offered = {tool["function"]["name"] for tool in first["tools"]}
    assert {"echo", "current_time", "reflect", "risky"} <= offered
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": requested["call_id"],
        "content": "echo:hi",
    }
    # The next turn's history carries the tool round in the providers' format.
    _, events = await chat(client, "again [[echo_history]]", channel)
    assert "tool:echo:hi" in events[-1].data["full_response"]
    shown = await history(client, channel)
    assert [m["role"] for m in shown] == ["user", "assistant", "user", "assistant"]


async def test_failures_become_results_the_model_sees(
    client: httpx.AsyncClient, channel: str
) -> None:
    calls = " ".join(
        [
            call("boom"),
            call("refuse"),
            call("nap", {"ms": 3000}),  # its limit is 1 s
            call("no_such_tool"),
            call("echo", {"wrong": 1}),
        ]
    )
    _, events = await chat(client, f"[[{calls}]]", channel)
    results = of_type(events, "tool_result")
    assert [r["name"] for r in results] == ["boom", "refuse", "nap", "no_such_tool", "echo"]
    assert not any(r["ok"] for r in results)
    boom, refuse, nap, unknown, bad_args = (r["result"] for r in results)
    # An unexpected error's text (paths, internals) stays in the worker's log.
    assert "kaboom" not in boom and "RuntimeError" in boom and "failed unexpectedly" in boom
    assert refuse == "the thing is not possible today"
    assert "did not finish within 1 s" in nap
    assert "no tool named 'no_such_tool'" in unknown
    assert "text" in bad_args and "Invalid arguments" in bad_args
    assert events[-1].type == "done"
    assert "Error: the thing is not possible today" in events[-1].data["full_response"]


async def test_tool_output_is_capped(client: httpx.AsyncClient, channel: str) -> None:
    _, events = await chat(client, f"[[{call('big', {'chars': 100_000})}]]", channel)
    (result,) = of_type(events, "tool_result")
    assert result["ok"] is True
    assert MAX_OUTPUT_CHARS < len(result["result"]) < MAX_OUTPUT_CHARS + 100
    assert result["result"].endswith("more characters cut]")


async def test_safe_calls_of_one_message_run_together_and_keep_order(
    client: httpx.AsyncClient, channel: str
) -> None:
    naps = " ".join(call("nap", {"ms": ms}) for ms in (600, 300, 10))
    _, events = await chat(client, f"[[{naps}]]", channel)
    results = of_type(events, "tool_result")
    assert [r["result"]["ms"] for r in results] == [600, 300, 10]  # the calls' order
    spans = [(r["result"]["start"], r["result"]["end"]) for r in results]
    assert all(start < spans[0][1] for start, _ in spans[1:]), spans  # all began before #1 ended
    assert len(of_type(events, "progress")) == 3


async def test_round_limit_ends_the_loop_with_a_note(
    client: httpx.AsyncClient, fresh_settings: None, channel: str
) -> None:
    response = await client.post("/api/config/settings", json={"max_tool_iterations": 2})
    assert response.status_code == 200
    _, events = await chat(client, f"[[{call('echo', {'text': 'x'})} rounds=10]]", channel)
    assert len(of_type(events, "tool_call")) == 2
    assert any(t.get("trigger") == "tool_limit" for t in of_type(events, "thought"))
    assert "max_tool_iterations" in events[-1].data["full_response"]


async def test_reflect_is_a_thought_and_time_uses_the_owner_zone(
    client: httpx.AsyncClient, fresh_settings: None, channel: str
) -> None:
    response = await client.post("/api/config/settings", json={"timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    calls = f"{call('reflect', {'thought': 'first the time'})} {call('current_time')}"
    _, events = await chat(client, f"[[{calls}]]", channel)
    (thought,) = [t for t in of_type(events, "thought") if t.get("trigger") == "reflect"]
    assert thought["text"] == "first the time"
    now = of_type(events, "tool_result")[1]["result"]
    assert now["timezone"] == "Asia/Tokyo" and now["iso"].endswith("+09:00")


async def test_denied_tools_are_not_offered_and_allowed_risky_ones_just_run(
    client: httpx.AsyncClient, fake_llm: FakeLLM, fresh_settings: None, channel: str
) -> None:
    response = await client.post(
        "/api/config/settings", json={"tool_permissions": {"echo": "deny", "risky": "allow"}}
    )
    assert response.status_code == 200
    _, events = await chat(client, f"[[{call('risky', {'text': 'go'})}]]", channel)
    (result,) = of_type(events, "tool_result")
    assert result["ok"] is True and result["result"] == "did:go"
    assert not of_type(events, "approval")
    offered = {t["function"]["name"] for t in requests_for(fake_llm, channel)[0]["tools"]}
    assert "echo" not in offered and "risky" in offered
    _, events = await chat(client, f"[[{call('echo', {'text': 'x'})}]]", channel)
    assert of_type(events, "tool_result")[0]["ok"] is False  # asked anyway: refused


async def test_plugins_are_listed_with_their_load_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/plugins")
    assert response.status_code == 200
    body = response.json()
    plugins = {p["name"]: p for p in body["plugins"]}
    assert plugins["core"]["loaded"] and plugins["testkit"]["loaded"]
    assert {"name": "risky", "description": "Does something the owner must approve.",
            "risk": "ask", "loaded": True} in plugins["testkit"]["tools"]  # fmt: skip
    assert "broken on purpose" in plugins["broken"]["error"] and not plugins["broken"]["loaded"]
    assert "bad plugin.json" in plugins["badmanifest"]["error"]
    # `total_loaded` counts loaded tools, as the old clients read it
    loaded_tools = [t for p in body["plugins"] for t in p["tools"] if p["loaded"]]
    assert body["total_loaded"] == len(loaded_tools) > len(plugins["testkit"]["tools"])
    for plugin in body["plugins"]:
        assert set(plugin) == {
            "name", "version", "description", "enabled", "disabled", "loaded", "error", "tools"
        }  # fmt: skip
        assert plugin["disabled"] is not plugin["enabled"]
        assert all(tool["loaded"] is plugin["loaded"] for tool in plugin["tools"])
