"""Which model, provider and thinking level a call gets, and what the OpenAI adapter sends."""

from __future__ import annotations

from typing import Any

import pytest

from services.worker.model_choice import (
    cheap_model,
    choose_model,
    fallbacks_for,
    task_kind,
    thinking_for,
)
from services.worker.providers.base import ProviderRequest, ThinkingLevel
from services.worker.providers.openai_compat import OpenAICompatibleProvider, chat_messages
from shared.app_settings import AppSettings
from shared.providers import PROVIDERS, is_reasoning_model, provider_for, upstream_name
from shared.vault import SecretNameError, check_name, mask, parse_key


@pytest.mark.parametrize(
    ("model", "provider", "upstream"),
    [
        ("gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("my-vllm-model", "openai", "my-vllm-model"),
        ("o3-mini", "openai", "o3-mini"),
        ("claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        ("claude-cli/sonnet", "claude-cli", "sonnet"),
        ("gemini-2.5-pro", "gemini", "gemini-2.5-pro"),
        ("deepseek-reasoner", "deepseek", "deepseek-reasoner"),
        ("grok-4", "xai", "grok-4"),
        ("ollama/llama3.2:3b", "ollama", "llama3.2:3b"),
        ("openrouter/anthropic/claude-3.5", "openrouter", "anthropic/claude-3.5"),
    ],
)
def test_prefix_picks_the_provider_and_routing_prefixes_are_stripped(
    model: str, provider: str, upstream: str
) -> None:
    info = provider_for(model)
    assert info.id == provider and upstream_name(info, model) == upstream


def test_every_provider_has_a_label_and_static_models() -> None:
    assert len({p.id for p in PROVIDERS}) == len(PROVIDERS) == 8
    assert all(p.label and p.models for p in PROVIDERS)


def test_choose_model_order() -> None:
    plain = AppSettings()
    routed = AppSettings(task_routing={"default": "claude-x", "coding": "o3"})
    assert choose_model("gpt-4.1", routed, "gemini-2.5-pro", "gpt-4o-mini") == "gpt-4.1"
    assert choose_model(None, routed, "gemini-2.5-pro", "gpt-4o-mini") == "claude-x"
    assert choose_model(None, plain, "gemini-2.5-pro", "gpt-4o-mini") == "gemini-2.5-pro"
    assert choose_model(None, plain, None, "gpt-4o-mini") == "gpt-4o-mini"


def test_fallbacks_keep_order_without_the_model_or_repeats() -> None:
    owner_settings = AppSettings(model_fallback=["a", "b", "a", "main", "c"])
    assert fallbacks_for(owner_settings, "main") == ("a", "b", "c")


def test_thinking_overrides_by_channel_pattern() -> None:
    owner_settings = AppSettings(
        thinking_level="standard",
        thinking_overrides={"telegram*": "off", "telegram-vip*": "deep", "web": "minimal"},
    )
    assert thinking_for(owner_settings, "web") == "minimal"
    assert thinking_for(owner_settings, "web2") == "standard"
    assert thinking_for(owner_settings, "telegram-123") == "off"
    assert thinking_for(owner_settings, "telegram-vip-1") == "deep"  # the longer pattern wins


def test_cheap_model() -> None:
    assert cheap_model(AppSettings(check_model=" gpt-4o-mini "), "claude-x") == "gpt-4o-mini"
    assert cheap_model(AppSettings(), "claude-x") == "claude-x"


def body(model: str, thinking: ThinkingLevel, flavor: str = "openai", **options: Any) -> Any:
    adapter = OpenAICompatibleProvider(
        api_key="k", base_url="http://127.0.0.1:9", timeout=1, max_retries=0, flavor=flavor
    )
    messages = [{"role": "user", "content": "hi"}]
    return adapter.build_body(ProviderRequest(model, messages, thinking=thinking, options=options))


def test_reasoning_models_get_completion_tokens_effort_and_no_temperature() -> None:
    sent = body("o3-mini", "deep", temperature=0.2, max_tokens=500)
    assert sent["max_completion_tokens"] == 500 and "max_tokens" not in sent
    assert "temperature" not in sent and sent["reasoning_effort"] == "high"
    assert "reasoning_effort" not in body("o4-mini", "off")
    assert body("gpt-5", "minimal")["reasoning_effort"] == "low"
    plain = body("gpt-4o", "deep", temperature=0.2, max_tokens=500)
    assert plain["temperature"] == 0.2 and plain["max_tokens"] == 500
    assert "reasoning_effort" not in plain
    assert body("gemini-2.5-flash", "standard", flavor="gemini")["reasoning_effort"] == "medium"
    assert "reasoning_effort" not in body("o3", "deep", flavor="ollama")
    assert [
        is_reasoning_model(m) for m in ("o1", "o3-pro", "gpt-5-mini", "gpt-5-chat", "omni")
    ] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_other_providers_reasoning_records_are_not_sent_to_openai() -> None:
    plain = [{"role": "user", "content": "x"}]
    assert chat_messages(plain) is plain  # the hot path copies nothing
    marked = [{"role": "assistant", "content": "", "reasoning_blocks": [{"type": "thinking"}]}]
    assert chat_messages(marked) == [{"role": "assistant", "content": ""}]


def test_key_names_and_masks() -> None:
    for good in ("OPENAI_API_KEY", "MY_PLUGIN_TOKEN", "GOOGLE_CLIENT_ID", "X_Y_SECRET"):
        assert check_name(good) == good
    for bad in ("PATH", "OPENAI_BASE_URL", "AION_SECRET_KEY", "lower_KEY", "KEY", "1ABC_KEY"):
        with pytest.raises(SecretNameError):
            check_name(bad)
    assert mask("sk-1234567890abcdef") == "sk-1…cdef"
    assert mask("short-secret") == "••••••••"


def test_the_vault_key_must_be_a_fernet_key() -> None:
    with pytest.raises(ValueError, match="Fernet key"):
        parse_key("not a key")
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = parse_key(old).encrypt(b"v")
    assert parse_key(f"{new},{old}").decrypt(token) == b"v"  # rotation: old keys still decrypt


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Please review this pull request", "review"),
        ("diff --git a/x.py b/x.py\n+print(1)", "review"),
        ("Why does this raise?\n```python\nx = 1/0\n```", "coding"),
        ("I get a Traceback when I run my script", "coding"),
        ("What is on https://example.com/news today?", "browsing"),
        ("Can you look up the opening hours of the museum", "browsing"),
        ("How are you today?", "default"),
    ],
)
def test_task_kind(message: str, kind: str) -> None:
    assert task_kind(message) == kind


def test_task_routing_picks_the_model_of_the_message_kind() -> None:
    routed = AppSettings(task_routing={"coding": "claude-code-model", "default": "general"})
    code = "Fix this function please: ```def f(): pass```"
    assert choose_model(None, routed, None, "gpt-4o-mini", code) == "claude-code-model"
    # no model set for browsing: the default route
    assert choose_model(None, routed, None, "gpt-4o-mini", "look up https://x.org") == "general"
    assert choose_model("pinned", routed, None, "gpt-4o-mini", code) == "pinned"
