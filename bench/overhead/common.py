"""Names every part of the benchmark agrees on, kept apart so no module imports a sibling
just for a constant."""

from __future__ import annotations

import sys

MODEL = "fake-model"
HOST = "127.0.0.1"
DIRECT, AION = "direct", "aion"


def log(message: str) -> None:
    """Progress to stderr, so stdout carries only the tables and the JSON line."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
