"""Which model a call uses and how hard it thinks: the owner's settings, read in one place."""

from __future__ import annotations

from shared.app_settings import AppSettings, ThinkingLevel


def choose_model(
    turn_model: str | None, settings: AppSettings, active_model: str | None, default: str
) -> str:
    """The request's own model, else `task_routing["default"]`, else the model picked with
    POST /api/model, else AION_MODEL."""
    return turn_model or settings.task_routing.get("default") or active_model or default


def fallbacks_for(settings: AppSettings, model: str) -> tuple[str, ...]:
    """`model_fallback` in order, without the model itself."""
    return tuple(m for m in dict.fromkeys(settings.model_fallback) if m and m != model)


def _matches(channel: str, pattern: str) -> bool:
    # shared.app_settings.channel_allowed's rule: exact, or a prefix followed by `*`.
    return channel.startswith(pattern[:-1]) if pattern.endswith("*") else channel == pattern


def thinking_for(settings: AppSettings, channel: str) -> ThinkingLevel:
    """`thinking_overrides` for the channel (an exact name beats a pattern, a longer pattern a
    shorter one), else `thinking_level`."""
    overrides = settings.thinking_overrides
    if channel in overrides:
        return overrides[channel]
    matching = [p for p in overrides if p.endswith("*") and _matches(channel, p)]
    if matching:
        return overrides[max(matching, key=len)]
    return settings.thinking_level


def cheap_model(settings: AppSettings, fallback: str) -> str:
    """For background calls (memory extraction, checks): `check_model`, else `fallback`."""
    return settings.check_model.strip() or fallback
