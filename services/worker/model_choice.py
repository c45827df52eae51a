"""Which model a call uses and how hard it thinks: the owner's settings, read in one place."""

from __future__ import annotations

import re
from typing import Literal

from shared.app_settings import AppSettings, ThinkingLevel, channel_allowed

TaskKind = Literal["coding", "review", "browsing", "default"]

# What a message looks like it asks for; deliberately plain rules the owner can predict.
_REVIEW = re.compile(
    r"\b(review|pull request|merge request|code review)\b|^diff --git", re.I | re.M
)
_CODING = re.compile(
    r"```|\b(traceback|stack trace|exception|compile|refactor|function|regex|script|bug)\b"
    r"|\b(def|class|import|const|SELECT)\s",
    re.I,
)
_BROWSING = re.compile(r"https?://|\b(search the web|look up|google|browse|website)\b", re.I)


def task_kind(message: str) -> TaskKind:
    """The `task_routing` kind of a message: review before coding before browsing."""
    if _REVIEW.search(message):
        return "review"
    if _CODING.search(message):
        return "coding"
    if _BROWSING.search(message):
        return "browsing"
    return "default"


def choose_model(
    turn_model: str | None,
    owner_settings: AppSettings,
    active_model: str | None,
    default: str,
    message: str = "",
) -> str:
    """The request's own model, else `task_routing` for the message's kind (when the owner set
    one for it), else `task_routing["default"]`, else the model picked with POST /api/model,
    else AION_MODEL."""
    routing = owner_settings.task_routing
    return (
        turn_model
        or routing.get(task_kind(message))
        or routing.get("default")
        or active_model
        or default
    )


def fallbacks_for(owner_settings: AppSettings, model: str) -> tuple[str, ...]:
    """`model_fallback` in order, without the model itself."""
    return tuple(m for m in dict.fromkeys(owner_settings.model_fallback) if m and m != model)


def thinking_for(owner_settings: AppSettings, channel: str) -> ThinkingLevel:
    """`thinking_overrides` for the channel (an exact name beats a pattern, a longer pattern a
    shorter one), else `thinking_level`."""
    overrides = owner_settings.thinking_overrides
    if channel in overrides:
        return overrides[channel]
    matching = [p for p in overrides if p.endswith("*") and channel_allowed(channel, [p])]
    if matching:
        return overrides[max(matching, key=len)]
    return owner_settings.thinking_level


def cheap_model(owner_settings: AppSettings, fallback: str) -> str:
    """For background calls (memory extraction, checks): `check_model`, else `fallback`."""
    return owner_settings.check_model.strip() or fallback
