"""`POST /v1/embeddings` of the fake: deterministic unit vectors, the OpenAI wire format.

The same text always gets the same vector (seeded by its hash), any two different texts nearly
orthogonal ones; `dimensions` is honoured as OpenAI's text-embedding-3 models do.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any


def vector(text: str, dimensions: int) -> list[float]:
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings_body(body: Any) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) for one embeddings request."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, {"error": {"message": "you must provide a model parameter"}}
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        return 400, {"error": {"message": "'input' must be a string or a list of strings"}}
    dimensions = body.get("dimensions", 1536)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= 3072:
        return 400, {"error": {"message": "'dimensions' must be an integer in 1..3072"}}
    data = [
        {"object": "embedding", "index": i, "embedding": vector(text, dimensions)}
        for i, text in enumerate(inputs)
    ]
    tokens = sum(len(text.split()) for text in inputs)
    return 200, {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
