"""Synthetic memories for bench/memory_search.py: vectors that cluster by topic, Zipf text.

Vectors: unit vectors around 2,000 random topic centres (memories about one thing are close,
as real embeddings are; uniformly random 384-dimensional vectors have no neighbours worth the
name). Queries are other points near stored ones. Text: 8-20 words drawn (Zipf) from 20,000
made-up words, plus a name and a number, so keywords range from everywhere to unique.
"""

from __future__ import annotations

import numpy as np

DIM = 384
TOPICS = 2000
VOCABULARY = 20_000
_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vo", "ne", "ri", "dal", "po", "xe", "fin"]
QUESTIONS = [
    "what is my sister's name?",
    "which gym do I go to",
    "remind me of the wifi password at the cabin",
    "when is the dentist appointment",
    "what food am I allergic to",
]


def words(rng: np.random.Generator) -> list[str]:
    out = []
    for _ in range(VOCABULARY):
        n = int(rng.integers(2, 5))
        out.append("".join(rng.choice(_SYLLABLES, n)))
    return out


class Synthetic:
    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        centres = self.rng.standard_normal((TOPICS, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.vocab = words(self.rng)
        ranks = np.arange(1, VOCABULARY + 1)
        self.p = (1 / ranks) / (1 / ranks).sum()

    def vectors(self, n: int, spread: float = 0.9) -> np.ndarray:
        topics = self.rng.integers(0, TOPICS, n)
        noise = self.rng.standard_normal((n, DIM)).astype(np.float32) * (spread / np.sqrt(DIM))
        v = self.centres[topics] + noise
        unit: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
        return unit

    def texts(self, start: int, n: int) -> list[str]:
        lengths = self.rng.integers(8, 21, n)
        picks = self.rng.choice(VOCABULARY, int(lengths.sum()), p=self.p)
        out, at = [], 0
        for i, length in enumerate(lengths):
            body = " ".join(self.vocab[j] for j in picks[at : at + length])
            at += length
            out.append(f"{body} Name{start + i} {start + i}")
        return out

    def near(self, v: np.ndarray, spread: float = 0.5) -> np.ndarray:
        q = v + self.rng.standard_normal(v.shape).astype(np.float32) * (spread / np.sqrt(DIM))
        unit: np.ndarray = q / np.linalg.norm(q, axis=-1, keepdims=True)
        return unit

    def query_text(self) -> str:
        kind = self.rng.integers(0, 3)
        picked = [self.vocab[j] for j in self.rng.choice(VOCABULARY, 3, p=self.p)]
        if kind == 0:  # common and rare words
            return " ".join(picked)
        if kind == 1:  # a question in plain English (no stored word matches)
            return str(self.rng.choice(QUESTIONS))
        return f"where is {picked[0]} Name{int(self.rng.integers(0, 1000))}"
