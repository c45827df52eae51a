"""What the telegram service's api client refuses to send, before any request is made."""

from __future__ import annotations

import httpx
import pytest

from services.telegram.api_client import AionApi, ApiError


@pytest.fixture
async def api_and_requests() -> tuple[AionApi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"OggS")

    api = AionApi("http://api.internal:7000", "service-credential")
    await api.aclose()
    api._client = httpx.AsyncClient(  # the same client, over a transport that records
        base_url="http://api.internal:7000",
        headers={"Authorization": "Bearer service-credential"},
        transport=httpx.MockTransport(answer),
    )
    return api, seen


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/api/audio/abcdefgh.ogg",
        "//evil.example/api/audio/abcdefgh.ogg",
        "/api/audio/../keys",
        "/api/audio/abcdefgh.ogg?x=/api/keys",
        "/api/keys#/api/audio/abcdefgh.ogg",
    ],
)
async def test_audio_urls_other_than_the_apis_own_files_are_never_fetched(
    api_and_requests: tuple[AionApi, list[httpx.Request]], url: str
) -> None:
    api, seen = api_and_requests
    with pytest.raises(ApiError):
        await api.audio(url)
    assert seen == []


async def test_the_apis_own_audio_file_is_fetched_from_the_api(
    api_and_requests: tuple[AionApi, list[httpx.Request]],
) -> None:
    api, seen = api_and_requests
    assert await api.audio("/api/audio/abcdefgh.ogg") == b"OggS"
    assert [str(r.url) for r in seen] == ["http://api.internal:7000/api/audio/abcdefgh.ogg"]


@pytest.mark.parametrize("approval_id", ["../plugins/reload", "A" * 32, "0" * 31, ""])
async def test_an_approval_id_of_another_shape_is_never_sent(
    api_and_requests: tuple[AionApi, list[httpx.Request]], approval_id: str
) -> None:
    api, seen = api_and_requests
    with pytest.raises(ValueError):
        async for _ in api.decide(approval_id, True):
            pass
    assert seen == []
