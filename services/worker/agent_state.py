"""Where a turn stands between model calls: what a pending approval keeps, and the trace in the
providers' message format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from services.worker.providers.base import ToolCallRequest


@dataclass
class AgentState:
    """What a turn added after the user's message, calls still to run, how many tool rounds it
    used, and whether it has read untrusted content. Serialised into a pending approval, so a
    turn continued after the owner's decision goes on exactly as it was (taint included)."""

    trace: list[dict[str, Any]] = field(default_factory=list)
    pending: list[ToolCallRequest] = field(default_factory=list)
    rounds: int = 0
    model: str = ""
    # The first tool of this turn whose output came from outside (a page, a file, a command);
    # from then on the model's choices may be someone else's. None: nothing untrusted read.
    untrusted_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "pending": [
                {
                    "call_id": c.call_id,
                    "name": c.name,
                    "arguments": c.arguments,
                    "raw": c.raw_arguments,
                }
                for c in self.pending
            ],
            "rounds": self.rounds,
            "model": self.model,
            "untrusted_from": self.untrusted_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentState:
        pending = [
            ToolCallRequest(p["call_id"], p["name"], p["arguments"], p.get("raw", ""))
            for p in data.get("pending", [])
        ]
        return cls(
            list(data.get("trace", [])),
            pending,
            int(data.get("rounds", 0)),
            data["model"],
            data.get("untrusted_from"),
        )

    def complete_trace(self) -> list[dict[str, Any]]:
        """The trace without a trailing tool round that has not all its results (a turn that
        stopped half-way): every provider refuses tool calls left unanswered."""
        trace = list(self.trace)
        while trace:
            last_request = max(
                (i for i, m in enumerate(trace) if m.get("tool_calls")), default=None
            )
            if last_request is None:
                break
            asked = {c["id"] for c in trace[last_request]["tool_calls"]}
            answered = {m.get("tool_call_id") for m in trace[last_request + 1 :]}
            if asked <= answered:
                break
            trace = trace[:last_request]
        return trace


def assistant_with_calls(
    text: str, calls: list[ToolCallRequest], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The assistant message that asked for `calls`, as the trace keeps it."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {
                "id": call.call_id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.raw_arguments
                    if call.arguments is None
                    else orjson.dumps(call.arguments).decode(),
                },
            }
            for call in calls
        ],
    }
    if blocks:
        message["reasoning_blocks"] = blocks
    return message
