"""Spoken replies end to end: api → worker → tts service → audio store → GET /api/audio."""

from __future__ import annotations

import httpx

from tests.audio_checks import container_of
from tests.helpers import chat, history
from tests.stack import Stack


def _thoughts(events) -> list[str]:
    return [e.data["text"] for e in events if e.type == "thought"]


async def test_voice_reply_has_an_audio_block_that_the_api_serves(
    client: httpx.AsyncClient, tts: Stack, channel: str, db
) -> None:
    _, events = await chat(client, "say this out loud", channel, voice=True)
    done = events[-1]
    assert done.type == "done", events
    assert done.data["full_response"] == "You said: say this out loud"
    text, audio = done.data["response_blocks"]
    assert text == {"type": "text", "content": "You said: say this out loud"}
    assert audio["type"] == "audio" and audio["format"] == "mp3"
    assert audio["url"].startswith("/api/audio/") and audio["url"].endswith(".mp3")
    assert _thoughts(events) == []  # the default engine (piper) spoke, no fallback

    response = await client.get(audio["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert container_of(response.content) == "mp3"
    name = audio["url"].rsplit("/", 1)[1]
    row = await (
        await db.execute(
            "SELECT engine, channel, duration_seconds FROM audio_files WHERE file_name = %s",
            (name,),
        )
    ).fetchone()
    assert row[0] == "piper" and row[1] == channel and 0.5 < row[2] < 10


async def test_telegram_gets_an_ogg_opus_voice_note(
    client: httpx.AsyncClient, tts: Stack, channel: str, fresh_settings: None
) -> None:
    await client.post("/api/config/settings", json={"tts_engine": "espeak"})
    _, events = await chat(client, "a voice note please", f"telegram:{channel}", voice=True)
    audio = events[-1].data["response_blocks"][-1]
    assert audio["type"] == "audio", [e.data for e in events]
    assert audio["type"] == "audio" and audio["format"] == "ogg"
    response = await client.get(audio["url"])
    assert response.headers["content-type"] == "audio/ogg"
    assert container_of(response.content) == "ogg"


async def test_without_voice_nothing_is_spoken(
    client: httpx.AsyncClient, tts: Stack, channel: str, db
) -> None:
    (before,) = await (await db.execute("SELECT count(*) FROM audio_files")).fetchone()
    _, events = await chat(client, "quietly", channel)
    assert [b["type"] for b in events[-1].data["response_blocks"]] == ["text"]
    assert (await (await db.execute("SELECT count(*) FROM audio_files")).fetchone())[0] == before


async def test_tts_down_still_delivers_the_text_with_a_thought(
    client: httpx.AsyncClient, tts: Stack, channel: str
) -> None:
    assert tts.tts is not None
    tts.tts.stop()
    _, events = await chat(client, "are you there", channel, voice=True)
    done = events[-1]
    assert done.type == "done"
    assert done.data["full_response"] == "You said: are you there"
    assert done.data["response_blocks"] == [{"type": "text", "content": "You said: are you there"}]
    (thought,) = [e for e in events if e.type == "thought"]
    assert thought.data["trigger"] == "tts"
    assert "could not be spoken" in thought.data["text"] and "unreachable" in thought.data["text"]
    assert [m["content"] for m in await history(client, channel)] == [
        "are you there",
        "You said: are you there",
    ]
    # tts back (no worker restart): the next voice reply is spoken again
    tts.start_tts()
    _, events = await chat(client, "and now?", channel, voice=True)
    assert [b["type"] for b in events[-1].data["response_blocks"]] == ["text", "audio"]
    assert [m["content"] for m in await history(client, channel)][2:] == [
        "and now?",
        "You said: and now?",
    ]


async def test_speech_off_and_fallbacks_are_said_in_thoughts(
    client: httpx.AsyncClient, tts: Stack, channel: str, fresh_settings: None
) -> None:
    await client.post("/api/config/settings", json={"tts_engine": "off"})
    _, events = await chat(client, "shh", channel, voice=True)
    assert [b["type"] for b in events[-1].data["response_blocks"]] == ["text"]
    assert any("turned off" in t for t in _thoughts(events))

    await client.post("/api/config/settings", json={"tts_engine": "piper", "tts_voice": "xx-none"})
    _, events = await chat(client, "speak anyway", channel, voice=True)
    assert events[-1].data["response_blocks"][-1]["type"] == "audio"
    assert any("Spoken with espeak instead" in t and "xx-none" in t for t in _thoughts(events))


async def test_the_speak_tool_adds_audio_to_the_reply(
    client: httpx.AsyncClient, tts: Stack, channel: str, fresh_settings: None
) -> None:
    await client.post("/api/config/settings", json={"tts_engine": "espeak"})
    _, events = await chat(client, "[[call=speak:%7B%22text%22:%22Good%20morning%22%7D]]", channel)
    (result,) = [e.data for e in events if e.type == "tool_result"]
    assert result["ok"] is True and result["result"]["engine"] == "espeak", result
    audio = events[-1].data["response_blocks"][-1]
    assert audio["type"] == "audio" and audio["format"] == "mp3"
    response = await client.get(audio["url"])
    assert response.status_code == 200 and container_of(response.content) == "mp3"

    await client.post("/api/config/settings", json={"tts_engine": "off"})
    _, events = await chat(client, "[[call=speak:%7B%22text%22:%22hush%22%7D]]", channel)
    (result,) = [e.data for e in events if e.type == "tool_result"]
    assert result["ok"] is False and "turned off" in result["result"]
    assert [b["type"] for b in events[-1].data["response_blocks"]] == ["text"]
