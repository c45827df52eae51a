"""The provider's tool-call ids: labels of its wire format, never the identity of a call.

An OpenAI-compatible server chooses the ids, so a hostile or buggy one can give two calls of one
answer the same id. Anything keyed by that id (an approval, a result) could then be applied to a
call the owner never saw. The rule here: an answer whose calls do not all have distinct ids is
refused as a whole. None of its calls runs, each gets an `ok: false` result, and the model may
ask again. Refusing only the repeats would still run calls of an answer known to be malformed,
and which of two same-id calls is "the first" is the server's word too; one wasted model round
on a broken server costs less than guessing. The refused calls get fresh ids of ours, so the
trace, the events and the next request stay well-formed.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter

from services.worker.providers.base import ToolCallRequest

REFUSED = (
    "Not run: several tool calls of your answer had the same id ({ids}), so none of them was "
    "run. Ask again, with one id per call."
)


def repeated_ids(calls: list[ToolCallRequest]) -> list[str]:
    """The ids that more than one call of this answer carries (empty when all are distinct)."""
    return [call_id for call_id, n in Counter(c.call_id for c in calls).items() if n > 1]


def with_fresh_ids(calls: list[ToolCallRequest]) -> list[ToolCallRequest]:
    """The same calls, each with a new id of its own."""
    tag = secrets.token_hex(4)
    return [
        dataclasses.replace(call, call_id=f"refused_{tag}_{index}")
        for index, call in enumerate(calls)
    ]
