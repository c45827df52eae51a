"""GET /api/config, POST /api/config/settings: validated, all or nothing, seen by all workers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.app_settings import AppSettings
from tests.helpers import chat, history
from tests.stack import Stack

# Every setting: values it accepts (the first differs from its default), values it rejects.
# A setting added to AppSettings without a row here fails test_every_setting_has_a_row.
SETTING_CASES: dict[str, tuple[list[Any], list[Any]]] = {
    "tts_engine": (["espeak", "off", "piper", "openai", "edge"], ["loud", "", 3, ["edge"]]),
    "tts_voice": (["en-GB-RyanNeural", ""], [42, ["a"], {"voice": "a"}]),
    "model_fallback": ([["gpt-4o", "claude-sonnet-4"], []], ["gpt-4o", [1], {"a": "b"}]),
    "task_routing": (
        [{"coding": "gpt-4o", "review": "o3", "browsing": "m", "default": "n"}, {}],
        [{"cooking": "gpt-4o"}, {"coding": 5}, ["coding"], "coding"],
    ),
    "thinking_level": (["deep", "off", "minimal", "standard"], ["max", "", 2]),
    "thinking_overrides": (
        [{"telegram:*": "off", "web": "deep"}, {}],
        [{"telegram:*": "huge"}, {"web": None}, ["web"], "deep"],
    ),
    "channel_allowlist": ([["web", "telegram:*"], []], ["web", [1], {"web": True}]),
    "check_model": (["gpt-4o-mini", ""], [7, ["gpt-4o"]]),
    # JSON types are kept apart: no true for 1, no "7" for 7, no 1 or "yes" for true
    "max_history_turns": ([1, 500, 30], [0, 501, -1, "lots", "7", 2.5, 7.0, True]),
    "browser_headless": ([False, True], ["sometimes", "true", 1, 0, [True]]),
    "memory_auto": ([False, True], ["sometimes", "no", 0, {}]),
    "memory_extract_idle_seconds": ([0, 86_400, 120], [-1, 86_401, "soon", 2.5, None]),
    "memory_extract_every_turns": ([1, 100, 10], [0, 101, "often", 1.5, None]),
    "knowledge_recall": ([True, False], ["always", "yes", 1, []]),
    "tool_permissions": (
        [{"shell": "ask", "web_search": "allow", "send_email": "deny"}, {}],
        [{"shell": "maybe"}, {"shell": True}, ["shell"], "allow"],
    ),
    "max_tool_iterations": ([1, 100, 25], [0, 101, "many", "3", 1.5, False]),
    "timezone": (["Europe/Berlin", "UTC"], ["Mars/Olympus", "", "../etc/passwd", 1, ["UTC"]]),
    "audio_retention_hours": ([1, 8760, 72], [0, 8761, "72", 1.5, True]),
}


async def test_config_has_every_setting_stats_and_no_secrets(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    response = await client.get("/api/config")
    assert response.status_code == 200
    body = response.json()
    old_names = {"config", *body["stats"]}  # kept for the old clients, equal to ours
    assert set(body) == {"model", "settings", "stats", *old_names}
    assert body["config"] == body["settings"]
    assert {name: body[name] for name in body["stats"]} == body["stats"]
    assert body["settings"] == AppSettings().model_dump(mode="json")
    assert set(body["stats"]) == {
        "memory_entries",
        "conversations",
        "messages",
        "exchange_count",
        "turns_last_24h",
    }
    assert all(isinstance(v, int) for v in body["stats"].values())
    assert body["model"] == "fake-model"
    assert stack.env["AION_API_TOKEN"] not in response.text and "sk-test" not in response.text


async def test_update_is_validated_and_all_or_nothing(
    client: httpx.AsyncClient, fresh_settings: None
) -> None:
    response = await client.post(
        "/api/config/settings", json={"max_history_turns": 7, "tts_engine": "espeak"}
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["settings"]["max_history_turns"] == 7
    assert (await client.get("/api/config")).json()["settings"]["tts_engine"] == "espeak"

    bad = [
        ({"max_history_turnz": 3}, "max_history_turnz"),
        ({"max_history_turns": "lots"}, "max_history_turns"),
        ({"max_history_turns": 0}, "max_history_turns"),
        ({"max_history_turns": 501}, "max_history_turns"),
        ({"tts_engine": "loud"}, "tts_engine"),
        ({"tool_permissions": {"shell": "maybe"}}, "tool_permissions"),
        ({"thinking_overrides": {"telegram:*": "huge"}}, "thinking_overrides"),
        ({"max_history_turns": 3, "memory_auto": "sometimes"}, "memory_auto"),
    ]
    for patch, field in bad:
        response = await client.post("/api/config/settings", json=patch)
        assert response.status_code == 422, patch
        assert response.json()["error"] == "ValidationError"
        assert field in response.json()["detail"], response.json()
    response = await client.post("/api/config/settings", json=[1, 2])
    assert response.status_code == 422
    # nothing of the rejected patches was applied
    assert (await client.get("/api/config")).json()["settings"]["max_history_turns"] == 7


async def test_settings_reach_every_worker_without_restart(
    client: httpx.AsyncClient, stack: Stack, fresh_settings: None, channel: str
) -> None:
    if len(stack.live_workers()) < 2:
        stack.start_worker()
    channels = [f"{channel}-{n}" for n in range(6)]
    for ch in channels:  # both workers serve some of these and cache the defaults
        await chat(client, "first fact", ch)
        await chat(client, "second fact", ch)
    response = await client.post("/api/config/settings", json={"max_history_turns": 1})
    assert response.status_code == 200
    for ch in channels:  # turns land on both workers (all on one: 1 in 32)
        _, events = await chat(client, "recall [[echo_history]]", ch)
        echoed = events[-1].data["full_response"]
        assert "user:second fact" in echoed and "first fact" not in echoed, echoed


async def test_channel_allowlist_is_enforced(
    client: httpx.AsyncClient, fresh_settings: None, channel: str
) -> None:
    response = await client.post(
        "/api/config/settings", json={"channel_allowlist": ["web", f"{channel}-ok*"]}
    )
    assert response.status_code == 200
    _, events = await chat(client, "let me in", f"{channel}-nope")
    assert events[-1].type == "error" and events[-1].data["code"] == "not_allowed"
    assert await history(client, f"{channel}-nope") == []
    _, events = await chat(client, "hello", f"{channel}-ok-1")
    assert events[-1].data["full_response"] == "You said: hello"


def test_every_setting_has_a_row() -> None:
    assert set(SETTING_CASES) == set(AppSettings.model_fields)


@pytest.mark.parametrize("field", sorted(SETTING_CASES))
async def test_every_setting_is_validated(
    client: httpx.AsyncClient, fresh_settings: None, field: str
) -> None:
    valid, invalid = SETTING_CASES[field]
    assert valid[0] != AppSettings.model_fields[field].get_default(call_default_factory=True)
    for value in valid:
        response = await client.post("/api/config/settings", json={field: value})
        assert response.status_code == 200, (value, response.text)
        assert response.json()["settings"][field] == value
        assert (await client.get("/api/config")).json()["settings"][field] == value
    stored = valid[-1]
    for value in [*invalid, None]:
        response = await client.post("/api/config/settings", json={field: value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["error"] == "ValidationError"
        assert response.json()["detail"].startswith(field), (value, response.json())
        # a rejected value changes nothing, alone or next to a valid change of another setting
        other = {"max_history_turns": 7} if field != "max_history_turns" else {"memory_auto": False}
        response = await client.post("/api/config/settings", json={**other, field: value})
        assert response.status_code == 422 and field in response.json()["detail"]
        owner_settings = (await client.get("/api/config")).json()["settings"]
        assert owner_settings[field] == stored
        assert all(owner_settings[k] == AppSettings().model_dump(mode="json")[k] for k in other)


async def test_the_schema_describes_every_setting_and_what_it_accepts(
    client: httpx.AsyncClient, fresh_settings: None
) -> None:
    response = await client.get("/api/config/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(AppSettings.model_fields)
    turns = schema["properties"]["max_history_turns"]
    assert (turns["type"], turns["minimum"], turns["maximum"]) == ("integer", 1, 500)
    assert schema["properties"]["tts_engine"]["enum"] == [
        "off",
        "espeak",
        "piper",
        "openai",
        "edge",
    ]
    assert schema["properties"]["memory_auto"] == {
        "default": True,
        "title": "Memory Auto",
        "type": "boolean",
    }
    # What the schema says is out of bounds, saving refuses, naming the field.
    too_many = turns["maximum"] + 1
    refused = await client.post("/api/config/settings", json={"max_history_turns": too_many})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("max_history_turns")
