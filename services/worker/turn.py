"""The `run_turn` job: one chat turn from the channel's queue to `done` or `error`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from services.worker import approvals, notify
from services.worker.agent import Agent
from services.worker.agent_state import AgentState
from services.worker.context import RunningTurn, WorkerContext
from services.worker.documents.attach import attach
from services.worker.emitter import TurnEmitter
from services.worker.knowledge import search as knowledge
from services.worker.memory import batching, recall
from services.worker.model_choice import choose_model, fallbacks_for, thinking_for
from services.worker.prompt import build_messages
from services.worker.providers.base import ProviderError
from services.worker.tools import policy
from services.worker.voice import spoken_reply
from shared import metrics
from shared.app_settings import channel_allowed
from shared.db import conversations
from shared.db.conversations import Message
from shared.db.knowledge import Hit
from shared.db.memories import Memory
from shared.db.retry import DatabaseRetry, DatabaseUnavailable
from shared.events import ErrorCode, ErrorEvent
from shared.jobs import ClientMessage, TurnJob
from shared.retry import RedisUnavailable

log = logging.getLogger("aion.worker.turn")


async def run_turn(ctx: dict[str, Any], job: dict[str, Any]) -> str:
    """arq entry point; returns how the turn ended."""
    app: WorkerContext = ctx["aion"]
    turn = TurnJob.model_validate(job)
    running = RunningTurn(turn.turn_id)
    emitter = TurnEmitter(app.bus, turn.turn_id, turn.channel, app.flush_window)
    extra = {"turn_id": turn.turn_id, "channel": turn.channel}
    owns_slot = False
    app.held.add(turn.turn_id)  # its lease is renewed with the heartbeat from the claim on
    # A cancel's flag is in Redis before its broadcast: one broadcast before this line finds
    # the flag set by the claim below (or the channel wait's peeks); one after it marks
    # `running`. So no cancel falls between the two, without another Redis round trip.
    app.running[turn.turn_id] = running
    try:
        slot = await app.bus.claim_and_wait(
            turn.turn_id, turn.channel, app.worker_id, ctx["job_id"], give_up=app.draining
        )
        if slot == "ended":
            # Ended, or handed to a newer job, while this one waited in arq: not ours to touch.
            return "not run"
        owns_slot = True
        if slot == "cancelled" or running.cancelled.is_set():
            await emitter.done(cancelled=True)
            return "cancelled"
        metrics.turn_started()
        outcome = await _converse(app, turn, running, emitter)
        log.info("turn %s", outcome, extra=extra)
        return outcome
    except asyncio.CancelledError:
        # Not the owner's cancel (that one is handled inside): the worker is stopping or
        # the job timed out. Tell the client now rather than after the lease runs out.
        with contextlib.suppress(RedisUnavailable):
            await asyncio.shield(
                emitter.emit(
                    ErrorEvent(
                        message="The turn was interrupted on the server.",
                        code=ErrorCode.INTERRUPTED,
                    )
                )
            )
        raise
    except DatabaseUnavailable:
        log.exception("turn lost PostgreSQL", extra=extra)
        with contextlib.suppress(RedisUnavailable):
            await emitter.emit(
                ErrorEvent(
                    message="PostgreSQL stayed unavailable, so the turn could not go on and its "
                    "answer was not stored; please send your message again.",
                    code=ErrorCode.INTERNAL,
                )
            )
        return "database lost"
    except RedisUnavailable:
        # Redis stayed away for longer than the retry budget: nothing can be said or freed
        # now. The turn's lease lapses, and whoever looks once Redis is back (a relay, the
        # next turn on the channel) ends it with `worker_lost` and frees the channel.
        log.exception("turn lost Redis", extra=extra)
        return "redis lost"
    except Exception:
        log.exception("turn failed", extra=extra)
        with contextlib.suppress(RedisUnavailable):
            await emitter.emit(
                ErrorEvent(message="The turn failed on the server.", code=ErrorCode.INTERNAL)
            )
        return "error"
    finally:
        app.held.discard(turn.turn_id)
        if emitter.ended is not None:
            app.spawn(notify.turn_finished(app, turn, emitter.ended, emitter.text))
        if app.running.get(turn.turn_id) is running:
            del app.running[turn.turn_id]
        # A terminal event frees the channel by itself; without Redis, the lease's lapse does.
        if owns_slot and not emitter.sealed and emitter.lost is None:
            with contextlib.suppress(RedisUnavailable):
                await asyncio.shield(app.bus.release_slot(turn.turn_id, turn.channel))
        app.wake.set()  # a job slot is free: look for queued work now


async def _converse(
    app: WorkerContext, turn: TurnJob, running: RunningTurn, emitter: TurnEmitter
) -> str:
    config = await _patiently(app).run(app.owner_config.get, "load the owner's settings")
    owner_settings = config.owner_settings
    if not channel_allowed(turn.channel, owner_settings.channel_allowlist):
        refusal = f"Channel '{turn.channel}' is not in the owner's channel_allowlist."
        await emitter.emit(ErrorEvent(message=refusal, code=ErrorCode.NOT_ALLOWED))
        return "not allowed"
    continuation = await approvals.continuation_for(app, turn)
    history: list[Message] | list[ClientMessage]
    if continuation is not None:
        conversation_id, history = await _history(
            app, turn.channel, owner_settings.max_history_turns
        )
        state = AgentState.from_json(continuation.approval.state)
        message: str | None = None
        memories: list[Memory] = []
        documents: list[Hit] = []
    else:
        # Recall needs only the message: it looks while the message is stored.
        recalling = asyncio.ensure_future(
            _recall(app, turn.message, documents_too=owner_settings.knowledge_recall)
        )
        try:
            conversation_id, history = await _begin(app, turn, owner_settings.max_history_turns)
        except BaseException:
            recalling.cancel()
            raise
        if turn.conversation is not None:
            # A stateless client sent the whole conversation: that, not the channel's history.
            history = turn.conversation
        model = choose_model(
            turn.model, owner_settings, config.active_model, app.settings.aion_model, turn.message
        )
        state = AgentState(model=model)
        message = turn.message
        memories, documents = await recalling
        if documents:  # the prompt now holds words of a document's author: the turn is tainted
            state.untrusted_from = knowledge.RECALL_SOURCE
        attached = await attach(app, emitter, turn.files)
        if attached.text:
            message = f"{message}\n\n{attached.text}"
            state.untrusted_from = attached.untrusted_from
    await app.mcp.ensure()  # the owner's MCP servers, connected on first need
    tools = policy.offered(app.tools, owner_settings, approvals=turn.approvals).values()
    base = build_messages(
        config.prompts,
        turn.channel,
        history,
        message,
        turn.images,
        tools,
        memories,
        documents=documents,
    )
    agent = Agent(
        app,
        emitter,
        turn_id=turn.turn_id,
        channel=turn.channel,
        thinking=thinking_for(owner_settings, turn.channel),
        fallbacks=fallbacks_for(owner_settings, state.model),
        approvals=turn.approvals,
    )
    running.task = asyncio.create_task(agent.run(base, state, continuation))
    if running.cancelled.is_set():  # cancelled while the turn was being set up
        running.task.cancel()
    try:
        paused = await running.task
    except asyncio.CancelledError:
        if not running.cancelled.is_set():
            raise
        await _finish(app, conversation_id, turn, _cut_short(state, agent))
        await emitter.done(cancelled=True)
        return "cancelled"
    except ProviderError as exc:
        await _finish(app, conversation_id, turn, _cut_short(state, agent))
        await emitter.emit(ErrorEvent(message=exc.message, code=ErrorCode.PROVIDER))
        return "provider_error"
    if paused is not None:
        # What the turn did so far waits in the approval; it is stored once the turn goes on.
        await emitter.done(approval_id=paused.id)
        return "approval pending"
    await _finish(app, conversation_id, turn, state.trace)
    if turn.voice:
        spoken = await spoken_reply(app, turn, emitter.text, emitter)
        if spoken is not None:
            emitter.add_block(spoken)
    await emitter.done()
    await batching.after_turn(app, conversation_id, owner_settings)
    return "done"


def _cut_short(state: AgentState, agent: Agent) -> list[dict[str, Any]]:
    """What to keep of a turn that ended early: its complete tool rounds and any text the
    model had streamed of its last answer."""
    trace = state.complete_trace()
    if agent.partial_text:
        trace.append({"role": "assistant", "content": agent.partial_text})
    return trace


async def _recall(
    app: WorkerContext, message: str, *, documents_too: bool
) -> tuple[list[Memory], list[Hit]]:
    """The memories, and the document passages when the owner wants them, for `message`:
    both looked up at once (neither ever fails a turn)."""
    if not documents_too:
        return await recall.recall(app, message), []
    memories, documents = await asyncio.gather(
        recall.recall(app, message), knowledge.recall(app, message)
    )
    return memories, documents


def _patiently(app: WorkerContext) -> DatabaseRetry:
    """The turn's database steps wait out a PostgreSQL restart (each is safe to repeat)."""
    return DatabaseRetry(app.settings.aion_worker_db_grace_seconds)


async def _begin(app: WorkerContext, turn: TurnJob, user_turns: int) -> tuple[int, list[Message]]:
    """Store the user's message; return the conversation id and the history before it."""

    async def begin() -> tuple[int, list[Message]] | None:
        async with app.pool.connection() as conn:
            for _ in range(3):  # None only when a reset raced the conversation's creation
                started = await conversations.start_exchange(
                    conn, turn.channel, turn.turn_id, turn.message, user_turns
                )
                if started is not None:
                    return started
        return None

    started = await _patiently(app).run(begin, "store the question")
    if started is None:
        raise RuntimeError(f"could not open a conversation on channel {turn.channel!r}")
    return started


async def _history(app: WorkerContext, channel: str, user_turns: int) -> tuple[int, list[Message]]:
    """The open conversation a continued turn goes on in."""

    async def history() -> tuple[int, list[Message]] | None:
        async with app.pool.connection() as conn:
            return await conversations.open_history(conn, channel, user_turns)

    found = await _patiently(app).run(history, "load the history")
    if found is None:  # the owner reset the channel while the approval waited
        raise RuntimeError(f"channel {channel!r} has no open conversation to continue")
    return found


async def _finish(
    app: WorkerContext, conversation_id: int, turn: TurnJob, trace: list[dict[str, Any]]
) -> None:
    """Store what the turn added after the user's message, atomically (an empty answer, a
    model that said nothing, is not a message), once PostgreSQL can take it: one statement
    that stores nothing twice, so it is retried across a restart."""
    said = [m for m in trace if m["role"] != "assistant" or m.get("content") or m.get("tool_calls")]

    async def store() -> None:
        async with app.pool.connection() as conn:
            await conversations.add_turn_messages(conn, conversation_id, turn.turn_id, said)

    await _patiently(app).run(store, "store the answer")
