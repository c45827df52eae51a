"""What the real Messages API refuses, as far as AION's translation could get it wrong."""

from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_BLOCKS = {
    "user": {"text", "image", "tool_result"},
    "assistant": {"text", "tool_use", "thinking", "redacted_thinking"},
}


class Invalid(ValueError):
    pass


def check_request(body: Any) -> None:
    if not isinstance(body, dict):
        raise Invalid("body must be an object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise Invalid("model: Field required")
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        raise Invalid("max_tokens: Field required")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise Invalid("system: Input should be a valid string or list")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: at least one message is required")
    _check_messages(messages)
    _check_thinking(body, messages)
    _check_cache_control(body)
    for tool in body.get("tools") or ():
        if not isinstance(tool.get("input_schema"), dict) or not tool.get("name"):
            raise Invalid("tools: each tool needs a name and an input_schema")


def _check_messages(messages: list[Any]) -> None:
    if messages[0].get("role") != "user":
        raise Invalid('messages: first message must use the "user" role')
    previous_calls: list[str] = []
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in _BLOCKS:
            raise Invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        if index and messages[index - 1].get("role") == role:
            raise Invalid(f"messages.{index}: roles must alternate between user and assistant")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            raise Invalid(f"messages.{index}: content must be non-empty")
        for block in blocks:
            kind = block.get("type")
            if kind not in _BLOCKS[role]:
                raise Invalid(f"messages.{index}: {kind!r} blocks are not allowed in {role}")
            if kind == "text" and not str(block.get("text", "")).strip():
                raise Invalid(f"messages.{index}: text content blocks must be non-empty")
            if kind in ("tool_use", "tool_result"):
                ident = block.get("id") if kind == "tool_use" else block.get("tool_use_id")
                if not isinstance(ident, str) or not _ID.match(ident):
                    raise Invalid(f"messages.{index}: tool id {ident!r} does not match pattern")
            if kind == "tool_use" and not isinstance(block.get("input"), dict):
                raise Invalid(f"messages.{index}: tool_use.input must be an object")
        if role == "user":
            results = [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
            leading = [b.get("tool_use_id") for b in blocks[: len(previous_calls)]]
            if previous_calls and leading != previous_calls:
                raise Invalid(
                    f"messages.{index}: tool_use ids were found without tool_result blocks "
                    "immediately after (each tool_use must have a tool_result, results first)"
                )
            if set(results) - set(previous_calls):
                raise Invalid(f"messages.{index}: unexpected tool_use_id in tool_result blocks")
            previous_calls = []
        else:
            previous_calls = [b["id"] for b in blocks if b.get("type") == "tool_use"]
    if previous_calls:
        raise Invalid("messages: the last tool_use has no tool_result")


def _check_thinking(body: dict[str, Any], messages: list[Any]) -> None:
    thinking = body.get("thinking")
    if not thinking or thinking.get("type") == "disabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024 or budget >= body["max_tokens"]:
        raise Invalid("thinking.budget_tokens: must be >= 1024 and less than max_tokens")
    if body.get("temperature") not in (None, 1, 1.0):
        raise Invalid("temperature may only be set to 1 when thinking is enabled")
    last = messages[-1]["content"]
    in_loop = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
    if in_loop:
        first = messages[-2]["content"][0]
        if first.get("type") not in ("thinking", "redacted_thinking") or not first.get(
            "signature", first.get("data")
        ):
            raise Invalid(
                "messages: with thinking enabled, the assistant message before tool results "
                "must start with a thinking block"
            )


MAX_BREAKPOINTS = 4


def _check_cache_control(body: dict[str, Any]) -> None:
    blocks = list(body.get("tools") or ())
    if isinstance(body.get("system"), list):
        blocks += body["system"]
    for message in body["messages"]:
        if isinstance(message["content"], list):
            blocks += message["content"]
    marked = [b for b in blocks if "cache_control" in b]
    if len(marked) > MAX_BREAKPOINTS:
        raise Invalid(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(marked)}."
        )
    for block in marked:
        control = block["cache_control"]
        if not isinstance(control, dict) or control.get("type") != "ephemeral":
            raise Invalid("cache_control.type: Input should be 'ephemeral'")
        if set(control) - {"type", "ttl"} or control.get("ttl", "5m") not in ("5m", "1h"):
            raise Invalid("cache_control: only `type` and `ttl` ('5m' or '1h') are allowed")
        if block.get("type") in ("thinking", "redacted_thinking"):
            raise Invalid("cache_control cannot be set on thinking blocks")
