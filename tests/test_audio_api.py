"""GET /api/audio/{filename}: only files AION made, with the right type, ranges for seeking."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.audio_checks import container_of
from tests.conftest import TTS_AUTH
from tests.stack import Stack


async def _make(stack: Stack, fmt: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=stack.tts_url, headers=TTS_AUTH, timeout=60.0) as speech:
        body = {"text": "Seek me, if you can.", "format": fmt, "engine": "espeak"}
        response = await speech.post("/synthesize", json=body)
        assert response.status_code == 200, response.text
        made: dict[str, object] = response.json()
        return made


@pytest.fixture(scope="module")
async def made(stack: Stack) -> dict[str, dict[str, object]]:
    """One file of each format, made by the real tts service (tests leave them in place)."""
    if stack.tts is None or not stack.tts.alive():
        stack.start_tts()
    return {fmt: await _make(stack, fmt) for fmt in ("mp3", "wav", "ogg")}


@pytest.mark.parametrize(
    ("fmt", "mime"), [("mp3", "audio/mpeg"), ("wav", "audio/wav"), ("ogg", "audio/ogg")]
)
async def test_serves_what_tts_made_with_its_mime_type(
    client: httpx.AsyncClient,
    made: dict[str, dict[str, object]],
    audio_dir: Path,
    fmt: str,
    mime: str,
) -> None:
    name = str(made[fmt]["file"])
    response = await client.get(f"/api/audio/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == mime
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == (audio_dir / name).read_bytes()
    assert container_of(response.content) == fmt
    assert int(response.headers["content-length"]) == made[fmt]["size"]
    head = await client.head(f"/api/audio/{name}")
    assert head.status_code == 200 and head.content == b""


async def test_range_requests_for_seeking(
    client: httpx.AsyncClient, made: dict[str, dict[str, object]], audio_dir: Path
) -> None:
    name = str(made["mp3"]["file"])
    data = (audio_dir / name).read_bytes()
    size = len(data)
    cases = {
        "bytes=0-99": (0, 99),
        f"bytes=100-{size + 500}": (100, size - 1),  # past the end: up to the end
        "bytes=-50": (size - 50, size - 1),  # the last 50 bytes
        f"bytes={size - 1}-": (size - 1, size - 1),
    }
    for header, (start, end) in cases.items():
        response = await client.get(f"/api/audio/{name}", headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert response.content == data[start : end + 1], header
    multi = await client.get(f"/api/audio/{name}", headers={"Range": "bytes=0-9,20-29"})
    assert multi.status_code == 206
    assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[0:10] in multi.content and data[20:30] in multi.content

    for bad in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=9-3", "items=0-1", "x"):
        response = await client.get(f"/api/audio/{name}", headers={"Range": bad})
        assert response.status_code == 416, bad
        assert response.headers["content-range"] == f"bytes */{size}"
        assert response.json()["error"] == "RangeNotSatisfiable"


async def test_unknown_and_unrecorded_names_are_404(
    client: httpx.AsyncClient, tts: Stack, audio_dir: Path
) -> None:
    # A file in the store with a valid name but no record was not made by AION.
    (audio_dir / "planted_file_0001.mp3").write_bytes(b"ID3 not ours")
    for name in ("planted_file_0001.mp3", "AAAAAAAAAAAAAAAAAAAAAA.mp3", "short.mp3"):
        response = await client.get(f"/api/audio/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"] == "NotFound"
    # A record whose file has gone (expired from disk first) is a 404 too, not a 500.
    name = str((await _make(tts, "wav"))["file"])
    assert (await client.get(f"/api/audio/{name}")).status_code == 200
    (audio_dir / name).unlink()
    assert (await client.get(f"/api/audio/{name}")).status_code == 404


async def test_traversal_never_reaches_the_file_system(
    client: httpx.AsyncClient, stack: Stack, audio_dir: Path
) -> None:
    secret = audio_dir.parent / "secret_outside_01.mp3"
    secret.write_bytes(b"ID3 secret")
    attempts = [
        "../secret_outside_01.mp3",
        "..%2Fsecret_outside_01.mp3",
        "..%252Fsecret_outside_01.mp3",
        "%2E%2E%2Fsecret_outside_01.mp3",
        "....%2F%2Fsecret_outside_01.mp3",
        f"{secret}",
        f"%2F{str(secret).lstrip('/').replace('/', '%2F')}",
        "secret_outside_01.mp3%00.mp3",
        "AAAAAAAAAAAA%00.mp3",
        "..%5Csecret_outside_01.mp3",
        "AAAAAAAAAAAA.mp3%2F..",
        "AAAAAAAAAAAA.exe",
    ]
    for attempt in attempts:
        response = await client.get(f"/api/audio/{attempt}")
        assert response.status_code == 404, (attempt, response.status_code)
        assert b"secret" not in response.content
        assert response.headers["content-type"].startswith("application/json")
    # the raw client (no path normalisation) as well
    async with httpx.AsyncClient(base_url=stack.api_url, headers=client.headers) as raw:
        for attempt in ("/api/audio/../secret_outside_01.mp3", "/api/audio/..%2f..%2fetc%2fpasswd"):
            request = raw.build_request("GET", stack.api_url)
            request.url = request.url.copy_with(raw_path=attempt.encode())
            response = await raw.send(request)
            assert response.status_code == 404, attempt
            assert b"secret" not in response.content and b"root:" not in response.content


async def test_needs_the_bearer_token(
    anonymous: httpx.AsyncClient, made: dict[str, dict[str, object]]
) -> None:
    response = await anonymous.get(f"/api/audio/{made['mp3']['file']}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
