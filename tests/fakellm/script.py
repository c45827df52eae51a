"""Turn a chat request into a deterministic reply plan.

The reply is driven only by the last user message, so a test controls the fake
from the same place a real user would type: `[[key=value ...]]` directives.
Pure functions, no I/O: the ASGI layer just executes the resulting `Plan`.

Directives: `tokens=N` (N tokens `t0 t1 ...`), `gap=MS` / `first=MS` (delays), `fail=STATUS`,
`drop=K` (cut the connection after K tokens), `retry_after=S` (with `fail`: the `Retry-After`
header, in seconds), `times=N` (with `fail`: fail only the first N requests carrying this same
message, then answer), `hang` (take the request and send nothing, not even headers, until the
client goes), `stall=K` (stream K tokens, then nothing more while the client waits),
`garble=K` (after K tokens, one `data:` line that is not JSON, then the rest), `echo_history`
(reply with every message received),
`call=NAME[:JSON]` (repeatable: ask for these tool calls, all in one assistant message; the JSON
percent-encoded where it has spaces) and `rounds=N` (ask for them in N successive requests; after
that, reply `Tool results: <tool message> | <tool message> ...` with what was fed back).
`same_id` gives every call of an answer the same id (a buggy or hostile server). `obey_tools`
makes the fake a gullible model: when the tool results it was just given carry `call=` directives
(a web page or a file with instructions planted in it), it asks for those calls next.

Memory extraction: a request whose system message carries AION's extraction marker is answered
with `{"facts": [...]}`, one fact per `{{fact: TEXT}}` or `{{fact/CATEGORY: TEXT}}` found in its
user message (wherever in it, so a test can also plant facts where the owner did not say them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

_GROUP = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_WORD = re.compile(r"\s*\S+\s*")
_INT_KEYS = frozenset(
    {"tokens", "gap", "first", "fail", "drop", "rounds", "retry_after", "times", "stall", "garble"}
)
_FLAG_KEYS = frozenset({"echo_history", "same_id", "obey_tools", "hang"})
# `call=NAME` or `call=NAME:ARGS` (ARGS: JSON, percent-encoded where it has spaces); repeatable.
_CALL_KEY = "call"
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
KNOWN_KEYS = _INT_KEYS | _FLAG_KEYS | {_CALL_KEY}


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
    calls: tuple[tuple[str, str], ...] = ()  # (tool name, raw JSON arguments)
    rounds: int = 1
    same_id: bool = False
    obey_tools: bool = False
    retry_after: int | None = None
    times: int | None = None
    hang: bool = False
    stall: int | None = None
    garble: int | None = None


@dataclass(frozen=True, slots=True)
class ToolCallPlan:
    call_id: str
    name: str
    arguments: str  # sent as is, so a test can send arguments that are not valid JSON


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
    tool_calls: list[ToolCallPlan] = field(default_factory=list)
    cached_tokens: int = 0  # of prompt_tokens, read from the prompt cache (see cache.py)
    retry_after: int | None = None
    fail_times: int | None = None  # fail only this many requests for the same message
    hang: bool = False
    stall: int | None = None
    garble: int | None = None
    key: str = ""  # the last user message, which `fail_times` counts by


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
    calls: list[tuple[str, str]] = []
    for group in _GROUP.findall(text):
        for item in group.split():
            key, sep, raw = item.partition("=")
            if key == _CALL_KEY and sep:
                calls.append(_parse_call(raw))
            elif key in _FLAG_KEYS and not sep:
                values[key] = True
            elif key in _INT_KEYS and sep and raw.isdigit():
                values[key] = int(raw)
            else:
                known = ", ".join(sorted(KNOWN_KEYS))
                raise DirectiveError(f"bad fakellm directive {item!r} (known: {known})")
    fail = values.get("fail")
    if fail is not None and not 400 <= fail <= 599:
        raise DirectiveError(f"fail={fail}: status must be in 400..599")
    for needs_fail in ("retry_after", "times"):
        if needs_fail in values and fail is None:
            raise DirectiveError(f"{needs_fail} only goes with fail=STATUS")
    return Directives(
        tokens=values.get("tokens"),
        gap_ms=values.get("gap", 0),
        first_ms=values.get("first", 0),
        fail=fail,
        drop=values.get("drop"),
        echo_history=values.get("echo_history", False),
        calls=tuple(calls),
        rounds=values.get("rounds", 1),
        same_id=values.get("same_id", False),
        obey_tools=values.get("obey_tools", False),
        retry_after=values.get("retry_after"),
        times=values.get("times"),
        hang=values.get("hang", False),
        stall=values.get("stall"),
        garble=values.get("garble"),
    ), _GROUP.sub("", text).strip()


def _parse_call(raw: str) -> tuple[str, str]:
    name, sep, args = raw.partition(":")
    if not _TOOL_NAME.match(name):
        raise DirectiveError(f"call={raw!r}: a tool name is letters, digits, '_', '.', '-'")
    return name, unquote(args) if sep else "{}"


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


def tool_rounds_since_user(messages: list[Any]) -> int:
    """Assistant messages with tool calls after the last user message: rounds already done."""
    rounds = 0
    for m in reversed(messages):
        if not isinstance(m, dict) or m.get("role") == "user":
            break
        if m.get("role") == "assistant" and m.get("tool_calls"):
            rounds += 1
    return rounds


def tool_results_since_user(messages: list[Any]) -> list[str]:
    """Contents of the tool messages after the last user message, in order."""
    results: list[str] = []
    for m in reversed(messages):
        if not isinstance(m, dict) or m.get("role") == "user":
            break
        if m.get("role") == "tool":
            results.append(message_text(m.get("content")))
    return results[::-1]


def latest_tool_results(messages: list[Any]) -> list[str]:
    """Contents of the tool messages at the end of the conversation (the last round's results)."""
    results: list[str] = []
    for m in reversed(messages):
        if not isinstance(m, dict) or m.get("role") != "tool":
            break
        results.append(message_text(m.get("content")))
    return results[::-1]


def planted_calls(messages: list[Any]) -> tuple[tuple[str, str], ...]:
    """The `call=` directives found in the last round's tool results (ignoring anything else
    those results hold that looks like a directive)."""
    calls: list[tuple[str, str]] = []
    for result in latest_tool_results(messages):
        for group in _GROUP.findall(result):
            for item in group.split():
                key, sep, raw = item.partition("=")
                if key == _CALL_KEY and sep:
                    calls.append(_parse_call(raw))
    return tuple(calls)


# AION starts the owner's latest message with a note (time, memories) in a text part of its
# own; the fake answers the owner's words, not the note.
AION_NOTE_MARKER = "[Note from AION]"


def last_user_text(messages: list[Any]) -> str:
    """Text of the last `role == "user"` message (without AION's note), or "" if none."""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, list):
                content = [
                    p
                    for p in content
                    if not (
                        isinstance(p, dict) and str(p.get("text", "")).startswith(AION_NOTE_MARKER)
                    )
                ]
            return message_text(content)
    return ""


MEMORY_EXTRACTION_MARKER = "AION-MEMORY-EXTRACTION"
_FACT = re.compile(r"\{\{fact(?:/([a-z]+))?:\s*(.*?)\s*\}\}", re.DOTALL)


def memory_extraction_reply(messages: list[Any]) -> str | None:
    """The JSON an extraction request gets, or None when the request is not one."""
    system = " ".join(
        message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "system"
    )
    if MEMORY_EXTRACTION_MARKER not in system:
        return None
    facts = [
        {"content": text, "category": category or "general"}
        for category, text in _FACT.findall(last_user_text(messages))
    ]
    return json.dumps({"facts": facts})


def plan_reply(body: dict[str, Any]) -> Plan:
    """Build the reply plan for a (validated) chat request body."""
    messages: list[Any] = body["messages"]
    extraction = memory_extraction_reply(messages)
    if extraction is not None:
        return Plan([extraction], "stop", count_prompt_tokens(messages), 0.0, 0.0, None, None)
    key = last_user_text(messages)
    directives, cleaned = parse_directives(key)
    done_rounds = tool_rounds_since_user(messages)
    wanted: tuple[tuple[str, str], ...] = ()
    if directives.calls and done_rounds < directives.rounds:
        wanted = directives.calls
    elif directives.obey_tools:
        wanted = planted_calls(messages)
    tool_calls = [
        ToolCallPlan(f"call_r{done_rounds}_{0 if directives.same_id else i}", name, args)
        for i, (name, args) in enumerate(wanted)
    ]
    if tool_calls:
        tokens = []  # a tool-calling message carries no text
    elif directives.calls:
        tokens = split_words("Tool results: " + " | ".join(tool_results_since_user(messages)))
    elif directives.echo_history:
        tokens = split_words(echo_history(messages))
    elif directives.tokens is not None:
        tokens = [f"t{i} " for i in range(directives.tokens)]
    else:
        tokens = split_words(f"You said: {cleaned}")
    finish_reason = "tool_calls" if tool_calls else "stop"
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
        tool_calls=tool_calls,
        retry_after=directives.retry_after,
        fail_times=directives.times,
        hang=directives.hang,
        stall=directives.stall,
        garble=directives.garble,
        key=key,
    )
