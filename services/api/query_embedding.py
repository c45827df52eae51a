"""A search query's embedding, asked of a worker (the api loads no model of its own)."""

from __future__ import annotations

from pgvector import Vector

from services.api.context import AppContext
from services.api.errors import ServiceUnavailable
from shared.embed_rpc import EmbedUnavailable, request_embeddings


async def embed_query(ctx: AppContext, text: str, *, search: str) -> Vector:
    """`text`'s embedding; a 503 saying which `search` needs a worker when none answers."""
    try:
        embedded = await request_embeddings(
            ctx.redis, [text], ctx.settings.aion_embed_timeout_seconds
        )
    except EmbedUnavailable as exc:
        raise ServiceUnavailable(f"{search} needs a worker: {exc}.") from exc
    return Vector(embedded.vectors[0])
