"""Builds the messages a provider sees; the system prompt is assembled here and only here.

System prompt = rules + character + self (the owner's saved prompts or AION's defaults, see
shared/prompts.py), then the context block: current time (UTC) and the channel of the turn.
Later parts (recalled memories, tool descriptions) are appended in the same way, each under its
own heading, so the model can tell the owner's instructions from material it was given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.db.conversations import Message
from shared.prompts import PROMPT_NAMES


def system_prompt(prompts: dict[str, str], channel: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    parts = [prompts[name].strip() for name in PROMPT_NAMES if prompts.get(name, "").strip()]
    parts.append(f"## Context\nCurrent time: {now:%Y-%m-%d %H:%M} UTC. Channel: {channel}.")
    return "\n\n".join(parts)


def user_content(message: str, images: list[str]) -> str | list[dict[str, Any]]:
    if not images:
        return message
    parts: list[dict[str, Any]] = [{"type": "text", "text": message}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return parts


def build_messages(
    prompts: dict[str, str], channel: str, history: list[Message], message: str, images: list[str]
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system_prompt(prompts, channel)}
    ]
    messages += [{"role": m.role, "content": m.content} for m in history]
    messages.append({"role": "user", "content": user_content(message, images)})
    return messages
