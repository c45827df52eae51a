"""Bot tokens of the shape BotFather issues, different for each number."""

from __future__ import annotations

import hashlib


def bot_token(n: int) -> str:
    secret = hashlib.sha256(f"aion-test-bot-{n}".encode()).hexdigest()[:35]
    return f"{7_000_000_000 + n}:AA{secret[2:]}"
