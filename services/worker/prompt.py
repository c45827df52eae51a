"""Builds the messages a provider sees: system prompt, the channel's history, the new message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.db.conversations import Message

DEFAULT_SYSTEM_PROMPT = (
    "You are AION, the owner's personal AI assistant, running on their own server. "
    "Be helpful, direct and honest; say so when you are unsure. "
    "Answer in the language the owner writes in."
)


def system_prompt(channel: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{DEFAULT_SYSTEM_PROMPT}\n\nCurrent time: {now:%Y-%m-%d %H:%M} UTC. Channel: {channel}."


def user_content(message: str, images: list[str]) -> str | list[dict[str, Any]]:
    if not images:
        return message
    parts: list[dict[str, Any]] = [{"type": "text", "text": message}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return parts


def build_messages(
    channel: str, history: list[Message], message: str, images: list[str]
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt(channel)}]
    messages += [{"role": m.role, "content": m.content} for m in history]
    messages.append({"role": "user", "content": user_content(message, images)})
    return messages
