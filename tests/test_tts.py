"""The tts service as a real process: real espeak-ng, piper and ffmpeg; OpenAI is the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.audio_checks import container_of, probe
from tests.conftest import TTS_AUTH
from tests.fakellm.speech import SECONDS_PER_CHAR
from tests.stack import Stack

SENTENCE = "Hello, this is AION speaking. The weather today is fine."


@pytest.fixture
async def speech(tts: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=tts.tts_url, headers=TTS_AUTH, timeout=120.0) as http:
        yield http


async def _synthesize(speech: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await speech.post("/synthesize", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.parametrize(
    ("fmt", "codec", "rate"),
    [("wav", "pcm_s16le", 24000), ("ogg", "opus", 48000), ("mp3", "mp3", 24000)],
)
async def test_espeak_makes_valid_audio_of_plausible_length(
    speech: httpx.AsyncClient, audio_dir: Path, db, fmt: str, codec: str, rate: int
) -> None:
    result = await _synthesize(speech, text=SENTENCE, format=fmt, engine="espeak", channel="t")
    assert result["engine"] == "espeak" and result["format"] == fmt
    assert result["fallback"] is None
    name = str(result["file"])
    assert name.endswith(f".{fmt}") and "/" not in name
    path = audio_dir / name
    data = path.read_bytes()
    assert container_of(data) == fmt
    assert result["size"] == len(data)
    info = probe(path)
    assert info["codec"] == codec and info["sample_rate"] == rate and info["channels"] == 1
    duration = float(result["duration"])  # type: ignore[arg-type]
    assert 2.0 < duration < 8.0, duration  # ten words of speech
    assert abs(float(info["duration"]) - duration) < 0.15
    row = await (
        await db.execute(
            "SELECT format, size_bytes, duration_seconds, engine, channel FROM audio_files"
            " WHERE file_name = %s",
            (name,),
        )
    ).fetchone()
    assert row == (fmt, len(data), duration, "espeak", "t")


async def test_piper_speaks_with_its_bundled_voice(
    speech: httpx.AsyncClient, audio_dir: Path
) -> None:
    result = await _synthesize(speech, text=SENTENCE, format="wav", engine="piper")
    assert result["engine"] == "piper" and result["voice"] == "en_US-joe-medium"
    assert result["fallback"] is None
    path = audio_dir / str(result["file"])
    assert container_of(path.read_bytes()) == "wav"
    assert 2.0 < float(probe(path)["duration"]) < 8.0


async def test_openai_engine_uses_openai_base_url(
    speech: httpx.AsyncClient, audio_dir: Path
) -> None:
    text = "Spoken by the fake OpenAI speech endpoint."
    result = await _synthesize(speech, text=text, format="mp3", engine="openai", voice="nova")
    assert result["engine"] == "openai" and result["voice"] == "nova"
    path = audio_dir / str(result["file"])
    assert container_of(path.read_bytes()) == "mp3"
    # the fake's tone lasts SECONDS_PER_CHAR per character
    assert abs(float(result["duration"]) - len(text) * SECONDS_PER_CHAR) < 0.05  # type: ignore[arg-type]


async def test_an_engine_that_cannot_speak_falls_back_to_espeak(
    speech: httpx.AsyncClient,
) -> None:
    result = await _synthesize(
        speech, text="Still heard.", format="ogg", engine="openai", voice="x1"
    )
    assert result["engine"] == "espeak"
    assert "openai" in str(result["fallback"]) and "voice" in str(result["fallback"])
    result = await _synthesize(
        speech, text="Still heard.", format="ogg", engine="piper", voice="nope"
    )
    assert result["engine"] == "espeak" and "piper has no voice 'nope'" in str(result["fallback"])


async def test_long_text_is_spoken_in_pieces_and_joined(
    speech: httpx.AsyncClient, audio_dir: Path
) -> None:
    short = await _synthesize(speech, text=SENTENCE, format="wav", engine="espeak")
    long = await _synthesize(speech, text=" ".join([SENTENCE] * 30), format="wav", engine="espeak")
    ratio = float(long["duration"]) / float(short["duration"])  # type: ignore[arg-type]
    assert 25 < ratio < 35, ratio  # every piece is there, once
    assert abs(probe(audio_dir / str(long["file"]))["duration"] - long["duration"]) < 0.15  # type: ignore[operator]


async def test_the_owner_settings_choose_engine_and_voice(
    speech: httpx.AsyncClient, client: httpx.AsyncClient, fresh_settings: None
) -> None:
    await client.post("/api/config/settings", json={"tts_engine": "espeak", "tts_voice": "de"})
    result = await _synthesize(speech, text="Guten Tag.", format="wav")
    assert (result["engine"], result["voice"]) == ("espeak", "de")
    await client.post("/api/config/settings", json={"tts_engine": "off"})
    response = await speech.post("/synthesize", json={"text": "Hi.", "format": "wav"})
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict" and "off" in response.json()["detail"]


async def test_bad_requests_are_refused_and_leave_nothing_behind(
    speech: httpx.AsyncClient, audio_dir: Path, db
) -> None:
    before_files = sorted(p.name for p in audio_dir.iterdir())
    (before_rows,) = await (await db.execute("SELECT count(*) FROM audio_files")).fetchone()
    bad = [
        ({"text": "", "format": "wav"}, "text"),
        ({"text": "hi", "format": "flac"}, "format"),
        ({"text": "hi"}, "format"),
        ({"text": "hi", "format": "wav", "engine": "loud"}, "engine"),
        ({"text": "hi", "format": "wav", "voice": "../../etc"}, "voice"),
        ({"text": "hi", "format": "wav", "voice": "-x"}, "voice"),
        ({"text": "x" * 20001, "format": "wav"}, "text"),
        ({"text": "** __ **", "format": "wav", "engine": "espeak"}, "text"),
        ({"text": "hi", "format": "wav", "engine": "espeak", "voice": "xx-nope"}, "voice"),
        ({"text": "hi", "format": "wav", "sneaky": 1}, "sneaky"),
    ]
    for body, field in bad:
        response = await speech.post("/synthesize", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "ValidationError"
        assert field in response.json()["detail"], (body, response.json())
    response = await speech.post(
        "/synthesize", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert sorted(p.name for p in audio_dir.iterdir()) == before_files
    assert (await (await db.execute("SELECT count(*) FROM audio_files")).fetchone())[
        0
    ] == before_rows


async def test_a_failed_record_leaves_no_file_behind(
    speech: httpx.AsyncClient, audio_dir: Path, db
) -> None:
    """PostgreSQL refuses the record (a trigger, for this channel only): the file goes too."""
    await db.execute("""
        CREATE FUNCTION refuse_audio() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
        CREATE TRIGGER refuse_audio BEFORE INSERT ON audio_files
        FOR EACH ROW WHEN (NEW.channel = 'refused') EXECUTE FUNCTION refuse_audio();
    """)
    try:
        before = sorted(p.name for p in audio_dir.iterdir())
        body = {"text": "Lost.", "format": "mp3", "engine": "espeak", "channel": "refused"}
        response = await speech.post("/synthesize", json=body)
        assert response.status_code == 500
        assert response.json() == {
            "error": "InternalError",
            "detail": "Something went wrong in the tts service.",
        }
        assert sorted(p.name for p in audio_dir.iterdir()) == before
    finally:
        await db.execute("DROP TRIGGER refuse_audio ON audio_files; DROP FUNCTION refuse_audio();")


async def test_only_the_workers_credential_opens_the_service(tts: Stack, audio_dir: Path) -> None:
    """Anything on the internal network that is not a worker cannot make it speak or look."""
    before = set(audio_dir.iterdir())
    body = {"text": "let me in", "format": "wav", "engine": "espeak"}
    async with httpx.AsyncClient(base_url=tts.tts_url, timeout=30.0) as http:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": TTS_AUTH["Authorization"][7:]},
        ):
            for method, path in (("POST", "/synthesize"), ("GET", "/engines")):
                response = await http.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (headers, path, response.text)
                assert response.json()["error"] == "Unauthorized"
        assert (await http.get("/healthz")).status_code == 200  # probes stay open
        engines = await http.get("/engines", headers=TTS_AUTH)
        assert engines.status_code == 200
    assert set(audio_dir.iterdir()) == before
