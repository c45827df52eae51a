"""Canonical (OpenAI-format) messages → an Anthropic Messages request that the API accepts.

History may have been written while another provider was active, or cut short (a cancelled
turn, a worker that died between a tool call and its result), so this also repairs what the
Messages API refuses: roles that do not alternate, tool_use blocks without their tool_result
in the very next user message (results first), results without their call, a first message
that is not the user's, empty text blocks, ids outside `[A-Za-z0-9_-]`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

Block = dict[str, Any]
_BAD_ID = re.compile(r"[^A-Za-z0-9_-]")
_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.I | re.S)
NO_RESULT = "(no result was recorded for this tool call)"
# Prompt caching: a request may carry at most 4 breakpoints; the prefix up to each (tools, then
# system, then messages) is cached for about five minutes and read by a later request that
# starts with it. Thinking blocks cannot carry one.
EPHEMERAL: Block = {"type": "ephemeral"}
_UNMARKABLE = ("thinking", "redacted_thinking")


def tool_id(call_id: str) -> str:
    return _BAD_ID.sub("_", call_id)[:64] or "toolu_missing"


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return "" if content is None else str(content)


def _user_blocks(content: Any) -> list[Block]:
    if not isinstance(content, list):
        text = text_of(content)
        return [{"type": "text", "text": text}] if text.strip() else []
    blocks: list[Block] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and str(part.get("text", "")).strip():
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                blocks.append(_image(url))
    return blocks


def _image(url: str) -> Block:
    match = _DATA_URL.match(url)
    if match:
        source = {"type": "base64", "media_type": match[1].lower(), "data": match[2].strip()}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = orjson.loads(raw or "{}")
    except (orjson.JSONDecodeError, TypeError):
        return {"arguments": str(raw)}
    return value if isinstance(value, dict) else {"arguments": value}


def _assistant_blocks(message: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [
        b for b in message.get("reasoning_blocks") or () if isinstance(b, dict) and b.get("type")
    ]
    text = text_of(message.get("content"))
    if text.strip():
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": tool_id(str(call.get("id") or "")),
                "name": function.get("name") or "unknown",
                "input": _arguments(function.get("arguments")),
            }
        )
    return blocks


def _append(out: list[dict[str, Any]], role: str, blocks: list[Block]) -> None:
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    elif blocks or role == "user":
        out.append({"role": role, "content": blocks})


def translate(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Returns the system prompt and the `messages` of a Messages API request."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text_of(message.get("content")))
        elif role == "assistant":
            _append(out, "assistant", _assistant_blocks(message))
        elif role == "tool":
            result = {
                "type": "tool_result",
                "tool_use_id": tool_id(str(message.get("tool_call_id") or "")),
                "content": text_of(message.get("content")) or "(empty)",
            }
            _append(out, "user", [result])
        else:
            _append(out, "user", _user_blocks(message.get("content")))
    _pair_tool_results(out)
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continued)"}]})
    for message in out:
        if not message["content"]:
            message["content"] = [{"type": "text", "text": "(empty)"}]
    return "\n\n".join(s for s in system if s.strip()), out


def _pair_tool_results(out: list[dict[str, Any]]) -> None:
    """Every tool_use answered first thing in the next user message; stray results as text."""
    index = 0
    while index < len(out):
        message = out[index]
        asked = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
        if message["role"] == "assistant" and asked:
            if index + 1 == len(out) or out[index + 1]["role"] != "user":
                out.insert(index + 1, {"role": "user", "content": []})
            reply = out[index + 1]
            results = {
                b["tool_use_id"]: b
                for b in reply["content"]
                if b["type"] == "tool_result" and b["tool_use_id"] in asked
            }
            rest = [b for b in reply["content"] if not _answers(b, asked)]
            reply["content"] = [
                results.get(i)
                or {"type": "tool_result", "tool_use_id": i, "content": NO_RESULT, "is_error": True}
                for i in asked
            ] + [_as_text(b) for b in rest]
            index += 2
            continue
        if message["role"] == "user":
            message["content"] = [_as_text(b) for b in message["content"]]
        index += 1


def _answers(block: Block, asked: list[str]) -> bool:
    return block["type"] == "tool_result" and block["tool_use_id"] in asked


def _as_text(block: Block) -> Block:
    if block["type"] != "tool_result":
        return block
    return {"type": "text", "text": f"(tool result) {block['content']}"}


def in_tool_loop_without_thinking(out: list[dict[str, Any]]) -> bool:
    """True when the request continues a tool loop whose assistant message carries no thinking
    block: Anthropic refuses thinking then, so the call goes without it."""
    if len(out) < 2 or not any(b["type"] == "tool_result" for b in out[-1]["content"]):
        return False
    first = out[-2]["content"][0] if out[-2]["content"] else {}
    return first.get("type") not in ("thinking", "redacted_thinking")


def mark_history(out: list[dict[str, Any]]) -> None:
    """Cache breakpoints on the conversation (with the system's, three of the four allowed):
    on the message before the last one, where the history ends (the next turn's request
    starts with it), and, in a tool loop, on the last one (the next round's starts with it)."""
    if len(out) >= 2:
        _mark_last_block(out[-2])
    if out and any(b["type"] == "tool_result" for b in out[-1]["content"]):
        _mark_last_block(out[-1])


def _mark_last_block(message: dict[str, Any]) -> None:
    content = message["content"]
    for index in range(len(content) - 1, -1, -1):
        if content[index]["type"] not in _UNMARKABLE:
            content[index] = {**content[index], "cache_control": EPHEMERAL}
            return
