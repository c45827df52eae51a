"""The owner's run-time settings (API.md § Settings): one model, defaults included.

Stored in PostgreSQL (table `settings`, one row per key); what is not stored takes its default.
The API serves them as the `settings` of `/api/config`, and the class keeps its name there (it is
the OpenAPI schema's), but in code an instance is always `owner_settings`: a bare `settings` is a
process's environment settings (shared/service_settings.py).
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

ThinkingLevel = Literal["off", "minimal", "standard", "deep"]


class AppSettings(BaseModel):
    # strict: the owner sends JSON, and `true` is not a number of turns nor "yes" a boolean.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # piper speaks with its bundled voice; without a piper voice the tts service uses espeak.
    tts_engine: Literal["off", "espeak", "piper", "openai", "edge"] = "piper"
    tts_voice: str = ""
    audio_retention_hours: int = Field(default=72, ge=1, le=24 * 365)
    model_fallback: list[str] = Field(default_factory=list)
    task_routing: dict[Literal["coding", "review", "browsing", "default"], str] = Field(
        default_factory=dict
    )
    thinking_level: ThinkingLevel = "standard"
    thinking_overrides: dict[str, ThinkingLevel] = Field(default_factory=dict)
    channel_allowlist: list[str] = Field(default_factory=lambda: ["*"])
    check_model: str = ""
    max_history_turns: int = Field(default=30, ge=1, le=500)
    browser_headless: bool = True
    memory_auto: bool = True
    # Automatic memory reads several exchanges per model call: once the conversation has been
    # quiet this long (0: after every turn), after this many owner messages, and always before
    # the history window (max_history_turns) would drop one.
    memory_extract_idle_seconds: int = Field(default=120, ge=0, le=86_400)
    memory_extract_every_turns: int = Field(default=10, ge=1, le=100)
    # Passages of indexed documents go into each turn's prompt (as untrusted material).
    knowledge_recall: bool = False
    tool_permissions: dict[str, Literal["allow", "ask", "deny"]] = Field(default_factory=dict)
    max_tool_iterations: int = Field(default=25, ge=1, le=100)
    timezone: str = "UTC"  # IANA name; the owner's local time for tools and reminders

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from exc
        return value


def channel_allowed(channel: str, patterns: list[str]) -> bool:
    """`channel_allowlist` semantics: exact names, or a prefix followed by `*`."""
    return any(channel.startswith(p[:-1]) if p.endswith("*") else channel == p for p in patterns)
