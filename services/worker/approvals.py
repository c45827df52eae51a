"""How a turn picks up a paused one: the owner decided its approval through the api (Telegram's
buttons and Alexa do), or by a plain yes/no word as the very next message on the channel, soon
after the question (voice): a word said later may answer something else, so it decides nothing.
On some channels (Alexa) a word never decides: shared/approval_words.py says which and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.worker.context import WorkerContext
from services.worker.providers.base import ToolCallRequest
from shared.approval_words import decision_word, words_decide_on
from shared.db import approvals as repo
from shared.db.approvals import Approval
from shared.jobs import TurnJob


@dataclass(frozen=True, slots=True)
class Continuation:
    """The owner's decision on one stored approval: it covers the call that approval showed,
    and only that call."""

    approval: Approval
    approved: bool

    def covers(self, call: ToolCallRequest) -> bool:
        """Whether `call` is exactly the one shown: same tool, same arguments (compared in a
        canonical form). The provider's call id plays no part: a server may repeat ids."""
        shown = self.approval
        return call.name == shown.tool and canonical(call.arguments or {}) == canonical(shown.args)


class ApprovalMismatch(Exception):
    """The call a paused turn would run is not the one its approval showed (never expected:
    the two are stored together)."""


def canonical(args: dict[str, Any]) -> bytes:
    """One byte form per JSON value: keys sorted, so key order cannot make two calls differ,
    and `true` stays distinct from `1` (which a Python `==` would not keep apart)."""
    return orjson.dumps(args, option=orjson.OPT_SORT_KEYS)


class StaleResume(Exception):
    """The job names an approval that is not decided the way it says (never expected)."""


async def continuation_for(app: WorkerContext, turn: TurnJob) -> Continuation | None:
    """The paused turn this one continues, if any."""
    if turn.resume is not None:
        async with app.pool.connection() as conn:
            approval = await repo.get(conn, turn.resume.approval_id)
        expected = "approved" if turn.resume.approved else "denied"
        if approval is None or approval.status != expected:
            raise StaleResume(f"approval {turn.resume.approval_id} is not {expected}")
        return Continuation(approval, turn.resume.approved)
    approved = decision_word(turn.message) if words_decide_on(turn.channel) else None
    if approved is None:
        return None
    async with app.pool.connection() as conn:
        decided = await repo.decide_by_word(
            conn,
            turn.channel,
            "approved" if approved else "denied",
            window_seconds=app.settings.aion_approval_word_seconds,
        )
    # Nothing it answers (nothing pending, asked too long ago, or something said since):
    # a plain "ok" is an ordinary message.
    return Continuation(decided, approved) if decided is not None else None
