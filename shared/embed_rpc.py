"""Embedding on request over Redis: the api asks, any worker answers.

The api never runs the model (it would block its event loop and cost every replica a copy of
it). A request is pushed onto one list that idle workers wait on with BRPOP; the worker that
takes it pushes the vectors onto the request's own reply key, which the api waits on with BLPOP.
Both waits wake the moment the other side pushes: no polling interval is added to the ~10 ms
the model needs (arq's job results would add up to its 0.5 s poll).

Reply: one JSON header line (`{"model", "error"}`), then the vectors as little-endian float32.
"""

from __future__ import annotations

import time
import uuid
from array import array
from dataclasses import dataclass

import orjson
from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

REQUESTS_KEY = "aion:embed:requests"
REPLY_PREFIX = "aion:embed:reply:"
REPLY_TTL_SECONDS = 30


def reply_key(request_id: str) -> str:
    return f"{REPLY_PREFIX}{request_id}"


class EmbedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    texts: list[str]
    deadline_ms: int  # the asker has given up after this; a worker then skips it


class EmbedUnavailable(Exception):
    """No worker answered in time, or the one that did could not embed."""


@dataclass(frozen=True, slots=True)
class Embedded:
    model: str
    vectors: list[list[float]]


def encode_reply(model: str, vectors: bytes, error: str | None = None) -> bytes:
    return orjson.dumps({"model": model, "error": error}) + b"\n" + vectors


def decode_reply(data: bytes, count: int) -> Embedded:
    header, _, body = data.partition(b"\n")
    meta = orjson.loads(header)
    if meta.get("error"):
        raise EmbedUnavailable(str(meta["error"]))
    floats = array("f")
    floats.frombytes(body)
    if count == 0 or len(floats) % count:
        raise EmbedUnavailable("the embedding reply does not match the request")
    width = len(floats) // count
    values = floats.tolist()
    return Embedded(str(meta["model"]), [values[i * width : (i + 1) * width] for i in range(count)])


async def request_embeddings(redis: Redis, texts: list[str], wait_seconds: float) -> Embedded:
    """Have a worker embed `texts`; EmbedUnavailable after `wait_seconds` without a reply."""
    request = EmbedRequest(
        id=uuid.uuid4().hex, texts=texts, deadline_ms=int((time.time() + wait_seconds) * 1000)
    )
    payload = orjson.dumps(request.model_dump())
    key = reply_key(request.id)
    await redis.lpush(REQUESTS_KEY, payload)
    reply = await redis.blpop([key], timeout=wait_seconds)
    if reply is None:
        await redis.lrem(REQUESTS_KEY, 1, payload)  # nobody took it: do not leave it behind
        raise EmbedUnavailable("no worker answered the embedding request in time")
    return decode_reply(reply[1], len(texts))
