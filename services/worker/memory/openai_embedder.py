"""OpenAI embeddings (`text-embedding-3-small` shortened to 384 dimensions), the option to the
local model: any OpenAI-compatible `/v1/embeddings` endpoint that supports `dimensions`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai

from services.worker.memory.embedding import DIMENSIONS, EmbeddingError, Vectors, normalize

_MAX_INPUTS = 256  # texts per request, well inside the API's limit


class OpenAIEmbedder:
    def __init__(self, *, api_key: str, base_url: str | None, model: str, timeout: float) -> None:
        self.model = f"openai:{model}@{DIMENSIONS}"
        self._name = model
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=2
        )

    async def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[list[float]] = []
        for start in range(0, len(texts), _MAX_INPUTS):
            try:
                response = await self._client.embeddings.create(
                    model=self._name,
                    input=list(texts[start : start + _MAX_INPUTS]),
                    dimensions=DIMENSIONS,
                    encoding_format="float",
                )
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"the embedding request failed: {type(exc).__name__}") from exc
            rows += [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
        if vectors.shape != (len(texts), DIMENSIONS):
            raise EmbeddingError(f"the embedding endpoint gave vectors of shape {vectors.shape}")
        return normalize(vectors)

    async def aclose(self) -> None:
        await self._client.close()
