"""Answers the api's embedding requests (shared/embed_rpc.py) with this worker's embedder."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
import pydantic
import redis.exceptions

from services.worker.context import WorkerContext
from services.worker.memory.embedding import EmbeddingError
from shared.embed_rpc import (
    REPLY_TTL_SECONDS,
    REQUESTS_KEY,
    EmbedRequest,
    encode_reply,
    reply_key,
)

log = logging.getLogger("aion.worker.embed")
_MAX_REQUESTS = 32  # requests answered with one model run
_WAIT_SECONDS = 2.0  # BRPOP timeout: how often the loop looks up while idle


async def serve(app: WorkerContext) -> None:
    """Run until cancelled; survives Redis restarts."""
    while True:
        try:
            item = await app.redis.brpop([REQUESTS_KEY], timeout=_WAIT_SECONDS)
            if item is None:
                continue
            raw = [item[1]]
            more = await app.redis.rpop(REQUESTS_KEY, _MAX_REQUESTS - 1)
            raw += more or []
            await _answer(app, raw)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("embedding requests unreachable (%s); retrying", exc)
            await asyncio.sleep(1.0)


async def _answer(app: WorkerContext, raw: list[bytes]) -> None:
    now_ms = int(time.time() * 1000)
    requests: list[EmbedRequest] = []
    for data in raw:
        try:
            request = EmbedRequest.model_validate(orjson.loads(data))
        except (orjson.JSONDecodeError, pydantic.ValidationError):
            log.warning("ignoring a malformed embedding request")
            continue
        if request.deadline_ms > now_ms:  # the asker still waits
            requests.append(request)
    if not requests:
        return
    texts = [text for request in requests for text in request.texts]
    model = app.embedder.model
    try:
        vectors = await app.embedder.embed(texts)
    except EmbeddingError as exc:
        log.error("embedding failed: %s", exc)
        replies = [(r, encode_reply(model, b"", "the embedding model failed")) for r in requests]
    else:
        replies, start = [], 0
        for request in requests:
            part = vectors[start : start + len(request.texts)]
            replies.append((request, encode_reply(model, part.astype("<f4").tobytes())))
            start += len(request.texts)
    async with app.redis.pipeline(transaction=False) as pipe:
        for request, body in replies:
            pipe.rpush(reply_key(request.id), body)
            pipe.expire(reply_key(request.id), REPLY_TTL_SECONDS)
        await pipe.execute()
