"""Log lines never carry a service's secrets, whoever logs them (our code or a library)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from services.api.settings import ApiSettings
from shared.logging import REDACTED, setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], level = saved
    root.setLevel(level)


def _capture() -> io.StringIO:
    """The stream setup_logging's handler writes to, swapped for one the test reads."""
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def test_the_settings_secrets_and_bot_tokens_are_redacted(restore_logging: None) -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = ApiSettings(
        aion_api_token=SecretStr("owner-token-0123456789abcdef0123456789"),
        aion_secret_key=SecretStr(f"{first},{second}"),
        database_url="postgresql://aion_app:db%2Fpass-word-123@postgres:5432/aion",
        redis_url="redis://:redis-pass-word-456@redis:6379/0",
    )
    setup_logging("DEBUG", True, settings.secret_values())
    captured = _capture()
    log = logging.getLogger("some.library")
    log.info("GET http://x/bot7000000001:AAabcdefghijklmnopqrstuvwxyz0123456789/getMe")
    log.warning("token owner-token-0123456789abcdef0123456789 and key %s", second)
    log.error("connecting with db/pass-word-123 and redis-pass-word-456")
    lines = [json.loads(line)["msg"] for line in captured.getvalue().splitlines()]
    assert len(lines) == 3
    for line in lines:
        for secret in ("AAabcdefghij", "owner-token", second, "pass-word"):
            assert secret not in line, line
        assert REDACTED in line
