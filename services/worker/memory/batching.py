"""When automatic memory reads a conversation: several exchanges per model call, not one call
per turn.

A conversation's unread messages are due for extraction once it has been quiet for the owner's
`memory_extract_idle_seconds`, at once after `memory_extract_every_turns` unread owner messages,
at once when the history window (`max_history_turns`) would drop an unread exchange from the
next turn's view, and at once when the owner resets the channel. The bookkeeping lives in
PostgreSQL (shared/db/extraction.py: how far each conversation was read, when it is due, who
holds it), so a worker or Redis restart loses nothing: any worker's cron takes what is due; a
worker that died holding one leaves a lease that lapses.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from services.worker.context import WorkerContext
from services.worker.memory.extract import Exchange, extract
from services.worker.model_choice import cheap_model, choose_model
from services.worker.providers.base import ProviderError
from services.worker.settings import WorkerSettings
from shared.app_settings import AppSettings
from shared.db import extraction as repo
from shared.db.extraction import Claim, Unread

log = logging.getLogger("aion.worker.memory")

LEASE_SECONDS = 300.0  # a claim's hold; renewed after every model call
PAGE = 1000  # messages read from PostgreSQL at a time
MAX_BATCH_CHARS = 40_000  # of exchanges per model call (each message capped, see extract)
PER_RUN = 10  # conversations one cron run takes (the next run, or another worker, goes on)


def due_at_once_from(owner_settings: AppSettings) -> int:
    """Unread owner messages from which extraction runs at once: every N turns, and before
    the next turn's history (the last max_history_turns owner messages, its own included)
    would leave one out; with idle 0, after every turn."""
    if owner_settings.memory_extract_idle_seconds == 0:
        return 1
    return min(owner_settings.memory_extract_every_turns, owner_settings.max_history_turns)


async def after_turn(app: WorkerContext, conversation_id: int, owner_settings: AppSettings) -> None:
    """Note the turn's exchange as unread (or, with memory_auto off, as never to be read);
    start the extraction now when it is due at once. Never raises: memory is not the turn."""
    try:
        async with app.pool.connection() as conn:
            if not owner_settings.memory_auto:
                await repo.skip_unread(conn, conversation_id)
                return
            at_once = await repo.schedule(
                conn, conversation_id, at_once_from=due_at_once_from(owner_settings)
            )
    except Exception:
        log.exception("could not schedule memory extraction")
        return
    if at_once:
        app.spawn(_extract_now(app, conversation_id))


async def _extract_now(app: WorkerContext, conversation_id: int) -> None:
    """In this worker, right after the turn; should it die first, the cron of any worker
    takes the conversation (it is due at once in PostgreSQL)."""
    try:
        await extract_due(app, conversation_id)
    except Exception:
        log.exception("memory extraction failed; the cron tries again")


def extraction_cron(settings: WorkerSettings) -> CronJob:
    return cron(
        extract_due_memories,
        name="cron:extract_memories",
        second=set(range(0, 60, settings.aion_memory_extract_check_seconds)),
        # Every worker runs it: the claims in PostgreSQL, not arq, keep each conversation single.
        unique=False,
        timeout=LEASE_SECONDS,
        max_tries=1,
    )


async def extract_due_memories(ctx: dict[str, Any]) -> int:
    """arq cron entry point: read the conversations that are due; returns how many."""
    app: WorkerContext = ctx["aion"]
    done = 0
    for _ in range(PER_RUN):
        if not await extract_due(app):
            break
        done += 1
    return done


async def extract_due(app: WorkerContext, conversation_id: int | None = None) -> bool:
    """Claim one due conversation (the one given, or the longest waiting) and read what it has
    unread; False when none was due or free."""
    config = await app.owner_config.get()
    owner_settings = config.owner_settings
    async with app.pool.connection() as conn:
        claim = await repo.claim(
            conn,
            idle_seconds=owner_settings.memory_extract_idle_seconds,
            lease_seconds=LEASE_SECONDS,
            conversation_id=conversation_id,
        )
    if claim is None:
        return False
    at_once_from = due_at_once_from(owner_settings)
    if not owner_settings.memory_auto:
        async with app.pool.connection() as conn:
            await repo.release(
                conn, claim.conversation_id, claim.last_id, at_once_from=at_once_from
            )
        return True
    model = cheap_model(
        owner_settings,
        choose_model(None, owner_settings, config.active_model, app.settings.aion_model),
    )
    try:
        await _read(app, claim, owner_settings, model)
    except ProviderError as exc:
        # What was read stays read; the rest waits for the lease to lapse, then is tried again.
        log.warning("memory extraction failed: %s", exc.message)
    except Exception:
        log.exception("memory extraction failed")
    return True


async def _read(app: WorkerContext, claim: Claim, owner_settings: AppSettings, model: str) -> None:
    upto = claim.extracted_upto
    while upto < claim.last_id:
        async with app.pool.connection() as conn:
            rows = await repo.unread(conn, claim, upto, PAGE)
        if not rows:
            break
        # A page may end inside an exchange: the replies after it are read as context-free
        # leftovers next time (replies are never a source of facts on their own).
        for batch in batches(exchanges(rows), owner_settings.memory_extract_every_turns):
            saved = await extract(app, model, claim.channel, batch)
            upto = batch[-1].last_id
            async with app.pool.connection() as conn:
                await repo.advance(conn, claim.conversation_id, upto, LEASE_SECONDS)
            log.info("memory extraction: %d exchanges, %d facts", len(batch), saved)
        upto = max(upto, rows[-1].id)
    async with app.pool.connection() as conn:
        await repo.release(
            conn,
            claim.conversation_id,
            max(upto, claim.last_id),
            at_once_from=due_at_once_from(owner_settings),
        )


def exchanges(rows: list[Unread]) -> list[Exchange]:
    """Owner messages with the replies after them; replies before the first are dropped (their
    owner message was read before)."""
    found: list[Exchange] = []
    for row in rows:
        if row.role == "user":
            found.append(Exchange(row.content, row.turn_id, row.id))
        elif found:
            found[-1].replies.append(row.content)
            found[-1].last_id = row.id
    return found


def batches(found: list[Exchange], most: int) -> list[list[Exchange]]:
    """At most `most` exchanges and about MAX_BATCH_CHARS per model call."""
    out: list[list[Exchange]] = []
    for exchange in found:
        last = out[-1] if out else None
        if (
            last is None
            or len(last) >= most
            or sum(e.chars for e in last) + exchange.chars > MAX_BATCH_CHARS
        ):
            out.append([exchange])
        else:
            last.append(exchange)
    return out
