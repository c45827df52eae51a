"""The agent loop: model call → tool calls → results fed back → … → the final answer.

Each model call sees the tools offered at that moment (a plugin disabled mid-turn is gone from
the next call). Calls of one assistant message run concurrently when all are safe and allowed,
otherwise one by one; a call that needs the owner's approval pauses the turn: what was done so
far is stored with the pending approval, and a later job continues from exactly there. The
owner's decision applies to the call that approval showed, matched by tool and arguments, never
by the provider's call id (an answer whose calls repeat an id is refused: see `call_ids`).
Once a tool that reads untrusted content has run, the turn is tainted (kept in its state, so
across a pause too): tools that send data out or persist then need approval (see `policy`).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from services.worker.agent_state import AgentState, assistant_with_calls
from services.worker.approvals import ApprovalMismatch, Continuation
from services.worker.context import WorkerContext
from services.worker.emitter import TurnEmitter
from services.worker.providers.base import (
    Notice,
    ProviderRequest,
    ReasoningBlock,
    ReasoningDelta,
    TextDelta,
    ThinkingLevel,
    ToolCallRequest,
    Usage,
)
from services.worker.tools import call_ids, policy
from services.worker.tools.context import ToolContext
from services.worker.tools.execute import ToolOutcome, run_tool
from services.worker.tools.registry import Tool
from shared import metrics
from shared.app_settings import AppSettings
from shared.db import approvals as approvals_repo
from shared.events import (
    ApprovalEvent,
    ProgressEvent,
    ThoughtEvent,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    approval_text,
)

REASONING_FLUSH_CHARS = 400  # provider reasoning travels in thoughts of about this size
DECLINED = "The owner declined this action; it was not run."


@dataclass(frozen=True, slots=True)
class PendingApproval:
    id: str


class Agent:
    def __init__(
        self,
        app: WorkerContext,
        emitter: TurnEmitter,
        *,
        turn_id: str,
        channel: str,
        thinking: ThinkingLevel,
        fallbacks: tuple[str, ...],
        approvals: bool = True,
    ) -> None:
        self._app = app
        self._approvals = approvals  # False: nobody can approve; see `policy`
        self._emitter = emitter
        self._turn_id = turn_id
        self._channel = channel
        self._thinking = thinking
        self._fallbacks = fallbacks
        self.partial_text = ""  # text of the model call in flight (for a turn cut short)
        self._cache_key = prompt_cache_key(channel)

    async def run(
        self,
        base: list[dict[str, Any]],
        state: AgentState,
        decision: Continuation | None = None,
    ) -> PendingApproval | None:
        """Run until the model answers without tools, the round limit, or an approval pause
        (returned). `decision` is the owner's on the call the turn paused on."""
        if state.pending:
            paused = await self._resume(state, decision)
            if paused:
                return paused
        while True:
            owner_settings = (await self._app.owner_config.get()).owner_settings
            if state.rounds >= owner_settings.max_tool_iterations:
                await self._round_limit(state, owner_settings.max_tool_iterations)
                return None
            tools = self._offered(owner_settings)
            text, calls, blocks = await self._model_call(base + state.trace, tools, state)
            if not calls:
                state.trace.append({"role": "assistant", "content": text})
                return None
            state.rounds += 1
            repeated = call_ids.repeated_ids(calls)
            if repeated:
                await self._refuse(state, text, call_ids.with_fresh_ids(calls), blocks, repeated)
                continue
            state.trace.append(assistant_with_calls(text, calls, blocks))
            paused = await self._run_calls(state, calls)
            if paused:
                return paused

    async def _model_call(
        self, messages: list[dict[str, Any]], tools: dict[str, Tool], state: AgentState
    ) -> tuple[str, list[ToolCallRequest], list[dict[str, Any]]]:
        # Failover only while nothing of the turn reached the owner and no tool has run.
        untouched = not self._emitter.text and not state.trace
        request = ProviderRequest(
            model=state.model,
            messages=messages,
            tools=[tool.spec for tool in tools.values()],
            thinking=self._thinking,
            fallbacks=self._fallbacks if untouched else (),
            cache_key=self._cache_key,
            read_window=self._emitter.window(),
        )
        parts: list[str] = []
        calls: list[ToolCallRequest] = []
        blocks: list[dict[str, Any]] = []  # the provider's reasoning records, sent back with calls
        reasoning: list[str] = []
        self.partial_text = ""
        async for chunk in self._app.provider.stream(request):
            if isinstance(chunk, ReasoningDelta):
                reasoning.append(chunk.text)
                if sum(map(len, reasoning)) >= REASONING_FLUSH_CHARS:
                    await self._thought("".join(reasoning), "reasoning")
                    reasoning.clear()
                continue
            if reasoning:
                await self._thought("".join(reasoning), "reasoning")
                reasoning.clear()
            if isinstance(chunk, TextDelta):
                parts.append(chunk.text)
                self.partial_text += chunk.text
                await self._emitter.token(chunk.text)
            elif isinstance(chunk, ToolCallRequest):
                calls.append(chunk)
            elif isinstance(chunk, ReasoningBlock):
                blocks.append(chunk.data)
            elif isinstance(chunk, Notice):
                await self._thought(chunk.text, chunk.trigger)
            elif isinstance(chunk, Usage):  # goes out with the next send: no round trip of its own
                self._emitter.hold(
                    UsageEvent(
                        input_tokens=chunk.input_tokens,
                        output_tokens=chunk.output_tokens,
                        cached_input_tokens=chunk.cached_input_tokens,
                    )
                )
        if reasoning:
            await self._thought("".join(reasoning), "reasoning")
        self.partial_text = ""
        return "".join(parts), calls, blocks

    async def _resume(
        self, state: AgentState, decision: Continuation | None
    ) -> PendingApproval | None:
        """Run the call the turn paused on as the owner decided, then the calls after it as
        any others. The decision covers that one call, matched by what was shown."""
        paused_on, rest = state.pending[0], state.pending[1:]
        if decision is None or not decision.covers(paused_on):
            raise ApprovalMismatch(
                f"the turn paused on a call its approval did not show: {paused_on.name}"
            )
        owner_settings = (await self._app.owner_config.get()).owner_settings
        tool = self._offered(owner_settings).get(paused_on.name)
        await self._emit_call(paused_on)
        if decision.approved:
            outcome = await self._run(state, tool, paused_on, owner_settings)
        else:
            outcome = ToolOutcome(False, DECLINED, 0)
            metrics.tool_call(paused_on.name if tool else "(unknown)", "denied", 0.0)
        await self._record(state, paused_on, outcome)
        return await self._run_calls(state, rest)

    async def _run_calls(
        self, state: AgentState, calls: list[ToolCallRequest]
    ) -> PendingApproval | None:
        owner_settings = (await self._app.owner_config.get()).owner_settings
        tools = self._offered(owner_settings)
        known = [tools.get(call.name) for call in calls]
        if all(known) and policy.may_run_concurrently(
            [t for t in known if t is not None], owner_settings, state.untrusted_from
        ):
            await self._run_together(state, calls, tools, owner_settings)
            state.pending = []
            return None
        for index, call in enumerate(calls):
            tool = tools.get(call.name)
            # Checked call by call: a page read by the call before taints this one.
            reason = (
                policy.approval_reason(tool, owner_settings, state.untrusted_from) if tool else None
            )
            if reason is not None and not self._approvals:
                await self._emit_call(call)
                metrics.tool_call(call.name, "denied", 0.0)
                refusal = policy.NO_APPROVALS.format(reason=reason)
                await self._record(state, call, ToolOutcome(False, refusal, 0))
                continue
            if reason is not None:
                state.pending = calls[index:]
                return await self._pause(state, call, reason)
            await self._emit_call(call)
            await self._record(state, call, await self._run(state, tool, call, owner_settings))
        state.pending = []
        return None

    async def _run(
        self,
        state: AgentState,
        tool: Tool | None,
        call: ToolCallRequest,
        owner_settings: AppSettings,
    ) -> ToolOutcome:
        outcome = await run_tool(tool, call, self._tool_context(call, owner_settings))
        _note_untrusted(state, tool)
        return outcome

    async def _refuse(
        self,
        state: AgentState,
        text: str,
        calls: list[ToolCallRequest],
        blocks: list[dict[str, Any]],
        repeated: list[str],
    ) -> None:
        """An answer whose calls share ids: none of them runs (see `call_ids`)."""
        state.trace.append(assistant_with_calls(text, calls, blocks))
        refusal = call_ids.REFUSED.format(ids=", ".join(repr(i) for i in repeated))
        known = self._app.tools
        for call in calls:
            await self._emit_call(call)
            metrics.tool_call(call.name if call.name in known else "(unknown)", "refused", 0.0)
            await self._record(state, call, ToolOutcome(False, refusal, 0))

    async def _run_together(
        self,
        state: AgentState,
        calls: list[ToolCallRequest],
        tools: dict[str, Tool],
        owner_settings: AppSettings,
    ) -> None:
        for call in calls:
            await self._emit_call(call)
        tasks = [
            asyncio.create_task(
                run_tool(tools.get(call.name), call, self._tool_context(call, owner_settings))
            )
            for call in calls
        ]
        try:
            for call, task in zip(calls, tasks, strict=True):
                await self._record(state, call, await task)  # results keep the calls' order
                _note_untrusted(state, tools.get(call.name))
        finally:
            for task in tasks:
                task.cancel()

    async def _pause(
        self, state: AgentState, call: ToolCallRequest, reason: str
    ) -> PendingApproval:
        approval_id = secrets.token_hex(16)
        args = call.arguments or {}
        async with self._app.pool.connection() as conn:
            expires_at = await approvals_repo.create(
                conn,
                approval_id=approval_id,
                turn_id=self._turn_id,
                channel=self._channel,
                tool=call.name,
                args=args,
                call_id=call.call_id,
                state=state.to_json(),
                ttl_seconds=self._app.settings.aion_approval_ttl_seconds,
            )
        shown = orjson.dumps(args).decode()
        message = f"AION wants to run '{call.name}' with {shown[:500]} ({reason}). Approve or deny."
        await self._emitter.emit(
            ApprovalEvent(
                id=approval_id,
                message=message,
                tool=call.name,
                args=args,
                expires_at=expires_at.isoformat(),
                reason=reason,
            )
        )
        # Its question is also said as text, so it reaches `full_response` (the old clients
        # show that); a client that asks with buttons leaves out the text after an approval.
        await self._emitter.token(approval_text(self._emitter.text, message))
        return PendingApproval(approval_id)

    async def _round_limit(self, state: AgentState, limit: int) -> None:
        note = (
            f"I stopped after {limit} rounds of tool calls (the max_tool_iterations setting) "
            "before I had a final answer."
        )
        await self._thought(note, "tool_limit")
        await self._emitter.token(note)
        state.trace.append({"role": "assistant", "content": note})

    def _offered(self, owner_settings: AppSettings) -> dict[str, Tool]:
        return policy.offered(self._app.tools, owner_settings, approvals=self._approvals)

    async def _emit_call(self, call: ToolCallRequest) -> None:
        await self._emitter.emit(
            ToolCallEvent(name=call.name, args=call.arguments or {}, call_id=call.call_id)
        )

    async def _record(self, state: AgentState, call: ToolCallRequest, outcome: ToolOutcome) -> None:
        await self._emitter.emit(
            ToolResultEvent(
                name=call.name,
                call_id=call.call_id,
                result=outcome.result,
                ok=outcome.ok,
                duration_ms=outcome.duration_ms,
            )
        )
        state.trace.append(
            {"role": "tool", "tool_call_id": call.call_id, "content": outcome.for_model()}
        )

    def _tool_context(self, call: ToolCallRequest, owner_settings: AppSettings) -> ToolContext:
        async def progress(percent: float, label: str = "") -> None:
            await self._emitter.emit(
                ProgressEvent(call_id=call.call_id, percent=percent, label=label)
            )

        async def thought(text: str) -> None:
            await self._thought(text, "reflect")

        return ToolContext(
            app=self._app,
            turn_id=self._turn_id,
            channel=self._channel,
            call_id=call.call_id,
            owner_settings=owner_settings,
            progress=progress,
            thought=thought,
            add_block=self._emitter.add_block,
        )

    async def _thought(self, text: str, trigger: str) -> None:
        await self._emitter.emit(ThoughtEvent(text=text, trigger=trigger))


def prompt_cache_key(channel: str) -> str:
    """One key per channel (its requests share their prefix), naming nothing: a hash."""
    return "aion-" + hashlib.sha256(channel.encode()).hexdigest()[:32]


def _note_untrusted(state: AgentState, tool: Tool | None) -> None:
    """A tool that read untrusted content ran: the rest of the turn is tainted (whatever its
    result: even an error may quote the page)."""
    if tool is not None and tool.reads_untrusted and state.untrusted_from is None:
        state.untrusted_from = tool.name
