"""Structured logs: one JSON object per line, with turn id and channel when a record has them."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable

_CONTEXT_FIELDS = ("turn_id", "channel", "worker_id")
# Libraries put Telegram bot tokens into URLs (`/bot<id>:<secret>/getMe`) and log those URLs;
# a token stored through the api is not among the settings below, so the shape is redacted too.
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{3,20}:[A-Za-z0-9_-]{30,100}")
REDACTED = "[redacted]"


class Redactor:
    """Removes known secret values (and anything shaped like a bot token) from log lines."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first: a value that contains another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return _BOT_TOKEN.sub(REDACTED, line)


class _RedactingFormatter(logging.Formatter):
    """Any formatter's output, redacted: what a library logs is covered too."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self._inner = inner
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(self._inner.format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(
    level: str = "INFO", json_lines: bool = True, secrets: Iterable[str] = ()
) -> None:
    """One handler on the root logger; every line it writes has `secrets` removed."""
    handler = logging.StreamHandler(sys.stderr)
    inner = (
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    handler.setFormatter(_RedactingFormatter(inner, Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log request lines or job arguments (user messages) stay quiet.
    for noisy in (
        "httpx",
        "httpx2",
        "httpcore",
        "openai",
        "anthropic",
        "telegram",
        "uvicorn.access",
        "arq.worker",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
