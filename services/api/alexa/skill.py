"""What AION says to each verified Alexa request; a command is a normal chat turn on `alexa`.

A command is queued like any chat message (`turns.start_turn`) and its events are followed the
way every reader follows them (`turns.follow_turn`). Alexa gives up after about 8 s, so when the
turn is not done by the deadline AION says it is still working and stops listening; the worker
finishes the turn regardless and its answer stays in the `alexa` history; the turn is announced
as a background turn for the owner, so the telegram service sends the answer to the owner's
chat when Telegram is set up (shared/telegram.py). A turn that pauses for an approval is asked
and decided as voice.py says: by voice only for a call read out in full, in the same session.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

from services.api import turns
from services.api.alexa import speech, voice
from services.api.alexa.models import AlexaResponse, Envelope, Intent, ResponseBody
from services.api.alexa.replies import ASK_AGAIN, reply, say
from services.api.alexa.voice import AskedApproval
from services.api.context import AppContext
from services.api.schemas.chat import ChatRequest
from shared.approval_words import ALEXA_CHANNEL, decision_word
from shared.events import ApprovalEvent, DoneEvent, ErrorEvent, decode, without_approval
from shared.telegram import BackgroundTurn, announce_background_turn

log = logging.getLogger("aion.api.alexa")

COMMAND_INTENT = "AionCommandIntent"
COMMAND_SLOT = "command"
MAX_COMMAND_CHARS = 32000

WELCOME = "AION here. What can I do for you?"
HELP = (
    "Tell me what you want, as you would type it in a chat with AION. For example: "
    "ask AION to summarise my day. Say stop when you are done."
)
REPROMPT = "What should I ask AION? You can also say help, or stop."
GOODBYE = "Goodbye."
FALLBACK = "Sorry, I did not get that. Say what you want AION to do, or say help."
STILL_WORKING = "AION is still working on that. You will find the answer in AION's Alexa history."
HANDLED_INTENTS = frozenset(
    {
        COMMAND_INTENT,
        "AMAZON.HelpIntent",
        "AMAZON.StopIntent",
        "AMAZON.CancelIntent",
        "AMAZON.FallbackIntent",
        "AMAZON.NavigateHomeIntent",
    }
)


async def answer(ctx: AppContext, envelope: Envelope, deadline: float) -> AlexaResponse:
    """The response to a verified request; `deadline` is the event loop time to answer by."""
    asked = AskedApproval.of(envelope.session)
    response = await _answer(ctx, envelope, asked, deadline)
    if asked is not None and response.sessionAttributes is None:
        # The question was answered or passed over: its id is not kept for a later "yes".
        response = response.model_copy(update={"sessionAttributes": {}})
    return response


async def _answer(
    ctx: AppContext, envelope: Envelope, asked: AskedApproval | None, deadline: float
) -> AlexaResponse:
    request = envelope.request
    if request.type == "LaunchRequest":
        return say(WELCOME, end=False, reprompt=REPROMPT)
    if request.type == "SessionEndedRequest":
        log.info("alexa session ended: %s %s", request.reason, request.error or "")
        return AlexaResponse(response=ResponseBody(shouldEndSession=True))
    if request.type == "IntentRequest" and request.intent is not None:
        # A one-shot "Alexa, ask AION ..." ends with the answer; a conversation opened with
        # "Alexa, open AION" stays open for the next question.
        one_shot = envelope.session is None or envelope.session.new
        return await _intent(ctx, request.intent, one_shot, asked, deadline)
    # Other requests (System.ExceptionEncountered, ...) want no speech.
    log.info("alexa request of type %s answered with an empty response", request.type)
    return AlexaResponse()


async def _intent(
    ctx: AppContext,
    intent: Intent,
    one_shot: bool,
    asked: AskedApproval | None,
    deadline: float,
) -> AlexaResponse:
    if intent.name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        return say(GOODBYE, end=True)  # an approval asked about stays pending
    command = intent.slot(COMMAND_SLOT)[:MAX_COMMAND_CHARS]
    if asked is not None:
        approve = decision_word(command) if intent.name == COMMAND_INTENT else None
        if approve is not None:
            return await _decide(ctx, asked, approve, deadline)
        if intent.name != COMMAND_INTENT or not command:  # help, fallback, nothing heard
            again = voice.ASK_REPROMPT
            return say(again, end=False, reprompt=again, attributes=asked.attributes())
    if intent.name == "AMAZON.HelpIntent":
        return say(HELP, end=False, reprompt=REPROMPT)
    if intent.name != COMMAND_INTENT:  # Fallback, NavigateHome, or an intent we do not know
        return say(FALLBACK, end=False, reprompt=REPROMPT)
    if not command:
        return say(REPROMPT, end=False, reprompt=REPROMPT)
    turn_id = await turns.start_turn(ctx, ChatRequest(message=command, channel=ALEXA_CHANNEL))
    return await _speak_turn(ctx, turn_id, one_shot, deadline)


async def _decide(
    ctx: AppContext, asked: AskedApproval, approve: bool, deadline: float
) -> AlexaResponse:
    """The owner's yes or no to the approval this session asked about, and what follows."""
    turn_id = await voice.decide(ctx, asked, approve)
    if turn_id is None:
        return say(voice.GONE, end=asked.one_shot, reprompt=None if asked.one_shot else ASK_AGAIN)
    return await _speak_turn(ctx, turn_id, asked.one_shot, deadline)


async def _speak_turn(
    ctx: AppContext, turn_id: str, one_shot: bool, deadline: float
) -> AlexaResponse:
    """What the turn said by the deadline: its answer, its approval question, or "still
    working" (the turn then finishes in the background, announced to the owner)."""
    outcome, approval = await _outcome_by(ctx, turn_id, deadline)
    if outcome is None:
        log.info(
            "alexa turn still running at the deadline; it finishes in the background",
            extra={"turn_id": turn_id, "channel": ALEXA_CHANNEL},
        )
        await announce_background_turn(
            ctx.redis, BackgroundTurn(turn_id=turn_id, channel=ALEXA_CHANNEL, to_owner=True)
        )
        return say(STILL_WORKING, end=True)
    if isinstance(outcome, ErrorEvent):
        return say(f"Sorry, AION could not answer: {outcome.message}", end=True)
    text = outcome.full_response.strip()
    if outcome.approval_pending and approval is not None:
        # Alexa reads the call out itself (voice.ask), not the approval's text in the answer.
        text = without_approval(text, approval)
        return await voice.ask(ctx, turn_id, text, approval, one_shot=one_shot)
    ssml, card = speech.spoken(text or "AION has nothing to say to that.")
    return reply(ssml, end=one_shot, reprompt=None if one_shot else ASK_AGAIN, card=card)


async def _outcome_by(
    ctx: AppContext, turn_id: str, deadline: float
) -> tuple[DoneEvent | ErrorEvent | None, ApprovalEvent | None]:
    """The turn's last event if it comes before `deadline`, else None (the turn goes on); and
    the approval it asked for, if any."""
    approval: ApprovalEvent | None = None
    try:
        async with (
            asyncio.timeout_at(deadline),
            aclosing(turns.follow_turn(ctx, turn_id, None)) as events,
        ):
            async for stored in events:
                if stored.type not in ("approval", "done", "error"):
                    continue
                event = decode(stored.data)
                if isinstance(event, ApprovalEvent):
                    approval = event
                elif isinstance(event, DoneEvent | ErrorEvent):
                    return event, approval
    except TimeoutError:
        pass
    return None, approval
