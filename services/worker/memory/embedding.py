"""Sentence embeddings: the `Embedder` protocol, batching of concurrent requests, the factory.

Every vector is 384-dimensional and L2-normalised, so cosine distance compares any two. The
local model is the default (offline, no key); OpenAI's `text-embedding-3-small` shortened to
384 dimensions is the option. Vectors of different models live in different spaces: each
memory records the model of its vector, and the upkeep job embeds old ones again after a switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np
import numpy.typing as npt

from services.worker.settings import WorkerSettings

DIMENSIONS = 384
Vectors = npt.NDArray[np.float32]  # shape (n, DIMENSIONS), rows of unit length


class EmbeddingError(Exception):
    """The embedding model could not be loaded or run."""


class Embedder(Protocol):
    model: str  # names the vector space; stored with every memory

    async def embed(self, texts: Sequence[str]) -> Vectors: ...

    async def aclose(self) -> None: ...


def normalize(vectors: npt.NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


class BatchingEmbedder:
    """Runs a blocking `encode(texts)` on its own thread, never on the event loop.

    Calls that arrive while a batch is being encoded wait and go together as the next batch
    (up to `max_batch` texts), so a burst of requests costs few model runs and no call waits
    for an artificial batching window.
    """

    def __init__(
        self, model: str, encode: Callable[[list[str]], Vectors], max_batch: int = 64
    ) -> None:
        self.model = model
        self._encode = encode
        self._max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aion-embed")
        self._pending: list[tuple[list[str], asyncio.Future[Vectors]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        future: asyncio.Future[Vectors] = asyncio.get_running_loop().create_future()
        self._pending.append((list(texts), future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), name="aion-embed-batches")
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch: list[tuple[list[str], asyncio.Future[Vectors]]] = []
            size = 0
            while self._pending and (
                not batch or size + len(self._pending[0][0]) <= self._max_batch
            ):
                item = self._pending.pop(0)
                batch.append(item)
                size += len(item[0])
            texts = [text for item_texts, _ in batch for text in item_texts]
            try:
                vectors = await loop.run_in_executor(self._executor, self._encode, texts)
            except Exception as exc:
                error = exc if isinstance(exc, EmbeddingError) else EmbeddingError(str(exc))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for item_texts, future in batch:
                if not future.done():
                    future.set_result(vectors[start : start + len(item_texts)])
                start += len(item_texts)

    async def aclose(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def build_embedder(settings: WorkerSettings) -> Embedder:
    """The embedder the configuration asks for; loading the local model takes ~0.3 s."""
    if settings.aion_embedding_provider == "openai":
        from services.worker.memory.openai_embedder import OpenAIEmbedder

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        return OpenAIEmbedder(
            api_key=key or "not-set",
            base_url=settings.openai_base_url,
            model=settings.aion_embedding_model or "text-embedding-3-small",
            timeout=settings.aion_provider_timeout_seconds,
        )
    from services.worker.memory.local_embedder import LocalModel

    local = LocalModel.load(
        settings.aion_embedding_model_dir, threads=settings.aion_embedding_threads
    )
    return BatchingEmbedder(local.name, local.encode)
