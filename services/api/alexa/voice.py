"""Approvals on Alexa: a spoken "yes" approves only a call the owner heard in full.

When a turn pauses for an approval whose arguments can be read out (their canonical JSON is at
most MAX_SPOKEN_ARGS_CHARS, and every character is one a voice can say), Alexa reads the tool and
every argument and asks yes or no; the approval id goes into the response's `sessionAttributes`.
Alexa sends those back with the owner's next request in the same session (the request is signed
by Amazon, so nobody else can name an id), and that "yes" or "no" decides exactly that id, the way
POST /api/approvals/{id} does. Arguments that cannot be read out are not decided by voice: Alexa
says where to decide (Telegram or the API), the card shows the whole call, and the
turn is announced to the owner's Telegram chat with its approval buttons. A chat word on the
alexa channel decides nothing (shared/approval_words.py): a "yes" in a later session is a message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.api import approvals
from services.api.alexa import speech
from services.api.alexa.models import AlexaResponse, Session
from services.api.alexa.replies import ASK_AGAIN, say
from services.api.context import AppContext
from services.api.errors import Conflict, NotFound
from shared.approval_words import ALEXA_CHANNEL
from shared.events import APPROVAL_ID, ApprovalEvent
from shared.telegram import BackgroundTurn, announce_background_turn

log = logging.getLogger("aion.api.alexa")

MAX_SPOKEN_ARGS_CHARS = 300  # of the canonical JSON: about twenty seconds of Alexa's voice
SESSION_KEY = "aionApproval"
DECIDED_VIA = "alexa"

ASK = "AION wants to run the tool {tool} with {args}. Shall it go ahead? Say yes or no."
ASK_REPROMPT = "Say yes to let AION run the tool as I read it out, or no to stop it."
ELSEWHERE = (
    "AION needs your approval to run the tool {tool}. Its arguments are too long to read out, "
    "so approve or deny it in Telegram or through AION's API. The card in your Alexa app shows "
    "the whole call."
)
GONE = (
    "That approval is no longer waiting for an answer: it was decided elsewhere, or it expired. "
    "Your answer changed nothing."
)
CARD_CUT = "\n… (cut here: Telegram shows the whole call, as arguments.json)"


class AskedApproval(BaseModel):
    """What the session keeps between the spoken question and the owner's answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=f"^{APPROVAL_ID.pattern}$")
    # Asked in one go ("Alexa, ask AION to ..."): the session ends after the answer.
    one_shot: bool = False

    @classmethod
    def of(cls, session: Session | None) -> AskedApproval | None:
        """The approval this session's last response asked about, if it asked one."""
        raw = (session.attributes or {}).get(SESSION_KEY) if session else None
        if raw is None:
            return None
        try:
            return cls.model_validate(raw)
        except ValidationError:
            log.warning("alexa session attributes name no approval AION asked about; ignored")
            return None

    def attributes(self) -> dict[str, Any]:
        return {SESSION_KEY: self.model_dump()}


def readable_args(tool: str, args: dict[str, Any]) -> str | None:
    """Every argument in words ("text: hello; count: 3"), or None when they cannot all be read
    out: too long, or holding a character a voice cannot say (line breaks, control and
    formatting characters such as bidi overrides)."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(canonical) > MAX_SPOKEN_ARGS_CHARS:
        return None
    words = _fields(args) if args else "no arguments"
    return words if f"{tool} {words}".isprintable() else None


def _fields(mapping: dict[str, Any]) -> str:
    return "; ".join(f"{key}: {_words(value)}" for key, value in mapping.items())


def _words(value: Any) -> str:
    if isinstance(value, str):
        return value or "(empty)"
    if isinstance(value, dict):
        return f"({_fields(value)})" if value else "(empty)"
    if isinstance(value, list):
        return f"({', '.join(_words(item) for item in value)})" if value else "(empty list)"
    return json.dumps(value)  # numbers, true, false, null


def call_card(approval: ApprovalEvent) -> str:
    """The whole call as the owner checks it: tool, reason, every argument, the approval id."""
    reason = f" ({approval.reason})" if approval.reason else ""
    return (
        f"Approval needed: {approval.tool}{reason}\n"
        f"Arguments:\n{json.dumps(approval.args, ensure_ascii=False, indent=1)}\n"
        f"Approval id: {approval.id} (expires {approval.expires_at})"
    )


def _card(answer: str, approval: ApprovalEvent) -> str:
    """The turn's answer, then the call; the call keeps its room when the card is full."""
    call = call_card(approval)
    if len(call) > speech.MAX_CARD_CHARS:
        return speech.fit_card(call, speech.MAX_CARD_CHARS - len(CARD_CUT)) + CARD_CUT
    room = speech.MAX_CARD_CHARS - len(call) - 2
    return f"{speech.fit_card(answer, room)}\n\n{call}" if answer and room > 1 else call


async def ask(
    ctx: AppContext, turn_id: str, answer: str, approval: ApprovalEvent, *, one_shot: bool
) -> AlexaResponse:
    """The response to a turn that paused for `approval`, after saying its `answer` (Markdown)."""
    said = speech.speech_text(answer) if answer else ""
    card = _card(speech.plain_text(answer, spoken=False), approval)
    args = readable_args(approval.tool, approval.args)
    if args is None:
        # Decided where the whole call can be read: the owner's Telegram chat gets the turn.
        await announce_background_turn(
            ctx.redis, BackgroundTurn(turn_id=turn_id, channel=ALEXA_CHANNEL, to_owner=True)
        )
        text = f"{said} {ELSEWHERE.format(tool=approval.tool)}".strip()
        return say(text, end=one_shot, reprompt=None if one_shot else ASK_AGAIN, card=card)
    asked = AskedApproval(id=approval.id, one_shot=one_shot)
    return say(
        f"{said} {ASK.format(tool=approval.tool, args=args)}".strip(),
        end=False,
        reprompt=ASK_REPROMPT,
        card=card,
        attributes=asked.attributes(),
    )


async def decide(ctx: AppContext, asked: AskedApproval, approve: bool) -> str | None:
    """Decide exactly the approval the session asked about, as POST /api/approvals/{id} does;
    returns the id of the turn that continues, or None when it is no longer pending."""
    async with ctx.pool.connection() as conn:
        try:
            return await approvals.decide(ctx, conn, asked.id, approve, via=DECIDED_VIA)
        except (Conflict, NotFound) as exc:
            log.info("an answer on Alexa decided nothing: %s", exc.detail)
            return None
