"""The Approve and Deny buttons under an approval: the owner's decision, exactly once."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from services.telegram.api_client import ApiError
from services.telegram.handlers.common import Context, admitted, chat_out, runtime, submit
from services.telegram.present import APPROVE, DENY, notify, present
from shared.events import APPROVAL_ID

log = logging.getLogger("aion.telegram.bot")


async def approval(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or not await admitted(update, context):
        return
    verb, _, approval_id = (query.data or "").partition(":")
    # The id goes into an api path: only the worker's own shape is accepted, never a path.
    if verb not in (APPROVE, DENY) or not APPROVAL_ID.fullmatch(approval_id):
        await query.answer("This button is not one of AION's.")
        return
    approve = verb == APPROVE
    await query.answer("Approved" if approve else "Denied")
    out, api = chat_out(update, context), runtime(context).api
    if query.message is not None:
        try:
            await context.bot.edit_message_reply_markup(
                out.chat_id, query.message.message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("could not take the buttons off the approval: %s", exc)

    async def work() -> None:
        try:
            if approve:
                await notify(out, "✅ Approved.")
                await present(out, api.decide(approval_id, True))
            else:
                async for _ in api.decide(approval_id, False):
                    pass
                await notify(out, "❌ Denied: AION will not do it.")
        except ApiError as exc:
            if exc.status in (404, 409):
                await notify(out, f"That approval can no longer be decided: {exc.detail}")
                return
            raise

    submit(context, out, work)
