"""Property tests (hypothesis) of the stream's two ends, no services needed: every turn event
survives its JSON round trip, and whatever the api's SSE encoder writes, our client parser reads
back identically however the bytes are cut into chunks and whichever line ends (CRLF, LF, CR)
a proxy on the way turns them into."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sse_starlette.event import ServerSentEvent

from services.api.turns import _as_sse
from shared import events as ev
from shared.turn_keys import StoredEvent
from tests.sse import EventBuffer

FINITE = st.floats(allow_nan=False, allow_infinity=False)
# JSON has no Infinity or NaN (an encoder writes null for them): only what JSON can hold.
JSON_SCALARS = st.none() | st.booleans() | st.integers() | FINITE | st.text()
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ARGS = st.dictionaries(st.text(), JSON, max_size=4)
BLOCKS = st.lists(
    st.builds(ev.TextBlock)
    | st.builds(ev.ImageBlock)
    | st.builds(ev.AudioBlock, format=st.sampled_from(["mp3", "wav", "ogg"])),
    max_size=3,
)
EVENTS: st.SearchStrategy[ev.Event] = st.one_of(
    st.builds(ev.TokenEvent),
    st.builds(ev.ThoughtEvent, trigger=st.none() | st.text()),
    st.builds(ev.ToolCallEvent, args=ARGS),
    st.builds(ev.ToolResultEvent, result=JSON),
    st.builds(ev.ProgressEvent, percent=FINITE),
    st.builds(ev.UsageEvent),
    st.builds(ev.ApprovalEvent, args=ARGS, reason=st.none() | st.text()),
    st.builds(
        ev.DoneEvent,
        response_blocks=BLOCKS,
        approval_id=st.none() | st.text(),
        cancelled=st.none() | st.booleans(),
    ),
    st.builds(ev.ErrorEvent),
)


@settings(deadline=None)
@given(EVENTS)
def test_every_event_survives_its_json_round_trip(event: ev.Event) -> None:
    data = ev.encode(event)
    assert ev.decode(data) == event
    assert ev.decode(data.encode()) == event
    # the old clients' names go out with the event but are not kept twice on the way back
    assert ev.encode(ev.decode(data)) == data


# -- SSE framing -------------------------------------------------------------------------------

STREAM_IDS = st.tuples(st.integers(0, 2**48), st.integers(0, 2**16)).map(lambda t: f"{t[0]}-{t[1]}")


@st.composite
def wire_items(draw: st.DrawFn) -> list[tuple[str, str, str] | None]:
    """Logged events (id, type, JSON) as the relay sends them, with keep-alive comments
    (None) between them, as sse-starlette's pings do."""
    items: list[tuple[str, str, str] | None] = []
    for event in draw(st.lists(EVENTS, max_size=8)):
        if draw(st.booleans()):
            items.append(None)
        event_type: str = getattr(event, "type")  # noqa: B009
        items.append((draw(STREAM_IDS), event_type, ev.encode(event)))
    return items


def encoded(items: list[tuple[str, str, str] | None]) -> str:
    """The bytes the api writes for these items (its own encoder, as the routes use it)."""
    out = []
    for item in items:
        if item is None:
            out.append(ServerSentEvent(comment="ping").encode())
        else:
            out.append(_as_sse(StoredEvent(*item)).encode())
    return b"".join(out).decode()


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(p % (len(text) + 1) for p in points)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@settings(deadline=None)
@given(
    wire_items(),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.lists(st.integers(min_value=0), max_size=40),
)
def test_what_the_api_encodes_parses_back_identically_under_any_chunking(
    items: list[tuple[str, str, str] | None], line_end: str, points: list[int]
) -> None:
    text = encoded(items).replace("\r\n", "\n").replace("\n", line_end)
    buffer = EventBuffer()
    parsed = [event for chunk in cut(text, points) for event in buffer.feed(chunk)]
    expected = [item for item in items if item is not None]
    got: list[tuple[str | None, str, Any]] = [(e.id, e.event, e.data) for e in parsed]
    assert got == [(i, t, ev.decode(d).model_dump(mode="json")) for i, t, d in expected]


@settings(deadline=None)
@given(wire_items(), st.lists(st.integers(min_value=0), max_size=40))
def test_the_api_writes_crlf_and_one_line_per_field(
    items: list[tuple[str, str, str] | None], points: list[int]
) -> None:
    """JSON payloads carry no raw line breaks, so each event is id/event/data lines and a
    blank line, as the SSE spec wants; chunking never matters."""
    text = encoded(items)
    logged = [item for item in items if item is not None]
    assert text.count("\r\n\r\n") == len(items)
    assert "\n" not in text.replace("\r\n", "")
    buffer = EventBuffer()
    parsed = [event for chunk in cut(text, points) for event in buffer.feed(chunk)]
    assert [e.raw.count("\n") for e in parsed] == [2] * len(logged)
