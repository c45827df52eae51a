"""Property tests (hypothesis) against the running api: any valid setting round-trips and any
invalid one is a 422 naming the field, changing nothing; a finished turn resumed with any of its
event ids as Last-Event-ID gives exactly the events after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import available_timezones

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.app_settings import AppSettings
from tests.conftest import API_TOKEN
from tests.helpers import announce_settings_changed
from tests.sse import SSEEvent, iter_events_sync
from tests.stack import Stack

LEVELS = ["off", "minimal", "standard", "deep"]
NOT_AN_INT = st.text() | st.booleans() | st.floats() | st.lists(st.integers(), max_size=2)
NOT_A_STRING = st.integers() | st.booleans() | st.lists(st.text(), max_size=2)
# (pydantic's lax mode would take the words it reads as booleans)
LAX_BOOLS = {"true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"}
NOT_A_BOOL = st.text().filter(lambda t: t.strip().lower() not in LAX_BOOLS) | st.lists(st.none())


def bounded(low: int, high: int) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    outside = st.integers(max_value=low - 1) | st.integers(min_value=high + 1)
    return st.integers(low, high), outside | NOT_AN_INT.filter(lambda v: not _int_like(v))


def _int_like(value: Any) -> bool:
    """What pydantic's lax mode takes as an int: "7", 7.0, True..."""
    if isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            int(value.strip())
        except ValueError:
            return False
        return True
    return False


ZONES = sorted(available_timezones())
# field: (valid values, invalid values)
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "max_history_turns": bounded(1, 500),
    "max_tool_iterations": bounded(1, 100),
    "audio_retention_hours": bounded(1, 24 * 365),
    "thinking_level": (st.sampled_from(LEVELS), st.text().filter(lambda t: t not in LEVELS)),
    "tts_engine": (
        st.sampled_from(["off", "espeak", "piper", "openai", "edge"]),
        st.text().filter(lambda t: t not in {"off", "espeak", "piper", "openai", "edge"}),
    ),
    "memory_auto": (st.booleans(), NOT_A_BOOL),
    "timezone": (st.sampled_from(ZONES), st.text().filter(lambda t: t not in ZONES)),
    "tool_permissions": (
        st.dictionaries(
            st.from_regex(r"[a-z_]{1,20}", fullmatch=True),
            st.sampled_from(["allow", "ask", "deny"]),
            max_size=3,
        ),
        st.dictionaries(
            st.text(min_size=1, max_size=10),
            st.text().filter(lambda t: t not in {"allow", "ask", "deny"}),
            min_size=1,
            max_size=3,
        ),
    ),
    # PostgreSQL cannot store NUL: a string holding one is refused, naming the setting
    "tts_voice": (
        st.text(st.characters(exclude_characters="\x00"), max_size=40),
        NOT_A_STRING | st.text().map(lambda t: t + "\x00"),
    ),
}
DEFAULTS = AppSettings().model_dump(mode="json")


@pytest.fixture(scope="module")
def http(stack: Stack, redis_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30.0) as client:
        yield client
        client.post("/api/config/settings", json=DEFAULTS)


def current(http: httpx.Client) -> dict[str, Any]:
    settings_now: dict[str, Any] = http.get("/api/config").json()["settings"]
    return settings_now


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_valid_setting_round_trips(http: httpx.Client, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(FIELDS)), label="field")
    value = data.draw(FIELDS[field][0], label="value")
    response = http.post("/api/config/settings", json={field: value})
    assert response.status_code == 200, response.text
    assert response.json()["settings"][field] == value
    assert current(http)[field] == value


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_invalid_setting_is_a_422_naming_it_and_changes_nothing(
    http: httpx.Client, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(sorted(FIELDS)), label="field")
    value = data.draw(FIELDS[field][1], label="value")
    before = current(http)
    # Python's JSON (the api's too) reads Infinity and NaN: send them as such, never crash here
    body_text = json.dumps({"memory_auto": False, field: value}, allow_nan=True)
    response = http.post(
        "/api/config/settings",
        content=body_text,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, (field, value, response.text)
    body = response.json()
    assert body["error"] == "ValidationError"
    assert field in body["detail"], body
    assert current(http) == before


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_non_finite_number_is_a_422_naming_the_setting(http: httpx.Client, literal: str) -> None:
    """JSON parsers read these; the answer must still be a clean 422 (and JSON itself)."""
    before = current(http)
    response = http.post(
        "/api/config/settings",
        content=f'{{"audio_retention_hours": {literal}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "audio_retention_hours" in response.json()["detail"]
    assert current(http) == before


def test_settings_are_back_to_their_defaults(http: httpx.Client, redis_url: str) -> None:
    """Leave the stack as the other modules expect it (and say so to every worker)."""
    import asyncio

    assert http.post("/api/config/settings", json=DEFAULTS).status_code == 200
    asyncio.run(announce_settings_changed(redis_url))
    assert current(http) == DEFAULTS


# -- Last-Event-ID -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_turn(http: httpx.Client, stack: Stack) -> tuple[str, list[SSEEvent]]:
    """One turn of many events, streamed to its end."""
    if not stack.live_workers():
        stack.start_worker()
    body = {"message": "[[tokens=60 gap=15]]", "channel": "properties-resume"}
    with http.stream("POST", "/api/chat", json=body) as response:
        job = response.headers["x-aion-job"]
        events = list(iter_events_sync(response))
    assert events[-1].type == "done"
    assert len(events) > 10 and all(e.id for e in events)
    return job, events


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_cut_point_resumes_with_nothing_lost_or_repeated(
    http: httpx.Client, finished_turn: tuple[str, list[SSEEvent]], data: st.DataObject
) -> None:
    job, events = finished_turn
    cut = data.draw(st.integers(0, len(events) - 1), label="cut")
    headers = {"Last-Event-ID": events[cut].id or ""}
    with http.stream("GET", f"/api/chat/{job}/events", headers=headers) as response:
        assert response.status_code == 200
        rest = list(iter_events_sync(response))
    assert [(e.id, e.data) for e in rest] == [(e.id, e.data) for e in events[cut + 1 :]]


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 10), min_size=1, max_size=6))
def test_a_client_that_keeps_reconnecting_gets_every_event_once(
    http: httpx.Client, finished_turn: tuple[str, list[SSEEvent]], reads: list[int]
) -> None:
    """Read a few events, drop the connection, resume from the last id, again and again."""
    job, events = finished_turn
    got: list[SSEEvent] = []
    for count in [*reads, len(events)]:
        headers = {"Last-Event-ID": got[-1].id or ""} if got else {}
        with http.stream("GET", f"/api/chat/{job}/events", headers=headers) as response:
            for event in iter_events_sync(response):
                if count == 0:
                    break
                got.append(event)
                count -= 1
        if got and got[-1].type == "done":
            break
    assert [e.id for e in got] == [e.id for e in events]
