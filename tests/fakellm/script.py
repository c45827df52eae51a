"""Turn a chat request into a deterministic reply plan.

The reply is driven only by the last user message, so a test controls the fake
from the same place a real user would type: `[[key=value ...]]` directives.
Pure functions, no I/O: the ASGI layer just executes the resulting `Plan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_GROUP = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_WORD = re.compile(r"\s*\S+\s*")
_INT_KEYS = frozenset({"tokens", "gap", "first", "fail", "drop"})
_FLAG_KEYS = frozenset({"echo_history"})
KNOWN_KEYS = _INT_KEYS | _FLAG_KEYS


class DirectiveError(ValueError):
    """A `[[...]]` group the fake cannot understand (reported as HTTP 400, never ignored)."""


@dataclass(frozen=True, slots=True)
class Directives:
    """What the `[[...]]` groups of the last user message asked for."""

    tokens: int | None = None
    gap_ms: int = 0
    first_ms: int = 0
    fail: int | None = None
    drop: int | None = None
    echo_history: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything needed to answer one request; tokens concatenate to the full reply."""

    tokens: list[str]
    finish_reason: str
    prompt_tokens: int
    gap_s: float
    first_s: float
    fail: int | None
    drop: int | None


def message_text(content: Any) -> str:
    """Text of a message `content`: a string, or the text parts of a content-part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def parse_directives(text: str) -> tuple[Directives, str]:
    """Extract directives; returns them and the text with every `[[...]]` group removed."""
    values: dict[str, Any] = {}
    for group in _GROUP.findall(text):
        for item in group.split():
            key, sep, raw = item.partition("=")
            if key in _FLAG_KEYS and not sep:
                values[key] = True
            elif key in _INT_KEYS and sep and raw.isdigit():
                values[key] = int(raw)
            else:
                known = ", ".join(sorted(KNOWN_KEYS))
                raise DirectiveError(f"bad fakellm directive {item!r} (known: {known})")
    fail = values.get("fail")
    if fail is not None and not 400 <= fail <= 599:
        raise DirectiveError(f"fail={fail}: status must be in 400..599")
    return Directives(
        tokens=values.get("tokens"),
        gap_ms=values.get("gap", 0),
        first_ms=values.get("first", 0),
        fail=fail,
        drop=values.get("drop"),
        echo_history=values.get("echo_history", False),
    ), _GROUP.sub("", text).strip()


def split_words(text: str) -> list[str]:
    """Word-sized tokens keeping their whitespace, so `"".join(...) == text` exactly."""
    words = _WORD.findall(text)
    return words if "".join(words) == text else [text] if text else []


def echo_history(messages: list[Any]) -> str:
    """`role:content | role:content ...` for every message, as received."""
    return " | ".join(
        f"{m.get('role', '?')}:{message_text(m.get('content'))}"
        for m in messages
        if isinstance(m, dict)
    )


def count_prompt_tokens(messages: list[Any]) -> int:
    """Rough prompt size: whitespace-separated words over all messages."""
    return sum(len(message_text(m.get("content")).split()) for m in messages if isinstance(m, dict))


def last_user_text(messages: list[Any]) -> str:
    """Text of the last `role == "user"` message, or "" if there is none."""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return message_text(m.get("content"))
    return ""


def plan_reply(body: dict[str, Any]) -> Plan:
    """Build the reply plan for a (validated) chat request body."""
    messages: list[Any] = body["messages"]
    directives, cleaned = parse_directives(last_user_text(messages))
    if directives.echo_history:
        tokens = split_words(echo_history(messages))
    elif directives.tokens is not None:
        tokens = [f"t{i} " for i in range(directives.tokens)]
    else:
        tokens = split_words(f"You said: {cleaned}")
    finish_reason = "stop"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and 0 < limit < len(tokens):
        tokens, finish_reason = tokens[:limit], "length"
    return Plan(
        tokens=tokens,
        finish_reason=finish_reason,
        prompt_tokens=count_prompt_tokens(messages),
        gap_s=directives.gap_ms / 1000,
        first_s=directives.first_ms / 1000,
        fail=directives.fail,
        drop=directives.drop,
    )
