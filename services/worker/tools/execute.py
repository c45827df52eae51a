"""Runs one tool call: validated arguments, its time limit, failures as results, capped output.

Whatever goes wrong (bad arguments, an exception, a timeout) becomes an `ok: false` result the
model can read and react to; it never ends the turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
import pydantic

from services.worker.providers.base import ToolCallRequest
from services.worker.tools.context import ToolContext
from services.worker.tools.registry import Tool, ToolError
from shared import metrics

log = logging.getLogger("aion.worker.tools")

MAX_OUTPUT_CHARS = 16_000  # what the model (and the event) gets of one result


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    ok: bool
    result: Any  # JSON-able; a string for failures
    duration_ms: int

    def for_model(self) -> str:
        """The tool message content: text as is, anything else as JSON."""
        if isinstance(self.result, str):
            return self.result if self.ok else f"Error: {self.result}"
        return orjson.dumps(self.result, default=str).decode()


async def run_tool(tool: Tool | None, call: ToolCallRequest, ctx: ToolContext) -> ToolOutcome:
    started = time.perf_counter()
    ok, result = await _run(tool, call, ctx)
    seconds = time.perf_counter() - started
    # Unknown names come from the model: one label for all of them keeps the series bounded.
    metrics.tool_call(tool.name if tool else "(unknown)", "ok" if ok else "error", seconds)
    return ToolOutcome(ok, _capped(result), int(seconds * 1000))


async def _run(tool: Tool | None, call: ToolCallRequest, ctx: ToolContext) -> tuple[bool, Any]:
    if tool is None:
        return False, f"There is no tool named '{call.name}' (it may be disabled)."
    if call.arguments is None:
        return False, f"The arguments are not a JSON object: {call.raw_arguments[:200]!r}"
    try:
        args = tool.params.model_validate(call.arguments)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        return False, f"Invalid arguments: {problems}"
    try:
        async with asyncio.timeout(tool.timeout):
            return True, await tool.func(ctx, args)
    except TimeoutError:
        return False, f"The tool did not finish within {tool.timeout:g} s and was stopped."
    except ToolError as exc:
        return False, str(exc)
    except Exception as exc:
        log.warning("tool %s failed", tool.name, exc_info=True, extra={"turn_id": ctx.turn_id})
        # An unexpected error's text can hold paths and internals: the log has it, the model
        # and the client get its kind (a ToolError is the way to say something to them).
        return False, f"The tool failed unexpectedly ({type(exc).__name__}); the log has details."


def _capped(result: Any) -> Any:
    """Results past the cap are cut (as text) and say so; small ones pass through unchanged."""
    text = result if isinstance(result, str) else None
    if text is None:
        try:
            text = orjson.dumps(result, default=str).decode()
        except TypeError:
            return f"(result of type {type(result).__name__} could not be shown)"
        if len(text) <= MAX_OUTPUT_CHARS:
            return orjson.loads(text)  # the JSON form, so events and the model see the same
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[… {len(text) - MAX_OUTPUT_CHARS} more characters cut]"
