"""A BERT encoder's forward pass in numpy, from a safetensors checkpoint (inference only, float32).

all-MiniLM-L6-v2 is a 6-layer BERT. Its reference weights ship as `model.safetensors` with
Hugging Face's `BertModel` names and a `config.json`; reading them directly needs neither torch
nor an ONNX export, so the numbers are the reference model's own (no quantisation). The math is
the standard post-LayerNorm encoder: embeddings → LayerNorm → per layer self-attention and a GELU
feed-forward, each added to its input and normalised.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]

_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
}


def read_safetensors(data: bytes) -> dict[str, npt.NDArray[Any]]:
    """Tensor name → array; the format is an 8-byte header length, a JSON header, raw data."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in _DTYPES:
            raise ValueError(f"tensor {name} has the unsupported dtype {entry['dtype']}")
        dtype = _DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // dtype.itemsize
        flat = np.frombuffer(data, dtype=dtype, count=count, offset=start + begin)
        tensors[name.removeprefix("bert.")] = flat.reshape(entry["shape"])
    return tensors


@dataclass(frozen=True)
class BertConfig:
    hidden: int
    heads: int
    layers: int
    eps: float
    max_positions: int

    @classmethod
    def from_json(cls, config: dict[str, Any]) -> BertConfig:
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {config['hidden_act']}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        return cls(
            hidden=int(config["hidden_size"]),
            heads=int(config["num_attention_heads"]),
            layers=int(config["num_hidden_layers"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
            max_positions=int(config.get("max_position_embeddings", 512)),
        )


def _erf(x: Array) -> Array:
    """Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, below float32's resolution here):
    numpy has no erf, and BERT's GELU is the exact, erf-based one."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = (((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    poly = (poly + 0.254829592) * t
    result: Array = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def _gelu(x: Array) -> Array:
    result: Array = 0.5 * x * (1.0 + _erf(x * np.float32(1 / np.sqrt(2))))
    return result


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    result: Array = centered / np.sqrt(variance + np.float32(eps)) * weight + bias
    return result


@dataclass(frozen=True)
class _Layer:
    qkv: Array  # (hidden, 3 * hidden): query, key and value projections in one product
    qkv_bias: Array
    out: Array
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array
    up_bias: Array
    down: Array
    down_bias: Array
    norm2: tuple[Array, Array]


class Bert:
    """`Bert(config, tensors)(ids, mask)` → the last hidden state, shape (batch, tokens, hidden)."""

    def __init__(self, config: BertConfig, tensors: dict[str, npt.NDArray[Any]]) -> None:
        def get(name: str) -> Array:
            if name not in tensors:
                raise ValueError(f"the checkpoint has no tensor {name}")
            return np.ascontiguousarray(tensors[name], dtype=np.float32)

        def linear(prefix: str) -> tuple[Array, Array]:  # stored (out, in); used as x @ (in, out)
            return np.ascontiguousarray(get(f"{prefix}.weight").T), get(f"{prefix}.bias")

        def norm(prefix: str) -> tuple[Array, Array]:
            return get(f"{prefix}.weight"), get(f"{prefix}.bias")

        self.config = config
        self.words = get("embeddings.word_embeddings.weight")
        self.positions = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        layers = []
        for i in range(config.layers):
            p = f"encoder.layer.{i}"
            projections = [linear(f"{p}.attention.self.{n}") for n in ("query", "key", "value")]
            layers.append(
                _Layer(
                    np.ascontiguousarray(np.concatenate([w for w, _ in projections], axis=1)),
                    np.concatenate([b for _, b in projections]),
                    *linear(f"{p}.attention.output.dense"),
                    norm(f"{p}.attention.output.LayerNorm"),
                    *linear(f"{p}.intermediate.dense"),
                    *linear(f"{p}.output.dense"),
                    norm(f"{p}.output.LayerNorm"),
                )
            )
        self.layers = tuple(layers)
        if self.words.shape[1] != config.hidden:
            raise ValueError("the embeddings do not match the configured hidden size")

    def __call__(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Array:
        batch, tokens = ids.shape
        if tokens > self.config.max_positions:
            raise ValueError(f"{tokens} tokens; the model takes {self.config.max_positions}")
        eps = self.config.eps
        x = self.words[ids] + self.positions[:tokens] + self.token_type
        x = _layer_norm(x, *self.embedding_norm, eps)
        # Padding keys get a large negative score, so softmax gives them no weight.
        key_bias = ((1 - mask) * np.float32(-1e9)).astype(np.float32)[:, None, None, :]
        heads, width = self.config.heads, self.config.hidden // self.config.heads
        scale = np.float32(1 / np.sqrt(width))
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, tokens, 3, heads, width)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, -1)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.norm1, eps)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(hidden @ layer.down + layer.down_bias + x, *layer.norm2, eps)
        result: Array = x.astype(np.float32, copy=False)
        return result
