"""The providers part of the services' environment in tests: every provider's endpoint on a
local fake, a vault key, the Google OAuth client, and the stand-in Claude CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.fakeanthropic import FakeAnthropic
from tests.fakegoogle import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from tests.fakellm import FakeLLM

# Never passed through from the developer's shell: a real key there must not reach a test.
PROVIDER_ENV = (
    "AION_",
    "OPENAI_",
    "ANTHROPIC_",
    "GEMINI_",
    "DEEPSEEK_",
    "XAI_",
    "OLLAMA_",
    "OPENROUTER_",
    "GOOGLE_",
    "CLAUDE_",
)
SECRET_KEY = Fernet.generate_key().decode()
ANTHROPIC_ENV_KEY = "sk-ant-env-0000-aaaa-bbbb-1111"
PUBLIC_URL = "https://aion.example.test"
FAKE_CLAUDE = Path(__file__).resolve().parent / "fakeclaude" / "claude"


def provider_env(
    fake_llm: FakeLLM,
    fake_anthropic: FakeAnthropic,
    fake_google: FakeGoogle,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    return {
        "AION_SECRET_KEY": SECRET_KEY,
        "AION_PUBLIC_URL": PUBLIC_URL,
        "ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        "GEMINI_BASE_URL": fake_llm.base_url,  # Gemini speaks the OpenAI format
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "AION_GOOGLE_TOKEN_URL": fake_google.token_url,
        "AION_CLAUDE_CLI_PATH": str(FAKE_CLAUDE),
        # The CLI's own credentials file is looked for here: none, unless a test writes one.
        "CLAUDE_CONFIG_DIR": str(tmp_path_factory.mktemp("claude-config")),
    }
