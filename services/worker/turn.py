"""The `run_turn` job: one chat turn from the channel's queue to `done` or `error`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.worker.context import RunningTurn, WorkerContext
from services.worker.emitter import TurnEmitter
from services.worker.memory import extract, recall
from services.worker.prompt import build_messages
from services.worker.providers.base import ProviderError, ProviderRequest, TextDelta, Usage
from shared.app_settings import channel_allowed
from shared.db import conversations
from shared.db.conversations import Message
from shared.events import ErrorCode, ErrorEvent, UsageEvent
from shared.jobs import TurnJob

log = logging.getLogger("aion.worker.turn")


async def run_turn(ctx: dict[str, Any], job: dict[str, Any]) -> str:
    """arq entry point; returns how the turn ended."""
    app: WorkerContext = ctx["aion"]
    turn = TurnJob.model_validate(job)
    running = RunningTurn(turn.turn_id)
    emitter = TurnEmitter(
        app.bus, turn.turn_id, turn.channel, app.config.aion_token_flush_ms / 1000
    )
    extra = {"turn_id": turn.turn_id, "channel": turn.channel}
    owns_slot = False
    try:
        # While it waits, a cancel reaches the turn through its Redis flag.
        slot = await app.bus.claim_and_wait(
            turn.turn_id, turn.channel, app.worker_id, ctx["job_id"]
        )
        if slot == "ended":
            # Ended, or handed to a newer job, while this one waited in arq: not ours to touch.
            return "not run"
        owns_slot = True
        if slot == "cancelled":
            await emitter.done(cancelled=True)
            return "cancelled"
        app.running[turn.turn_id] = running  # from now on a cancel stops the provider stream
        outcome = await _converse(app, turn, running, emitter)
        log.info("turn %s", outcome, extra=extra)
        return outcome
    except asyncio.CancelledError:
        # Not the owner's cancel (that one is handled inside): the worker is stopping or
        # the job timed out. Tell the client now rather than after the lease runs out.
        await asyncio.shield(
            emitter.emit(
                ErrorEvent(
                    message="The turn was interrupted on the server.", code=ErrorCode.INTERRUPTED
                )
            )
        )
        raise
    except Exception:
        log.exception("turn failed", extra=extra)
        await emitter.emit(
            ErrorEvent(message="The turn failed on the server.", code=ErrorCode.INTERNAL)
        )
        return "error"
    finally:
        if app.running.get(turn.turn_id) is running:
            del app.running[turn.turn_id]
        if owns_slot and not emitter.sealed:  # a terminal event frees the channel by itself
            await asyncio.shield(app.bus.release_slot(turn.turn_id, turn.channel))
        app.wake.set()  # a job slot is free: look for queued work now


async def _converse(
    app: WorkerContext, turn: TurnJob, running: RunningTurn, emitter: TurnEmitter
) -> str:
    stored = await app.settings.get()
    if not channel_allowed(turn.channel, stored.app.channel_allowlist):
        message = f"Channel '{turn.channel}' is not in the owner's channel_allowlist."
        await emitter.emit(ErrorEvent(message=message, code=ErrorCode.NOT_ALLOWED))
        return "not allowed"
    conversation_id, history = await _begin(app, turn, stored.app.max_history_turns)
    model = stored.active_model
    memories = await recall.recall(app, turn.message)
    request = ProviderRequest(
        model=turn.model or model or app.config.aion_model,
        messages=build_messages(
            stored.prompts, turn.channel, history, turn.message, turn.images, memories
        ),
    )
    running.task = asyncio.create_task(_stream_reply(app, request, emitter))
    try:
        await running.task
    except asyncio.CancelledError:
        if not running.cancelled.is_set():
            raise
        await _finish(app, conversation_id, turn, emitter.text)
        await emitter.done(cancelled=True)
        return "cancelled"
    except ProviderError as exc:
        await emitter.emit(ErrorEvent(message=exc.message, code=ErrorCode.PROVIDER))
        return "provider_error"
    await _finish(app, conversation_id, turn, emitter.text)
    await emitter.done()
    await extract.enqueue_after_turn(app, turn, emitter.text, stored.app, request.model)
    return "done"


async def _begin(app: WorkerContext, turn: TurnJob, user_turns: int) -> tuple[int, list[Message]]:
    """Store the user's message; return the conversation id and the history before it."""
    async with app.pool.connection() as conn:
        for _ in range(3):  # None only when a reset raced the conversation's creation
            started = await conversations.start_exchange(
                conn, turn.channel, turn.turn_id, turn.message, user_turns
            )
            if started is not None:
                return started
    raise RuntimeError(f"could not open a conversation on channel {turn.channel!r}")


async def _finish(app: WorkerContext, conversation_id: int, turn: TurnJob, text: str) -> None:
    """Store the assistant's reply (nothing when it said nothing); one atomic statement."""
    if not text:
        return
    async with app.pool.connection() as conn:
        await conversations.add_message(conn, conversation_id, "assistant", text, turn.turn_id)


async def _stream_reply(app: WorkerContext, request: ProviderRequest, emitter: TurnEmitter) -> None:
    async for chunk in app.provider.stream(request):
        if isinstance(chunk, TextDelta):
            await emitter.token(chunk.text)
        elif isinstance(chunk, Usage):
            await emitter.emit(
                UsageEvent(input_tokens=chunk.input_tokens, output_tokens=chunk.output_tokens)
            )
