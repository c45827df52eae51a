"""Which provider a model name belongs to: one table for the worker's router and the api.

A model name picks its provider by prefix (API.md): `claude-cli/<model>` the Claude CLI,
`claude*` Anthropic, `gemini*` Gemini, `deepseek*` DeepSeek, `grok*` xAI, `ollama/<model>` Ollama,
`openrouter/<vendor>/<model>` OpenRouter; anything else goes to OpenAI or whatever
OpenAI-compatible server `OPENAI_BASE_URL` names. Routing prefixes ending in `/` are stripped
before the name is sent upstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Wire = Literal["openai", "anthropic", "claude-cli"]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    id: str
    label: str
    prefix: str  # "" for the default provider
    wire: Wire
    env_keys: tuple[str, ...]  # secrets it can use, in order of preference
    base_url_setting: str | None  # the environment variable naming its endpoint
    default_base_url: str | None
    models: tuple[str, ...]  # shown when the live list cannot be had
    needs_key: bool = True
    live_models: bool = False  # GET {base}/models (OpenAI-compatible) or /api/tags (Ollama)

    @property
    def strips_prefix(self) -> bool:
        return self.prefix.endswith("/")


GOOGLE_REFRESH_TOKEN = "GOOGLE_OAUTH_REFRESH_TOKEN"  # noqa: S105 (a name) vault name of the Google login
CLAUDE_CLI_TOKEN = "CLAUDE_CODE_OAUTH_TOKEN"  # noqa: S105 (a name) `claude setup-token` prints it

OPENAI = ProviderInfo(
    "openai",
    "OpenAI (or any OpenAI-compatible endpoint)",
    "",
    "openai",
    ("OPENAI_API_KEY",),
    "OPENAI_BASE_URL",
    None,
    ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o3", "o3-mini", "o4-mini", "gpt-5"),
    live_models=True,
)
PROVIDERS: tuple[ProviderInfo, ...] = (
    ProviderInfo(
        "claude-cli",
        "Claude CLI (subscription login)",
        "claude-cli/",
        "claude-cli",
        (CLAUDE_CLI_TOKEN,),
        None,
        None,
        ("claude-cli/sonnet", "claude-cli/opus", "claude-cli/haiku"),
        needs_key=False,
    ),
    ProviderInfo(
        "anthropic",
        "Anthropic",
        "claude",
        "anthropic",
        ("ANTHROPIC_API_KEY",),
        "ANTHROPIC_BASE_URL",
        None,
        ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-3-5-haiku-latest"),
    ),
    ProviderInfo(
        "gemini",
        "Google Gemini",
        "gemini",
        "openai",
        ("GEMINI_API_KEY",),
        "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"),
    ),
    ProviderInfo(
        "deepseek",
        "DeepSeek",
        "deepseek",
        "openai",
        ("DEEPSEEK_API_KEY",),
        "DEEPSEEK_BASE_URL",
        "https://api.deepseek.com/v1",
        ("deepseek-chat", "deepseek-reasoner"),
        live_models=True,
    ),
    ProviderInfo(
        "xai",
        "xAI Grok",
        "grok",
        "openai",
        ("XAI_API_KEY",),
        "XAI_BASE_URL",
        "https://api.x.ai/v1",
        ("grok-4", "grok-3", "grok-3-mini"),
        live_models=True,
    ),
    ProviderInfo(
        "ollama",
        "Ollama (local models)",
        "ollama/",
        "openai",
        (),
        "OLLAMA_BASE_URL",
        "http://localhost:11434",
        ("ollama/llama3.2", "ollama/qwen2.5", "ollama/mistral"),
        needs_key=False,
        live_models=True,
    ),
    ProviderInfo(
        "openrouter",
        "OpenRouter",
        "openrouter/",
        "openai",
        ("OPENROUTER_API_KEY",),
        "OPENROUTER_BASE_URL",
        "https://openrouter.ai/api/v1",
        ("openrouter/openai/gpt-4o-mini", "openrouter/anthropic/claude-sonnet-4.5"),
        live_models=True,
    ),
    OPENAI,
)
BY_ID = {p.id: p for p in PROVIDERS}
# Longest prefix first, so `claude-cli/` wins over `claude`.
_BY_PREFIX = sorted((p for p in PROVIDERS if p.prefix), key=lambda p: -len(p.prefix))

# OpenAI's reasoning models: max_completion_tokens, no temperature, reasoning_effort.
_REASONING = re.compile(r"^(o\d|gpt-5(?!-chat))")


def provider_for(model: str) -> ProviderInfo:
    lowered = model.lower()
    for provider in _BY_PREFIX:
        if lowered.startswith(provider.prefix):
            return provider
    return OPENAI


def upstream_name(provider: ProviderInfo, model: str) -> str:
    """The name the provider itself knows the model by (`ollama/llama3` → `llama3`)."""
    return model[len(provider.prefix) :] if provider.strips_prefix else model


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING.match(model.lower()))


def secret_names() -> tuple[str, ...]:
    """Every secret a provider reads, plus the Google OAuth client."""
    names = [key for p in PROVIDERS for key in p.env_keys]
    return (*names, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")
