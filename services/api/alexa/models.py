"""The parts of Alexa's request envelope AION reads, and the response it sends back.

Alexa sends far more than this (device, user, viewport, ...); unknown fields are ignored so a
new field from Amazon never breaks the skill. Read only after the request has been verified.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Application(_In):
    application_id: str = Field(alias="applicationId")


class Session(_In):
    new: bool = False
    session_id: str | None = Field(default=None, alias="sessionId")
    application: Application | None = None
    # What the skill's previous response in this session put in `sessionAttributes`, echoed by
    # Alexa (absent or empty in a new session). Signed with the rest of the request.
    attributes: dict[str, Any] | None = None


class SystemContext(_In):
    application: Application | None = None


class Context(_In):
    system: SystemContext | None = Field(default=None, alias="System")


class Slot(_In):
    name: str
    value: str | None = None


class Intent(_In):
    name: str
    slots: dict[str, Slot] = Field(default_factory=dict)

    def slot(self, name: str) -> str:
        """The slot's spoken value, stripped; "" when Alexa filled nothing in."""
        slot = self.slots.get(name)
        return (slot.value or "").strip() if slot else ""


class AlexaRequest(_In):
    type: str
    request_id: str = Field(alias="requestId", min_length=1, max_length=512)
    timestamp: datetime
    intent: Intent | None = None
    reason: str | None = None  # SessionEndedRequest
    error: dict[str, object] | None = None  # SessionEndedRequest with reason ERROR


class Envelope(_In):
    version: str
    session: Session | None = None
    context: Context | None = None
    request: AlexaRequest

    def application_ids(self) -> list[str]:
        """Every applicationId the envelope carries (session and context may both have one)."""
        apps = [
            self.session.application if self.session else None,
            self.context.system.application if self.context and self.context.system else None,
        ]
        return [app.application_id for app in apps if app is not None]


class _Out(BaseModel):
    """Response parts, named as on Alexa's wire (camelCase)."""


class OutputSpeech(_Out):
    type: Literal["SSML"] = "SSML"
    ssml: str


class Reprompt(_Out):
    outputSpeech: OutputSpeech


class SimpleCard(_Out):
    type: Literal["Simple"] = "Simple"
    title: str
    content: str


class ResponseBody(_Out):
    outputSpeech: OutputSpeech | None = None
    card: SimpleCard | None = None
    reprompt: Reprompt | None = None
    shouldEndSession: bool | None = None


class AlexaResponse(_Out):
    version: Literal["1.0"] = "1.0"
    # Kept by Alexa for the rest of the session and sent back as `session.attributes`; an empty
    # map clears what an earlier response set.
    sessionAttributes: dict[str, Any] | None = None
    response: ResponseBody = Field(default_factory=ResponseBody)
