"""What AION says to each verified Alexa request; a command is a normal chat turn on `alexa`.

A command is queued like any chat message (`turns.start_turn`) and its events are followed the
way every reader follows them (`turns.follow_turn`). Alexa gives up after about 8 s, so when the
turn is not done by the deadline AION says it is still working and stops listening; the worker
finishes the turn regardless and its answer stays in the `alexa` history; the turn is announced
as a background turn for the owner, so the telegram service sends the answer to the owner's
chat when Telegram is set up (shared/telegram.py).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

from services.api import turns
from services.api.alexa import speech
from services.api.alexa.models import (
    AlexaResponse,
    Envelope,
    Intent,
    OutputSpeech,
    Reprompt,
    ResponseBody,
    SimpleCard,
)
from services.api.context import AppContext
from services.api.schemas import ChatRequest
from shared.events import ApprovalEvent, DoneEvent, ErrorEvent, decode
from shared.telegram import BackgroundTurn, announce_background_turn

log = logging.getLogger("aion.api.alexa")

ALEXA_CHANNEL = "alexa"
COMMAND_INTENT = "AionCommandIntent"
COMMAND_SLOT = "command"
CARD_TITLE = "AION"
MAX_COMMAND_CHARS = 32000

WELCOME = "AION here. What can I do for you?"
HELP = (
    "Tell me what you want, as you would type it in a chat with AION. For example: "
    "ask AION to summarise my day. Say stop when you are done."
)
REPROMPT = "What should I ask AION? You can also say help, or stop."
GOODBYE = "Goodbye."
FALLBACK = "Sorry, I did not get that. Say what you want AION to do, or say help."
ASK_AGAIN = "Anything else?"
APPROVAL = "AION wants to run the tool {tool}. Shall it go ahead? Say yes or no."
APPROVAL_REPROMPT = "Say yes to let AION go ahead, or no to stop it."
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


def say(
    text: str, *, end: bool, reprompt: str | None = None, card: str | None = None
) -> AlexaResponse:
    """A response that speaks plain `text` (escaped here), optionally with a card and reprompt."""
    return _response(speech.ssml(text), end=end, reprompt=reprompt, card=card)


def _response(ssml: str, *, end: bool, reprompt: str | None, card: str | None) -> AlexaResponse:
    return AlexaResponse(
        response=ResponseBody(
            outputSpeech=OutputSpeech(ssml=ssml),
            card=SimpleCard(title=CARD_TITLE, content=card) if card else None,
            reprompt=None
            if reprompt is None
            else Reprompt(outputSpeech=OutputSpeech(ssml=speech.ssml(reprompt))),
            shouldEndSession=end,
        )
    )


async def answer(ctx: AppContext, envelope: Envelope, deadline: float) -> AlexaResponse:
    """The response to a verified request; `deadline` is the event loop time to answer by."""
    request = envelope.request
    if request.type == "LaunchRequest":
        return say(WELCOME, end=False, reprompt=REPROMPT)
    if request.type == "SessionEndedRequest":
        log.info("alexa session ended: %s %s", request.reason, request.error or "")
        return AlexaResponse(response=ResponseBody(shouldEndSession=True))
    if request.type == "IntentRequest" and request.intent is not None:
        # A one-shot "Alexa, ask AION ..." ends with the answer; a conversation opened with
        # "Alexa, open AION" stays open for the next question.
        in_conversation = envelope.session is not None and not envelope.session.new
        return await _intent(ctx, request.intent, in_conversation, deadline)
    # Other requests (System.ExceptionEncountered, ...) want no speech.
    log.info("alexa request of type %s answered with an empty response", request.type)
    return AlexaResponse()


async def _intent(
    ctx: AppContext, intent: Intent, in_conversation: bool, deadline: float
) -> AlexaResponse:
    if intent.name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        return say(GOODBYE, end=True)
    if intent.name == "AMAZON.HelpIntent":
        return say(HELP, end=False, reprompt=REPROMPT)
    if intent.name != COMMAND_INTENT:  # Fallback, NavigateHome, or an intent we do not know
        return say(FALLBACK, end=False, reprompt=REPROMPT)
    command = intent.slot(COMMAND_SLOT)[:MAX_COMMAND_CHARS]
    if not command:
        return say(REPROMPT, end=False, reprompt=REPROMPT)
    return await _run_command(ctx, command, in_conversation, deadline)


async def _run_command(
    ctx: AppContext, command: str, in_conversation: bool, deadline: float
) -> AlexaResponse:
    turn_id = await turns.start_turn(ctx, ChatRequest(message=command, channel=ALEXA_CHANNEL))
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
        # "yes"/"no" on the channel decides it (the worker's chat words), so the session stays
        # open for the answer.
        ssml, card = speech.spoken(f"{text}\n\n{APPROVAL.format(tool=approval.tool)}".strip())
        card = f"{card}\n\n{approval.message}"
        return _response(ssml, end=False, reprompt=APPROVAL_REPROMPT, card=card)
    ssml, card = speech.spoken(text or "AION has nothing to say to that.")
    reprompt = ASK_AGAIN if in_conversation else None
    return _response(ssml, end=not in_conversation, reprompt=reprompt, card=card)


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
