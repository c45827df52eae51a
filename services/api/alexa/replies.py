"""Building Alexa's responses: speech, an optional reprompt and card, and session attributes."""

from __future__ import annotations

from typing import Any

from services.api.alexa import speech
from services.api.alexa.models import (
    AlexaResponse,
    OutputSpeech,
    Reprompt,
    ResponseBody,
    SimpleCard,
)

CARD_TITLE = "AION"
ASK_AGAIN = "Anything else?"  # the reprompt after an answer in a conversation


def reply(
    ssml: str,
    *,
    end: bool,
    reprompt: str | None = None,
    card: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> AlexaResponse:
    """A response that speaks `ssml`; `reprompt` is plain text (escaped here)."""
    return AlexaResponse(
        sessionAttributes=attributes,
        response=ResponseBody(
            outputSpeech=OutputSpeech(ssml=ssml),
            card=SimpleCard(title=CARD_TITLE, content=card) if card else None,
            reprompt=None
            if reprompt is None
            else Reprompt(outputSpeech=OutputSpeech(ssml=speech.ssml(reprompt))),
            shouldEndSession=end,
        ),
    )


def say(
    text: str,
    *,
    end: bool,
    reprompt: str | None = None,
    card: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> AlexaResponse:
    """A response that speaks plain `text` (escaped here)."""
    return reply(speech.ssml(text), end=end, reprompt=reprompt, card=card, attributes=attributes)
