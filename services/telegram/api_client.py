"""The telegram service's view of AION: the public HTTP API, with the owner's token.

The service is a client like any other (API.md): it starts turns with `POST /api/chat`, decides
approvals, and follows turns it did not start with `GET /api/chat/{job}/events`. A stream that
breaks before its last event is picked up again from the last event id, so a restarting api
replica never costs the chat its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pydantic
from httpx_sse import SSEError, aconnect_sse

from shared.events import (
    APPROVAL_ID,
    TERMINAL_TYPES,
    ErrorCode,
    ErrorEvent,
    TurnEvent,
    decode,
)
from shared.telegram import BotConfig
from shared.tts import AUDIO_FILE_NAME, AUDIO_PATH_PREFIX

log = logging.getLogger("aion.telegram.api")

# How long a turn's stream is resumed for after it broke: long enough for the api to restart
# (a deploy, a pod moved), so the answer still reaches the chat.
RESUME_SECONDS = 90.0


class ApiError(Exception):
    """The api refused a request; `detail` is its message for a person."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no detail"
    return str(body.get("detail") or body.get("error") or body) if isinstance(body, dict) else ""


class AionApi:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Reads of a stream wait for the next event (pings come every 15 s).
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, read=60.0),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        body: dict[str, Any] = response.json()
        return body

    async def chat(
        self,
        message: str,
        channel: str,
        *,
        images: list[str] | None = None,
        files: list[str] | None = None,
        voice: bool = False,
    ) -> AsyncIterator[TurnEvent]:
        body: dict[str, Any] = {"message": message, "channel": channel, "voice": voice}
        if images:
            body["images"] = images
        if files:
            body["files"] = files
        async for event in self._stream("POST", "/api/chat", json=body):
            yield event

    async def upload_file(
        self, name: str, data: bytes, channel: str, wait_seconds: float
    ) -> dict[str, Any]:
        """Store a document the owner sent (POST /api/files) and wait while a worker reads it;
        ApiError says why it was refused (413, 415, 422)."""
        return await self._json(
            "POST",
            "/api/files",
            files={"file": (name, data, "application/octet-stream")},
            data={"channel": channel},
            timeout=httpx.Timeout(30.0, read=wait_seconds),
        )

    async def decide(self, approval_id: str, approve: bool) -> AsyncIterator[TurnEvent]:
        """The resumed turn's events when approved; nothing when denied."""
        if not APPROVAL_ID.fullmatch(approval_id):
            raise ValueError("not an approval id")
        async for event in self._stream(
            "POST", f"/api/approvals/{approval_id}", json={"approve": approve}
        ):
            yield event

    async def follow(self, turn_id: str) -> AsyncIterator[TurnEvent]:
        async for event in self._stream("GET", f"/api/chat/{turn_id}/events"):
            yield event

    async def reset(self, channel: str) -> None:
        await self._json("POST", "/api/reset", json={"channel": channel})

    async def set_model(self, model: str) -> dict[str, Any]:
        return await self._json("POST", "/api/model", json={"model": model})

    async def config(self) -> dict[str, Any]:
        return await self._json("GET", "/api/config")

    async def bot_config(self) -> BotConfig:
        return BotConfig.model_validate(await self._json("GET", "/api/telegram/bot"))

    async def status(self) -> dict[str, Any]:
        return await self._json("GET", "/api/status")

    async def audio(self, url: str) -> bytes:
        """An audio file AION made (`/api/audio/<file>` from a response block).

        Only the api's own audio path is followed, rebuilt from a checked file name: a block
        naming another host or path never makes this service send its credential there.
        """
        prefix, _, name = url.partition(AUDIO_PATH_PREFIX)
        if prefix or not AUDIO_FILE_NAME.fullmatch(name):
            raise ApiError(400, "not an audio file of this AION")
        response = await self._client.get(f"{AUDIO_PATH_PREFIX}{name}")
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.content

    async def _stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[TurnEvent]:
        """Events until the terminal one; a JSON answer (a denied approval) yields nothing."""
        turn_id: str | None = None
        last_id: str | None = None
        give_up_at = time.monotonic() + RESUME_SECONDS
        attempt = 0
        refused = False  # the last attempt could not even connect
        while True:
            try:
                async with aconnect_sse(self._client, method, path, **kwargs) as source:
                    response = source.response
                    if response.status_code >= 400:
                        await response.aread()
                        raise ApiError(response.status_code, _detail(response))
                    turn_id = response.headers.get("X-AION-Job", turn_id)
                    if not response.headers.get("content-type", "").startswith("text/event-stream"):
                        return  # `{"ok": true}`: nothing to follow
                    async for sse in source.aiter_sse():
                        if sse.id:
                            last_id = sse.id
                        if not sse.data:
                            continue
                        try:
                            event = decode(sse.data)
                        except pydantic.ValidationError:
                            log.warning("skipping an event this service does not know")
                            continue
                        yield event
                        if event.type in TERMINAL_TYPES:
                            return
            except (httpx.TransportError, SSEError) as exc:
                log.warning("turn stream broke (%s); resuming", type(exc).__name__)
                refused = isinstance(exc, httpx.ConnectError)
            if turn_id is None:
                # The request itself never got an answer: nothing to resume.
                said = (
                    "AION could not be reached, so the message was not taken; please send it again."
                    if refused
                    else "Lost the connection to AION before it answered."
                )
                yield ErrorEvent(message=said, code=ErrorCode.WORKER_LOST)
                return
            if time.monotonic() >= give_up_at:
                break
            await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
            attempt += 1
            method, path = "GET", f"/api/chat/{turn_id}/events"
            kwargs = {"headers": {"Last-Event-ID": last_id}} if last_id else {}
        yield ErrorEvent(message="Lost the connection to AION.", code=ErrorCode.WORKER_LOST)
