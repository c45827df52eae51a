"""The owner's `tool_permissions` over each tool's own risk: enforced here, not in the prompt."""

from __future__ import annotations

from services.worker.tools.registry import Tool
from shared.app_settings import AppSettings


def offered(tools: dict[str, Tool], settings: AppSettings) -> dict[str, Tool]:
    """The tools the model may see: `deny` ones are not offered at all."""
    denied = {name for name, policy in settings.tool_permissions.items() if policy == "deny"}
    return {name: tool for name, tool in tools.items() if name not in denied}


def needs_approval(tool: Tool, settings: AppSettings) -> bool:
    policy = settings.tool_permissions.get(tool.name)
    if policy is not None:
        return policy == "ask"
    return tool.risk == "ask"


def may_run_concurrently(tools: list[Tool], settings: AppSettings) -> bool:
    """Calls of one assistant message run at once only when every one is safe and allowed."""
    return all(t.risk == "safe" and not needs_approval(t, settings) for t in tools)
